"""The characters the PDF can print, defined once: the config check refuses the others before any
job starts, the LaTeX renderer puts the CJK ones into the CJK font, and the figures draw them in
the same font as TrueType (report.style).

pdflatex prints Latin text through inputenc (utf8) in the T1/TS1 fonts of Latin Modern:
:data:`LATIN`, the characters it knows and every font of the report (roman, bold, italic,
sans, typewriter) has. Chinese prints through CJKutf8 in the font AR PL SungtiL GB (Debian:
latex-cjk-chinese-arphic-gbsn00lp): GB2312, which is simplified Chinese, Japanese kana and
CJK punctuation (no Korean Hangul, no kanji that GB2312 lacks). Anything else - other
scripts (Greek, Arabic...), emoji, control and format characters such as U+202E
RIGHT-TO-LEFT OVERRIDE - pdflatex either stops on or silently drops: not printable.
tests/test_charset.py checks both sets against the installed fonts.
"""

from __future__ import annotations

import re
import unicodedata

#: the CJK font family of CJKutf8 (``\begin{CJK}{UTF8}{gbsn}``): AR PL SungtiL GB
CJK_FONT = "gbsn"

_LATIN_RANGES = (
    "0020-007E 00A0-00AC 00AE-0125 0128-0131 0134-0137 0139-013E 0141-0148 014A-0165 0168-017E 0192 01C4-01D4 "
    "01E2-01E3 01E6-01EB 01F0 01F4-01F5 0218-021B 0232-0233 0237 02C6-02C7 02D8-02D9 02DB-02DD "
    "1E02-1E03 1E0D 1E1E-1E21 1E25 1E30-1E31 1E37 1E43 1E45 1E47 1E5B 1E63 1E6D 1E8E-1E91 "
    "1EF2-1EF3 2010-2016 2018-201A 201C-201E 2020-2022 2026 2030 2039-203B 203D 2044 204E 2052 "
    "20A1 20A4 20A6 20A9 20AB-20AC 20B1 2103 2116-2117 211E 2126-2127 212E 2190-2193 2212 221A "
    "2329-232A 2422-2423 25E6 25EF 266A 27E8-27E9 FB00-FB04"
)
#: what inputenc declares for T1/TS1 (TeX Live 2022) and the preamble adds (report.tex.j2's
#: \DeclareUnicodeCharacter), less the soft hyphen and the few the typewriter font lacks (IJ, ij,
#: capital sharp s, per ten thousand, service mark, trade mark)
LATIN = frozenset(
    c for r in _LATIN_RANGES.split() for c in range(int(r[:4], 16), int(r[-4:], 16) + 1)
)

#: the Unicode blocks whose characters go to the CJK font: CJK punctuation, kana, bopomofo,
#: enclosed CJK, the unified ideographs, full-width forms
CJK_BLOCKS = ((0x3000, 0x303F), (0x3040, 0x30FF), (0x3100, 0x312F), (0x3200, 0x32FF),
              (0x4E00, 0x9FFF), (0xFF00, 0xFFEF))
# in GB2312 as Python maps it, not in the font (which has U+00B7 there)
_NOT_IN_FONT = frozenset({0x30FB})
#: a run of characters in the CJK blocks (the LaTeX renderer sets each in the CJK font)
CJK_RUN = re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in CJK_BLOCKS) + "]+")


def in_cjk_font(ch: str) -> bool:
    """A character the CJK font prints: in a CJK block and in GB2312, the font's character set."""
    cp = ord(ch)
    if cp in _NOT_IN_FONT or not any(a <= cp <= b for a, b in CJK_BLOCKS):
        return False
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def printable(ch: str) -> bool:
    """Whether the PDF prints this character (it is in :data:`LATIN` or in the CJK font)."""
    return ord(ch) in LATIN or in_cjk_font(ch)


def unprintable(text: str) -> str | None:
    """The first character of ``text`` that the PDF cannot print, or None."""
    return next((c for c in text if not printable(c)), None)


def needs_cjk(text: str) -> bool:
    """Whether ``text`` has a character for the CJK font."""
    return CJK_RUN.search(text) is not None


def describe(ch: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``: a character named for an error message."""
    name = unicodedata.name(ch, "") or {"Cc": "control character"}.get(unicodedata.category(ch), "unnamed")
    return f"U+{ord(ch):04X} ({name})"
