"""How the report's figures look, and how they are saved.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot, no GUI backend, no
global figure registry), under matplotlib's default style (a user's ``matplotlibrc``
cannot change the output), with fixed size and dpi and no PNG metadata (no ``Software``
key, no time): the same inputs give byte-identical PNGs.

``style`` (every plot function): ``None`` or a dict with optional keys ``palette``
(a list of colours, replacing :data:`PALETTE`), ``dpi`` (default 150), ``width`` / ``height`` (inches)
and ``font_size`` (points). Any other key raises :class:`ValueError`. Style is cosmetic:
it never changes which data are drawn.
"""

from __future__ import annotations

import functools
import io
import math
import warnings
from collections import namedtuple
from pathlib import Path

import matplotlib
import matplotlib.colors
import matplotlib.style
from matplotlib.figure import Figure

from cnnlib.io import atomic_write_bytes
from report.charset import needs_cjk
from cnnlib.results import PRINTED_WIDTH

#: The colours of a figure's variants, in order: the Okabe-Ito palette (Okabe & Ito 2008,
#: "Color Universal Design"), told apart with every common colour-vision deficiency, ordered
#: so that the first colours are the most distinct on white (yellow, faint on white, last).
#: Variant i of an experiment's variant list gets colour i (:func:`variant_looks`).
PALETTE: list[str] = [
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
]
#: Colours for the variants past the palette (Paul Tol's "muted" scheme, minus the ones close
#: to an Okabe-Ito colour or to the grey of other experiments' runs); drawn with other line
#: styles and markers (:data:`LOOK_ROUNDS`), so that they differ in more than the hue.
EXTRA_COLOURS: list[str] = ["#882255", "#332288", "#999933", "#117733", "#44AA99", "#AA4499", "#661100", "#6699CC"]
#: What tables call each colour (:func:`colour_name`).
COLOUR_NAMES = {
    "#0072B2": "blue", "#D55E00": "vermillion", "#009E73": "bluish green", "#CC79A7": "reddish purple",
    "#E69F00": "orange", "#56B4E9": "sky blue", "#000000": "black", "#F0E442": "yellow",
    "#882255": "wine", "#332288": "indigo", "#999933": "olive", "#117733": "green", "#44AA99": "teal",
    "#AA4499": "purple", "#661100": "brown", "#6699CC": "steel blue",
}
#: The runs of other experiments drawn in a figure (free points): not a variant colour.
OTHER_COLOUR = "#8C8C8C"

STYLE_KEYS = ("palette", "dpi", "width", "height", "font_size")
DEFAULT_DPI = 150
# Sizes are those the report prints them at (PRINTED_WIDTH: an experiment's figure at the full
# 6.54-inch text width, the seeds figure at 0.6, conv1 at 0.75), so that text stays
# >= MIN_PRINTED_FONT in print: DEFAULT_FONT * printed width / figure width. No figure draws
# text smaller than its font size (tick labels, legends and notes use it, titles are larger).
# At the default fonts that is: experiment 8 pt (EXPERIMENT_FONT: four panels and their legend
# at the text width), sweep_seeds 8.2 pt, conv1 8.8 pt (4 feature maps: 5 panels wide).
CURVE_SIZE = (5.2, 3.4)  # inches, the default size of a figure
EXPERIMENT_SIZE = (6.54, 4.6)  # inches, an experiment's 2 x 2 figure (printed at the text width)
SEEDS_SIZE = (4.3, 3.8)  # inches, the final accuracy of every run of a sweep (printed 3.9 in wide)
CONV1_PANEL = 1.0  # inches per panel of the conv1 grid (printed 4.9 in wide)
DEFAULT_FONT = 9.0  # points
EXPERIMENT_FONT = 8.0  # points, an experiment's figure (unless style['font_size'] says otherwise)
TEXT_WIDTH = 6.54  # inches, the LaTeX report's \linewidth
MIN_PRINTED_FONT = 7.0  # points, the smallest text size in print


def printed_font(kind: str, figure_width: float, font_size: float = DEFAULT_FONT) -> float:
    """Points that text of ``font_size`` in a figure ``figure_width`` inches wide measures in
    print, where the report prints figures of ``kind`` at :data:`PRINTED_WIDTH`."""
    return font_size * PRINTED_WIDTH[kind] * TEXT_WIDTH / figure_width


# --------------------------------------------------------------------------- style


