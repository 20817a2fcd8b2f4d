"""The workflow's Python side: the results contract, the experiment plan and the summaries.

``results``      every file under the results folder: paths, CSV columns, figure registry
``experiments``  the config's experiments expanded into variants and runs, checked up front
``summary``      runs -> per-variant summary, tidy curves, the table of all runs
``codehash``     what a rule's code means (its import closure, docstrings and comments aside)

The rules (``workflow/rules/*.smk``) are wiring: they import these modules. The scripts
(``workflow/scripts/*.py``) are the jobs' entry points.
"""
