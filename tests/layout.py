"""Layout checks of a built report (its PDF, its .tex and its figures): what a reader sees.

    python tests/layout.py RESULTS_DIR     # e.g. results/quick: prints every problem found

* every word lies inside the page's text area (the geometry margins of the .tex, a small
  tolerance), page numbers in the foot aside;
* no numbered section heading sits in the last 15% of a page's text area (a heading never
  ends a page away from its content);
* no page before the appendices (the body's last page aside) is more than 35% blank (measured
  on the rendered page: bands of the text area without ink);
* every figure's smallest text (recorded in the PNG by :func:`report.style._save`) measures
  at least 7 pt at the width the .tex prints it, and no text is cut off at a figure's edge;
* no sentence of report.md's prose says the same five words twice (a value from the data
  or the reference file that repeats the template's own words around it).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

PT_PER_CM = 72 / 2.54
TOLERANCE = 2.0  # points, left and right
DESCENT = 4.0  # points: a last line's descenders reach below the text area's bottom
HEADING_ZONE = 0.15  # share of the text height at its foot where no heading may start
MIN_FONT = 7.0


def _margin(tex: str) -> float:
    m = re.search(r"\\usepackage\[margin=([\d.]+)cm\]\{geometry\}", tex)
    if not m:
        raise ValueError("no \\usepackage[margin=...cm]{geometry} in the .tex")
    return float(m.group(1)) * PT_PER_CM


def words(pdf: Path) -> list[dict]:
    """Every word of the PDF with its page, page size and box (points, origin top left)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages, result = re.split(r"<page ", out)[1:], []
    for number, page in enumerate(pages, start=1):
        w, h = (float(x) for x in re.match(r'width="([\d.]+)" height="([\d.]+)"', page).groups())
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                             page):
            x0, y0, x1, y1 = (float(v) for v in m.groups()[:4])
            result.append({"page": number, "width": w, "height": h, "x0": x0, "y0": y0, "x1": x1, "y1": y1,
                           "text": html.unescape(m.group(5))})
    return result


def outside_text_area(ws: list[dict], margin: float) -> list[str]:
    problems = []
    for w in ws:
        left, right, top, bottom = margin, w["width"] - margin, margin, w["height"] - margin
        in_foot = w["y0"] > bottom and w["text"].isdigit()  # the page number
        if in_foot:
            continue
        if w["x0"] < left - TOLERANCE or w["x1"] > right + TOLERANCE or w["y0"] < top - TOLERANCE \
                or w["y1"] > bottom + DESCENT:
            problems.append(f"page {w['page']}: {w['text']!r} at x {w['x0']:.0f}..{w['x1']:.0f}, "
                            f"y {w['y0']:.0f}..{w['y1']:.0f} (text area x {left:.0f}..{right:.0f}, "
                            f"y {top:.0f}..{bottom:.0f})")
    return problems


def lines(ws: list[dict]) -> list[dict]:
    """Words grouped into lines (same page, same baseline within 1 pt), left to right."""
    out: list[dict] = []
    for w in sorted(ws, key=lambda w: (w["page"], round(w["y1"]), w["x0"])):
        if out and out[-1]["page"] == w["page"] and abs(out[-1]["y1"] - w["y1"]) < 1.0:
            out[-1]["text"] += " " + w["text"]
            out[-1]["y0"] = min(out[-1]["y0"], w["y0"])
        else:
            out.append({"page": w["page"], "text": w["text"], "y0": w["y0"], "y1": w["y1"], "height": w["height"]})
    return out


def headings(tex: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"\\(?:sub)?section\{([^{}]*)\}", tex)]


def stranded_headings(ws: list[dict], tex: str, margin: float) -> list[str]:
    """Numbered headings that start in the last 15% of a page's text area, or that have less
    than 3 lines of text (or 20% of the text height of content) after them on their page."""
    titles = headings(tex)
    pattern = re.compile(r"^(?:\d+(?:\.\d+)*|[A-Z]) (" + "|".join(re.escape(t) for t in titles) + r")$")
    problems, all_lines = [], lines(ws)
    for i, line in enumerate(all_lines):
        if not pattern.match(line["text"]):
            continue
        height = line["height"] - 2 * margin
        zone = line["height"] - margin - HEADING_ZONE * height
        after = [x for x in all_lines[i + 1:] if x["page"] == line["page"] and x["y0"] < line["height"] - margin]
        reach = max((x["y1"] for x in after), default=line["y1"]) - line["y1"]
        if line["y1"] > zone:
            problems.append(f"page {line['page']}: heading {line['text']!r} at y {line['y1']:.0f}, in the last "
                            f"{HEADING_ZONE:.0%} of the text area (below {zone:.0f})")
        elif len(after) < 3 and reach < 0.2 * height:
            problems.append(f"page {line['page']}: heading {line['text']!r} is followed by {len(after)} line(s) "
                            f"on its page; its content starts on the next page")
    return problems


