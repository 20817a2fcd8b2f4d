"""Jinja2 rendering for LaTeX and Markdown, and the PDF build.

Both formats are rendered from one outline (``templates/outline.j2``) with LaTeX-safe
delimiters (as nbconvert's LaTeX templates): ``((* block *))``, ``((( variable )))``,
``((= comment =))``. Each format has its macros (``templates/{tex,md}/macros.j2``) and a
child template that fills the few format-specific blocks. Both environments use
``StrictUndefined`` (a missing variable fails the build) and escape every value they
print, once, at output time (``finalize``). Numbers are formatted in Python before they reach a
template. A value that is already markup (a LaTeX formula, a code listing) is wrapped
in :class:`Raw` by the Python side and printed as is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import jinja2
import markupsafe

from report.charset import CJK_FONT, CJK_RUN, needs_cjk


class Raw(markupsafe.Markup):
    """Text that is already valid markup for the target format: printed without escaping."""


_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "%": r"\%",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX))
_MD_RE = re.compile(r"([\\`*_\[\]|<>#])")


def latex_escape(text) -> str:
    """Escape every LaTeX special character in one pass: the text prints literally (two hyphens
    too, not an en dash). Each run of
    CJK characters goes into ``\\cjk{...}``, the CJK font (the preamble defines it when the
    context has CJK text: :func:`render`)."""
    escaped = _LATEX_RE.sub(lambda m: _LATEX[m.group(0)], str(text))
    # "--" would print as an en dash (a T1 ligature): "--cores" stays two hyphens
    escaped = escaped.replace("--", "-{}-").replace("--", "-{}-")
    return CJK_RUN.sub(lambda m: r"\cjk{" + m.group(0) + "}", escaped)


def markdown_escape(text) -> str:
    """Backslash-escape Markdown's special characters (table pipes included)."""
    return _MD_RE.sub(r"\\\1", str(text))


_SOFT_BREAK_AFTER = "/=,:"


def latex_verbatim(text) -> str:
    """A line of code (a command, a path) as a typewriter paragraph that fits the page.

    Escaped once, character by character; a line may break at a space or after ``/ = , :``,
    and between any two other characters only when a token is longer than a line (penalty).
    """
    text = str(text)
    out = []
    for i, c in enumerate(text):
        out.append(latex_escape(c))
        following = text[i + 1] if i + 1 < len(text) else " "
        if c == " " or following == " ":
            continue
        out.append(r"\allowbreak{}" if c in _SOFT_BREAK_AFTER else r"\penalty1000\hskip0pt{}")
    return r"\begin{flushleft}\ttfamily\small " + "".join(out) + r"\end{flushleft}"


