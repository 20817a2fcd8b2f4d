"""How the report's figures look, and how they are saved.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot, no GUI backend, no
global figure registry), under matplotlib's default style (a user's ``matplotlibrc``
cannot change the output), with fixed size and dpi and no PNG metadata (no ``Software``
key, no time): the same inputs give byte-identical PNGs.

``style`` (every plot function): ``None`` or a dict with optional keys ``palette``
(list of ``(name, hex)`` pairs), ``dpi`` (default 150), ``width`` / ``height`` (inches)
and ``font_size`` (points). Any other key raises :class:`ValueError`. Style is cosmetic:
it never changes which data are drawn.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import warnings
from pathlib import Path

import matplotlib
import matplotlib.colors
import matplotlib.style
from matplotlib.figure import Figure

from cnnlib.io import atomic_write_bytes
from report.charset import needs_cjk
from workflow.results import PRINTED_WIDTH

#: Curve colours with plain English names (matplotlib's "tab10"); variant i gets colour i.
#: The 2018 report named its curves blue, orange, green, red, purple in this order.
PALETTE: list[tuple[str, str]] = [
    ("blue", "#1f77b4"),
    ("orange", "#ff7f0e"),
    ("green", "#2ca02c"),
    ("red", "#d62728"),
    ("purple", "#9467bd"),
    ("brown", "#8c564b"),
    ("pink", "#e377c2"),
    ("grey", "#7f7f7f"),
    ("olive", "#bcbd22"),
    ("cyan", "#17becf"),
]

STYLE_KEYS = ("palette", "dpi", "width", "height", "font_size")
DEFAULT_DPI = 150
# Sizes are those the report prints them at (PRINTED_WIDTH: a sweep's two figures side by
# side at 0.49 of the 6.54-inch text width, the others at 0.6-0.8), so that text stays
# >= MIN_PRINTED_FONT in print: DEFAULT_FONT * printed width / figure width. No figure draws
# text smaller than its font size (tick labels, legends and notes use it, titles are larger).
# At the default font that is: sweep_accuracy / sweep_loss 8.7 pt, sweep_seeds 8.2 pt,
# baseline 9.1 pt, lr_trace 7.9 pt, conv1 8.8 pt (4 feature maps: 5 panels wide).
CURVE_SIZE = (5.2, 3.4)  # inches, baseline and learning-rate figures (printed 5.2 / 4.6 in wide)
SWEEP_SIZE = (3.3, 4.0)  # inches, each of a sweep's two figures (printed 3.2 in wide)
SEEDS_SIZE = (4.3, 3.8)  # inches, the final accuracy of every run of a sweep (printed 3.9 in wide)
CONV1_PANEL = 1.0  # inches per panel of the conv1 grid (printed 4.9 in wide)
DEFAULT_FONT = 9.0  # points
TEXT_WIDTH = 6.54  # inches, the LaTeX report's \linewidth
MIN_PRINTED_FONT = 7.0  # points, the smallest text size in print


def printed_font(kind: str, figure_width: float, font_size: float = DEFAULT_FONT) -> float:
    """Points that text of ``font_size`` in a figure ``figure_width`` inches wide measures in
    print, where the report prints figures of ``kind`` at :data:`PRINTED_WIDTH`."""
    return font_size * PRINTED_WIDTH[kind] * TEXT_WIDTH / figure_width


# --------------------------------------------------------------------------- style


def resolve_style(style: dict | None, width: float = CURVE_SIZE[0], height: float = CURVE_SIZE[1]) -> dict:
    """Check ``style`` and fill in defaults. Unknown keys or bad values raise ValueError."""
    style = {} if style is None else style
    if not isinstance(style, dict):
        raise ValueError(f"style must be a dict or None, not {type(style).__name__}")
    for key in style:
        if key not in STYLE_KEYS:
            raise ValueError(f"unknown style key {key!r}; allowed: {', '.join(STYLE_KEYS)}")
    out = {"palette": PALETTE, "dpi": DEFAULT_DPI, "width": width, "height": height, "font_size": DEFAULT_FONT}
    for key in ("dpi", "width", "height", "font_size"):
        if style.get(key) is not None:
            value = style[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"style key {key!r} must be a positive number, got {value!r}")
            out[key] = float(value)
    if style.get("palette") is not None:
        out["palette"] = _check_palette(style["palette"])
    return out


def _check_palette(palette) -> list[tuple[str, str]]:
    out = []
    try:
        pairs = list(palette)
    except TypeError:
        raise ValueError("style key 'palette' must be a list of [name, colour] pairs") from None
    for pair in pairs:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"style key 'palette': each entry must be [name, colour], got {pair!r}")
        name, colour = pair
        if not isinstance(name, str) or not isinstance(colour, str) or not matplotlib.colors.is_color_like(colour):
            raise ValueError(f"style key 'palette': bad entry {pair!r} (need a name and a colour like '#1f77b4')")
        out.append((name, colour))
    if not out:
        raise ValueError("style key 'palette' is empty")
    return out


LINE_STYLES = [("solid", "-"), ("dashed", "--"), ("dotted", ":"), ("dash-dot", "-.")]


def preferred_colour(variant: str, n: int) -> int:
    """Index of ``variant``'s colour in a palette of ``n``: from its name alone (SHA-256)."""
    return int.from_bytes(hashlib.sha256(variant.encode("utf-8")).digest()[:8], "big") % n