def resolve_style(style: dict | None, width: float = CURVE_SIZE[0], height: float = CURVE_SIZE[1],
                  font_size: float = DEFAULT_FONT) -> dict:
    """Check ``style`` and fill in defaults (``width``, ``height``, ``font_size``: the figure's
    own). Unknown keys or bad values raise ValueError."""
    style = {} if style is None else style
    if not isinstance(style, dict):
        raise ValueError(f"style must be a dict or None, not {type(style).__name__}")
    for key in style:
        if key not in STYLE_KEYS:
            raise ValueError(f"unknown style key {key!r}; allowed: {', '.join(STYLE_KEYS)}")
    out = {"palette": list(PALETTE), "dpi": DEFAULT_DPI, "width": width, "height": height,
           "font_size": font_size}
    for key in ("dpi", "width", "height", "font_size"):
        if style.get(key) is not None:
            value = style[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"style key {key!r} must be a positive number, got {value!r}")
            out[key] = float(value)
    if style.get("palette") is not None:
        out["palette"] = check_palette(style["palette"])
    return out


def check_palette(palette) -> list[str]:
    """A palette as a list of ``#RRGGBB`` colours: a non-empty list of distinct colours
    matplotlib knows (``'#0072B2'``, ``'tab:blue'``, ``'black'``). ValueError names a bad one."""
    if isinstance(palette, (str, bytes)):
        raise ValueError("style key 'palette' must be a list of colours like '#0072B2', not one string")
    try:
        entries = list(palette)
    except TypeError:
        raise ValueError("style key 'palette' must be a list of colours like '#0072B2'") from None
    if not entries:
        raise ValueError("style key 'palette' is empty")
    out = []
    for entry in entries:
        if not isinstance(entry, str) or not matplotlib.colors.is_color_like(entry):
            raise ValueError(f"style key 'palette': {entry!r} is not a colour (need a colour like '#0072B2')")
        colour = matplotlib.colors.to_hex(entry, keep_alpha=False).upper()
        if colour in out:
            raise ValueError(f"style key 'palette': {entry!r} repeats colour {colour}; each variant needs its own")
        out.append(colour)
    return out


#: A variant's look in every figure: its colour, the line style of its curves and the marker
#: of its points.
Look = namedtuple("Look", ["colour", "linestyle", "marker"])
#: Line style and marker of the variants: the palette's colours solid with dots, then each round
#: of :data:`EXTRA_COLOURS` with its own line style and marker.
LOOK_ROUNDS = [("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"), ((0, (5, 1, 1, 1, 1, 1)), "P")]


def variant_looks(keys, palette=None) -> dict:
    """``{key: Look}`` for the variants (or other keys, e.g. the readings of an ablation) of a
    figure, by position: key i gets palette colour i with a solid line and a dot. Past the
    palette, keys get :data:`EXTRA_COLOURS` (those not in the palette) with a dashed line and a
    square, then the extra colours again in the next :data:`LOOK_ROUNDS`. No two keys of one
    call look the same; a key keeps its look wherever the same list is drawn (an experiment's
    variants in config order: its figure, its seeds figure, its tables).

    ``palette``: a list of colours (:func:`check_palette`; default :data:`PALETTE`). Raises
    ValueError on repeated keys or more keys than distinct looks.
    """
    keys = list(keys)
    palette = list(PALETTE) if palette is None else check_palette(palette)
    if len(set(keys)) != len(keys):
        raise ValueError(f"repeated names in {keys}")
    extra = [c for c in EXTRA_COLOURS if c not in palette] or palette
    capacity = len(palette) + len(extra) * (len(LOOK_ROUNDS) - 1)
    if len(keys) > capacity:
        raise ValueError(f"{len(keys)} variants, but {capacity} distinct looks with a palette of {len(palette)}; "
                         "give a longer palette in style['palette']")
    out = {}
    for i, key in enumerate(keys):
        if i < len(palette):
            out[key] = Look(palette[i], *LOOK_ROUNDS[0])
        else:
            j = i - len(palette)
            out[key] = Look(extra[j % len(extra)], *LOOK_ROUNDS[1 + j // len(extra)])
    return out


def colour_name(look) -> str:
    """What a table calls a look: 'blue', 'wine, dashed', or the colour code of a palette colour
    without a name."""
    colour, linestyle = (look.colour, look.linestyle) if isinstance(look, Look) else (look, "-")
    name = COLOUR_NAMES.get(colour.upper(), colour)
    style = {"-": "", "--": "dashed", "-.": "dash-dot", ":": "dotted"}.get(linestyle, "dash-dot-dot") \
        if isinstance(linestyle, str) else "dash-dot-dot"
    return f"{name}, {style}" if style else name


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