def markdown_verbatim(text) -> str:
    """A line of code as a fenced block, its fence longer than any run of backticks in it."""
    text = str(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


ESCAPE = {"tex": latex_escape, "md": markdown_escape}
VERBATIM = {"tex": latex_verbatim, "md": markdown_verbatim}
TEMPLATE = {"tex": "report.tex.j2", "md": "report.md.j2"}


def _finalizer(escape):
    def finalize(value):
        if isinstance(value, markupsafe.Markup):  # Raw, or what a macro made
            return value
        if isinstance(value, bool) or value is None:
            raise TypeError(f"refusing to print {value!r} in the report: format it in Python first")
        if isinstance(value, float):
            raise TypeError(f"unformatted number {value!r} in a template: format numbers in Python")
        return markupsafe.Markup(escape(value))

    return finalize


def environment(template_dir: str | os.PathLike, fmt: str) -> jinja2.Environment:
    """The Jinja environment of one output format (``"tex"`` or ``"md"``).

    Both formats share one outline (``outline.j2``) and so one syntax: LaTeX-safe
    delimiters ``((* block *))``, ``((( variable )))``, ``((= comment =))``. Each printed value
    is escaped once for ``fmt`` (``finalize``); what a macro returns is markup already and is
    not escaped again. ``fmt`` is a global the outline uses to import ``{fmt}/macros.j2``.
    """
    if fmt not in ESCAPE:
        raise ValueError(f"unknown report format {fmt!r}; known: {', '.join(ESCAPE)}")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        finalize=_finalizer(ESCAPE[fmt]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # "autoescape" only so that macro results are markup (never escaped twice); the
        # escaping itself is ``finalize``'s, for the format
        autoescape=True,
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((=", comment_end_string="=))",
    )
    env.filters["raw"] = Raw  # ``value | raw``: already markup, printed as is
    env.filters["verbatim"] = lambda value: markupsafe.Markup(VERBATIM[fmt](value))
    env.filters["escape_for"] = lambda value: markupsafe.Markup(ESCAPE[fmt](value))
    env.globals["fmt"] = fmt
    return env


def latex_environment(template_dir: str | os.PathLike) -> jinja2.Environment:
    return environment(template_dir, "tex")


def markdown_environment(template_dir: str | os.PathLike) -> jinja2.Environment:
    return environment(template_dir, "md")


def _strings(value):
    """Every string in a context (keys too), however nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def render(env: jinja2.Environment, template: str, context: dict) -> str:
    """Fill ``template`` from ``context``, plus ``cjk_font``: the CJK font family when some text of
    the context needs it (a Chinese title), else None. The LaTeX preamble loads CJKutf8 only then:
    a report without CJK text is byte for byte what it was, and needs no CJK fonts installed."""
    cjk_font = CJK_FONT if any(needs_cjk(s) for s in _strings(context)) else None
    return env.get_template(template).render(**{**context, "cjk_font": cjk_font})


class LatexError(RuntimeError):
    """pdflatex failed; the message holds the relevant lines of its log."""


def latex_errors(log_text: str, context_lines: int = 3, limit: int = 3) -> str:
    """The few lines of a LaTeX log that say what went wrong (``!`` lines and what follows)."""
    lines = log_text.splitlines()
    picked = []
    for i, line in enumerate(lines):
        if line.startswith("!"):
            picked.append("\n".join(lines[i : i + 1 + context_lines]).rstrip())
            if len(picked) >= limit:
                break
    if not picked:
        picked = [line for line in lines if "Error" in line][:limit] or lines[-5:]
    return "\n".join(picked)


def find_pdflatex() -> str | None:
    return shutil.which("pdflatex")


TEX_HELP = (
    "The PDF needs TeX Live (pdflatex). Debian/Ubuntu: apt-get install --no-install-recommends "
    "texlive-latex-recommended texlive-latex-extra (Chinese titles: also latex-cjk-common "
    "latex-cjk-chinese-arphic-gbsn00lp); Fedora: dnf install texlive-scheme-medium; "
    "macOS: install MacTeX (or BasicTeX, then tlmgr install booktabs listings). "
    "results/report.md has the same report without TeX."
)

#: pdflatex passes before giving up on cross-references that keep changing (a report needs 2-3)
MAX_PASSES = 5


def _aux_digest(folder) -> str:
    import hashlib

    h = hashlib.sha256()
    for path in sorted(Path(folder).iterdir()):
        if path.suffix in (".aux", ".toc", ".lof", ".lot", ".out"):
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def build_pdf(tex_file: str | os.PathLike, pdf_out: str | os.PathLike, source_date_epoch: int,
              workdir: str | os.PathLike | None = None) -> Path:
    """Compile ``tex_file`` with pdflatex (no shell escape, no reading outside the tree) and
    write the PDF to ``pdf_out`` atomically. Raises :class:`LatexError`.

    Passes run until one leaves the auxiliary files (.aux, .toc, .out, ...) as it found them:
    then every page number and reference that pass printed is the final one, and the same
    input always gives the same PDF (latexmk decides the same way, but could stop a pass early
    when a file changed within the same second). Those passes run in pdflatex's draft mode
    (the same typesetting and auxiliary files, no PDF written, no images embedded: 5x
    faster); one more pass, which finds the auxiliary files settled, writes the PDF.
    """
    pdflatex = find_pdflatex()
    if pdflatex is None:
        raise LatexError("no TeX engine found (pdflatex). " + TEX_HELP)
    tex_file = Path(tex_file).resolve()
    pdf_out = Path(pdf_out)
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": str(int(source_date_epoch)),
        "FORCE_SOURCE_DATE": "1",
        "openin_any": "p",  # paranoid: no reading of files outside the working tree
        "openout_any": "p",
        "TZ": "UTC",
    }
    with tempfile.TemporaryDirectory(prefix="latex-", dir=workdir) as build:
        cmd = [pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
               f"-output-directory={build}", tex_file.name]
        log = Path(build) / (tex_file.stem + ".log")

        def latex_pass(*options) -> str:
            """One pdflatex pass; the digest of the auxiliary files it leaves."""
            r = subprocess.run([*cmd[:1], *options, *cmd[1:]], cwd=tex_file.parent, env=env, capture_output=True,
                               text=True)
            if r.returncode != 0:
                text = log.read_text(errors="replace") if log.exists() else r.stdout + r.stderr
                details = latex_errors(text) or f"(it exited with status {r.returncode} and said nothing)"
                raise LatexError(f"pdflatex failed on {tex_file.name}:\n{details}")
            return _aux_digest(build)

        digest = None
        for _ in range(MAX_PASSES):
            digest, before = latex_pass("-draftmode"), digest
            if digest == before:
                break
        else:
            raise LatexError(f"pdflatex: the cross-references of {tex_file.name} still changed after "
                             f"{MAX_PASSES} passes")
        if latex_pass() != digest:  # typeset as the draft passes did: nothing may move
            raise LatexError(f"pdflatex: the cross-references of {tex_file.name} changed in the pass that "
                             "writes the PDF")
        from cnnlib.io import atomic_write_bytes

        atomic_write_bytes(pdf_out, (Path(build) / (tex_file.stem + ".pdf")).read_bytes())
    return pdf_out
