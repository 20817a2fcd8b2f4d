"""The report: from the workflow's results to results/report.pdf and report.md.

Code (statistics, figures, the context the templates print, rendering) lives beside the
templates (``templates/``) and the hand-copied 2018 numbers (``reference_2018.yaml``).
"""