def small_figure_text(tex: str, root: Path, margin: float, page_width: float) -> list[str]:
    from PIL import Image

    from report.style import CLIPPED_KEY, MIN_FONT_KEY

    text_width = (page_width - 2 * margin) / 72  # inches
    problems = []
    found = re.findall(r"\\includegraphics\[width=([\d.]+)\\linewidth\]\{([^}]+)\}", tex)
    if not found:
        problems.append("no figure found in the .tex")
    for share, path in found:
        with Image.open(root / path) as im:
            dpi = im.info.get("dpi", (72, 72))[0]
            inches = im.size[0] / dpi
            smallest = im.text.get(MIN_FONT_KEY) if hasattr(im, "text") else None
            clipped = im.text.get(CLIPPED_KEY) if hasattr(im, "text") else None
        if clipped not in (None, "0"):
            problems.append(f"{path}: {clipped} text(s) cut off at the figure's edge")
        if smallest is None:
            problems.append(f"{path}: no {MIN_FONT_KEY!r} recorded in the PNG")
            continue
        printed = float(smallest) * float(share) * text_width / inches
        if printed < MIN_FONT - 1e-6:
            problems.append(f"{path}: smallest text {float(smallest):g} pt in a {inches:.2f} in figure printed "
                            f"{float(share) * text_width:.2f} in wide measures {printed:.1f} pt (< {MIN_FONT:g})")
    return problems


#: The most of a page's text area that may be blank, before the appendices (the last page of the
#: body aside: a section ends where it ends).
MAX_BLANK = 0.35
BAND = 24.0  # points: a band of the text area this high holds some ink unless the page is blank there


def blank_shares(pdf: Path, margin: float) -> list[float]:
    """Per page, the share of the text area's height that is blank: the text area is cut into
    horizontal bands of :data:`BAND` points (about two lines), and a band without a dark pixel
    in the rendered page (25 dpi, the page number in the foot aside) is blank."""
    import tempfile

    import numpy as np
    from PIL import Image

    dpi = 25
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/p"], check=True)
        shares = []
        for png in sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1])):
            with Image.open(png) as im:
                ink = np.asarray(im.convert("L")) < 200
            h, w = ink.shape
            scale = dpi / 72
            top, bottom = int(margin * scale), int(h - margin * scale)
            left, right = int(margin * scale), int(w - margin * scale)
            band = max(1, int(BAND * scale))
            bands = [ink[y:min(y + band, bottom), left:right].any() for y in range(top, bottom, band)]
            shares.append(1 - sum(bands) / len(bands))
    return shares


def appendix_page(ws: list[dict], tex: str) -> int | None:
    """The page the first appendix section starts on (None: no appendix)."""
    after = tex.split("\\appendix", 1)
    if len(after) < 2:
        return None
    m = re.search(r"\\section\{([^{}]*)\}", after[1])
    if not m:
        return None
    title = html.unescape(m.group(1))
    return next((line["page"] for line in lines(ws) if re.fullmatch(r"[A-Z] " + re.escape(title), line["text"])), None)


def blank_pages(pdf: Path, tex: str, ws: list[dict], margin: float) -> list[str]:
    """Pages before the appendices (the body's last page aside) with more than
    :data:`MAX_BLANK` of their text area blank."""
    shares = blank_shares(pdf, margin)
    first = appendix_page(ws, tex) or len(shares) + 1
    return [f"page {i}: {share:.0%} of the text area is blank (at most {MAX_BLANK:.0%} before the appendices)"
            for i, share in enumerate(shares[:first - 2], start=1) if share > MAX_BLANK]


PHRASE = 5  # words


def repeated_phrases(markdown: str) -> list[str]:
    """Sentences of the prose (tables and code spans left out) that contain the same
    ``PHRASE`` words twice, not overlapping."""
    problems = []
    for para in re.split(r"\n\s*\n", markdown):
        if para.lstrip().startswith(("|", "#", "![")):
            continue
        prose = re.sub(r"`[^`]*`", " ", para.replace("\n", " "))
        for sentence in re.split(r"(?<=[.;:])\s+", prose):
            w = re.findall(r"[a-z0-9][a-z0-9.\-]*", sentence.lower())
            first = {}
            for i in range(len(w) - PHRASE + 1):
                gram = tuple(w[i : i + PHRASE])
                if i - first.setdefault(gram, i) >= PHRASE:
                    problems.append(f"report.md: {' '.join(gram)!r} twice in: {sentence.strip()[:160]}")
                    break
    return problems


def check(results: Path) -> list[str]:
    """Every layout problem of the report in ``results`` (report.pdf, report.tex, figures,
    report.md's prose)."""
    tex = (results / "report.tex").read_text(encoding="utf-8")
    margin = _margin(tex)
    ws = words(results / "report.pdf")
    return (outside_text_area(ws, margin) + stranded_headings(ws, tex, margin)
            + blank_pages(results / "report.pdf", tex, ws, margin)
            + small_figure_text(tex, results, margin, ws[0]["width"])
            + repeated_phrases((results / "report.md").read_text(encoding="utf-8")))


if __name__ == "__main__":
    found = check(Path(sys.argv[1]))
    print("\n".join(found) or "no layout problem found")
    sys.exit(1 if found else 0)
