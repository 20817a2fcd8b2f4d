"""One context builder per section of the report's outline (``report/templates/outline.j2``).

Each module builds what its section prints, as plain, format-neutral data: strings made by
:mod:`report.numbers`, booleans for template conditions, and tables as ``{"head", "rows",
"align", "size"}`` whose ``align`` entries are ``"l"``, ``"r"`` or a number (a wrapping column
of that share of the text width: the format's macros turn it into LaTeX's ``p{...}`` or a
Markdown column). :func:`report.context.build_context` calls them in the outline's order.

``summary``      page 1: the answer of each experiment, the 2018 statements as counts, the
                 findings that change the 2018 story, the method, the build's scale
``experiments``  a section per experiment: its question, figure, settings table, findings
``network``      the networks compared, the 2018 protocol, the gradient check
``reproduction`` Appendix A (studies with the 2018 reference): the 2018 numbers and statements
``comparisons``  Appendix B: every comparison, by family
``provenance``   Appendix C: environment, commit, command, data, runs, checks
``changes``      this build against the previous build's record and the published one

A new section is two files: a module here with ``build(inputs) -> dict`` (the context finds
it: :func:`report.context.other_sections`; its part is ``context[module name]``) and its part
of the outline, ``report/templates/outline.j2``.
"""
