"""nnreport: the report built from the workflow's results (figures, context, LaTeX and Markdown rendering)."""
