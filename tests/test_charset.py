"""What the PDF can print (report.charset): examples of each kind of character, and both sets
checked against the installed fonts."""

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from report.charset import CJK_BLOCKS, CJK_FONT, LATIN, describe, in_cjk_font, printable, unprintable

PRINTS = {
    "ASCII": "A NumPy CNN on MNIST: lr 0.05, 100% {x} \\ ~ ^ _ # $ & | <>",
    "Latin accents": "Müller, Ångström, façade, Łódź, Dvořák, œuvre, ß",
    "typography": "“quoted” ‘x’ – — … € ± × · √ − ‖ «»",
    "Chinese": "中文标题：深度学习，计 72 刘光哲（卷积神经网络）。",
    "Japanese kana": "ひらがな カタカナ ヴ",
    "full-width forms": "ＡＢＣ１２３！？",
}
REFUSED = {
    "Arabic": "\u0639",  # ARABIC LETTER AIN
    "Hebrew": "\u05d0",
    "Greek": "\u03b1",
    "Cyrillic": "\u0436",
    "Korean Hangul": "\ud55c",
    "kanji outside GB2312": "\u5b9f",  # 実 (Japanese form of 实)
    "traditional-only Chinese": "\u9ad4",  # 體
    "half-width katakana": "\uff76",
    "katakana middle dot (not in the font)": "\u30fb",
    "emoji": "\U0001f642",
    "right-to-left override": "\u202e",
    "other bidi controls": "\u200f\u2066",
    "zero width space": "\u200b",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "tab": "\t",
    "newline": "\n",
    "NUL": "\x00",
    "DEL": "\x7f",
    "C1 control": "\x85",
    "private use": "\ue000",
}


@pytest.mark.parametrize("kind", list(PRINTS))
def test_printable_text(kind):
    assert unprintable(PRINTS[kind]) is None


@pytest.mark.parametrize("kind", list(REFUSED))
def test_unprintable_characters(kind):
    for ch in REFUSED[kind]:
        assert not printable(ch), f"{kind}: {describe(ch)}"
        assert unprintable(f"Title {ch} here") == ch


def test_characters_are_named():
    assert describe("\u202e") == "U+202E (RIGHT-TO-LEFT OVERRIDE)"
    assert describe("\x07") == "U+0007 (control character)"
    assert describe("\U0001f642") == "U+1F642 (SLIGHTLY SMILING FACE)"


def _tfm_chars(path: Path) -> set[int]:
    """The character codes a TFM font has (width index not 0)."""
    data = path.read_bytes()
    lh, bc, ec = struct.unpack(">3H", data[2:8])
    base = 24 + 4 * lh
    return {c for c in range(bc, ec + 1) if data[base + 4 * (c - bc)]}


def _kpsewhich(name: str) -> Path:
    assert shutil.which("kpsewhich"), "kpsewhich not found: run ./setup.sh (it installs TeX Live) or install it"
    found = subprocess.run(["kpsewhich", name], capture_output=True, text=True).stdout.strip()
    assert found, f"{name} not found: the CJK font is missing (./setup.sh installs latex-cjk-chinese-arphic-gbsn00lp)"
    return Path(found)


def test_the_cjk_font_has_every_character_called_printable():
    """pdflatex drops a character its font lacks with only a note in the log: every character
    the config check lets through must be in the font's metrics (one TFM per 256 code points)."""
    folder = _kpsewhich(f"{CJK_FONT}u4e.tfm").parent
    wanted = [cp for a, b in CJK_BLOCKS for cp in range(a, b + 1) if in_cjk_font(chr(cp))]
    assert len(wanted) > 7000  # GB2312: 6,763 hanzi, kana, punctuation
    have = {}
    missing = []
    for cp in wanted:
        page = cp >> 8
        if page not in have:
            tfm = folder / f"{CJK_FONT}u{page:02x}.tfm"
            have[page] = _tfm_chars(tfm) if tfm.exists() else set()
        if cp & 0xFF not in have[page]:
            missing.append(describe(chr(cp)))
    assert missing == []


@pytest.mark.parametrize("cjk", [False, True], ids=["latin-report", "with-cjk-text"])
def test_every_latin_character_called_printable_prints_in_every_font_of_the_report(tmp_path, cjk):
    """Each character of LATIN through pdflatex with the report's preamble (with and without the
    CJK part), in each font a title can meet (roman, bold, italic, bold italic, sans, typewriter,
    large bold): no error, no character missing from a font."""
    assert shutil.which("pdflatex"), "pdflatex not found: run ./setup.sh (it installs TeX Live)"
    head = (REPO / "report/templates/report.tex.j2").read_text().split("((* block head *))")[1].split("\\title")[0]
    cjk_part = re.compile(r"\(\(\* if cjk_font \*\)\)\n(.*?)\(\(\* endif \*\)\)\n", re.S)
    head = cjk_part.sub(lambda m: m.group(1).replace("((( cjk_font )))", CJK_FONT) if cjk else "", head)
    head = re.sub(r"\(\(=.*?=\)\)\n", "", head)
    assert ("CJKutf8" in head) == cjk and "((" not in head
    from report.render import latex_escape

    lines = [head, "\\begin{document}", "\\tracinglostchars=2"]
    for cp in sorted(LATIN):
        ch = latex_escape(chr(cp))
        lines.append(f"\\typeout{{CHAR {cp:04X}}}" + "".join(
            f"\\mbox{{{style}{{{ch}}}}}" for style in ("", "\\textbf", "\\textit", "\\textbf\\textit", "\\textsf",
                                                      "\\texttt", "\\Large\\bfseries")) + "\\par")
    lines.append("\\typeout{CHAR END}\\end{document}")
    (tmp_path / "latin.tex").write_text("\n".join(lines), encoding="utf-8")
    r = subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-draftmode", "latin.tex"],
                       cwd=tmp_path, capture_output=True)
    log = (tmp_path / "latin.log").read_text(encoding="latin-1")
    problems = [line for line in log.splitlines() if line.startswith("!") or "Missing character" in line]
    assert r.returncode == 0 and problems == [], problems[:5]
    assert "CHAR END" in log