def colour_of(variants, palette=PALETTE) -> dict:
    """``{variant: (colour name, hex, (style name, matplotlib line style))}``.

    A variant's colour depends on its name alone, so it keeps its colour when variants are
    added to or removed from its sweep. Variants of one figure that share a colour are told
    apart by line style (solid, dashed, dotted, dash-dot, given in name order); the tables
    name both. Raises ValueError if a colour would need more styles than there are.
    """
    variants = list(variants)
    palette = _check_palette(palette)
    if len(set(variants)) != len(variants):
        raise ValueError(f"repeated variant names in {variants}")
    by_colour: dict[int, list[str]] = {}
    for v in variants:
        by_colour.setdefault(preferred_colour(v, len(palette)), []).append(v)
    out = {}
    for index, names in by_colour.items():
        if len(names) > len(LINE_STYLES):
            raise ValueError(f"{len(names)} variants ({', '.join(names)}) share colour {palette[index][0]}; "
                             f"give a longer palette in style['palette']")
        for style, v in zip(LINE_STYLES, sorted(names)):
            out[v] = (*palette[index], style)
    return {v: out[v] for v in variants}


def colour_label(colour) -> str:
    """What a table prints for a curve: 'blue', or 'blue, dashed' when the style matters."""
    name, _, (style, _) = colour
    return name if style == "solid" else f"{name}, {style}"


class _Render:
    """A figure under matplotlib's default style (+ font size), saved deterministically."""

    def __init__(self, st: dict, layout: str | None = None):
        self.st = st
        self.layout = layout
        self.rc = matplotlib.rc_context()

    def __enter__(self):
        self.rc.__enter__()
        matplotlib.style.use("default")
        if self.st["font_size"]:
            matplotlib.rcParams["font.size"] = self.st["font_size"]
        self.fig = Figure(figsize=(self.st["width"], self.st["height"]), dpi=self.st["dpi"], layout=self.layout)
        return self.fig

    def __exit__(self, *exc):
        return self.rc.__exit__(*exc)


#: PNG text keys: the smallest font size (points) of the text a figure shows, and how many
#: of its texts run past the figure's edge (cut off in the image). The layout check reads them.
MIN_FONT_KEY = "Smallest font size"
CLIPPED_KEY = "Texts past the edge"


def _texts(fig: Figure) -> list:
    """The texts a drawn figure shows: visible, not empty, tick labels only of the ticks
    inside their axis' view (matplotlib keeps, but does not draw, the others)."""
    from matplotlib.text import Text

    texts, hidden = list(fig.findobj(Text)), set()
    for ax in fig.axes:  # tick labels are made when drawn: ask the axes for them
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            eps = 1e-9 * max(1.0, abs(hi - lo))
            for locs, labels in ((axis.get_majorticklocs(), axis.get_majorticklabels()),
                                 (axis.get_minorticklocs(), axis.get_minorticklabels())):
                for loc, label in zip(locs, labels):
                    texts.append(label)
                    if not lo - eps <= loc <= hi + eps:
                        hidden.add(id(label))
    unique = {id(t): t for t in texts if id(t) not in hidden}
    return [t for t in unique.values() if t.get_visible() and t.get_text().strip()]


def smallest_font(fig: Figure) -> float:
    """The smallest size, in points at the figure's own size, of any visible, non-empty text."""
    sizes = [t.get_fontsize() for t in _texts(fig)]
    return min(sizes) if sizes else float("inf")


def clipped_texts(fig: Figure) -> list[str]:
    """The visible texts that reach past the figure's edge by more than a pixel (drawn first)."""
    box = fig.bbox
    out = []
    for t in _texts(fig):
        e = t.get_window_extent()
        if e.x0 < box.x0 - 1 or e.y0 < box.y0 - 1 or e.x1 > box.x1 + 1 or e.y1 > box.y1 + 1:
            out.append(t.get_text())
    return out


#: the PDF's CJK font (report.charset) as TrueType, for figure texts with CJK characters (a Chinese
#: experiment title); Debian: fonts-arphic-gbsn00lp
CJK_FONT_FILE = "gbsn00lp.ttf"


@functools.cache
def cjk_families() -> list[str] | None:
    """The fonts of a figure text with CJK characters: matplotlib's default, then the CJK font
    for the characters the default lacks. The CJK font is found among the system fonts and
    registered (matplotlib's font cache may be older than its install); None without it."""
    from matplotlib import font_manager

    files = sorted(f for f in font_manager.findSystemFonts() if Path(f).name == CJK_FONT_FILE)
    if not files:
        return None
    font_manager.fontManager.addfont(files[0])
    # DejaVu Sans: the font of matplotlib's default style, which every figure uses (_Render)
    return ["DejaVu Sans", font_manager.FontProperties(fname=files[0]).get_name()]


def _cjk_fonts(fig: Figure) -> None:
    """Texts with CJK characters fall back to the CJK font for them (:func:`cjk_families`); the
    others keep their font, so a figure without such text is byte for byte what it was."""
    from matplotlib.text import Text

    texts = [t for t in fig.findobj(Text) if needs_cjk(t.get_text())]
    if not texts:
        return
    families = cjk_families()
    if families is None:
        warnings.warn(f"no font {CJK_FONT_FILE} for the CJK text of a figure (Debian: fonts-arphic-gbsn00lp)")
        return
    for t in texts:
        t.set_fontfamily(families)


def _save(fig: Figure, png, dpi: float) -> Path:
    """Save as PNG, byte-identical for the same figure; the smallest font size and the number
    of texts cut off at the edge go into the PNG's text chunks (:data:`MIN_FONT_KEY`,
    :data:`CLIPPED_KEY`) so that the report's layout check can read them."""
    buf = io.BytesIO()
    _cjk_fonts(fig)
    fig.draw_without_rendering()  # lays the figure out: tick labels and positions as saved
    size = smallest_font(fig)
    clipped = len(clipped_texts(fig))
    fig.savefig(buf, format="png", dpi=dpi,
                metadata={"Software": None, MIN_FONT_KEY: f"{size:g}", CLIPPED_KEY: str(clipped)})
    fig.clear()
    return atomic_write_bytes(png, buf.getvalue())


