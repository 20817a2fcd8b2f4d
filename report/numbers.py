"""Numbers as the report prints them: one definition of each format.

Every number reaches a template as a string made here (the templates refuse floats). A
value that is missing prints as ``n/a``. Precision is fixed per kind of quantity, so that a
column never mixes 0.14 and 0.1600: accuracy 4 decimals, loss 3, seconds 2, epochs 1.
"""

from __future__ import annotations

import math

MINUS = "\u2212"  # a typographic minus: "−0.003", not "-0.003"
DIGITS = {"accuracy": 4, "loss": 3, "seconds": 2, "epochs": 1, "rate": 2}


def number(value) -> float | None:
    """A CSV cell or number as a float; '', None, non-numbers and non-finite values -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def fixed(value, digits: int) -> str:
    """``value`` with ``digits`` decimals and a real minus sign; ``n/a`` when missing."""
    x = number(value)
    if x is None:
        return "n/a"
    text = f"{x:.{digits}f}"
    if text.startswith("-"):
        text = MINUS + text[1:] if float(text) != 0 else text[1:]
    return text


def kind(value, what: str) -> str:
    """A value of a kind of quantity (``accuracy``, ``loss``, ``seconds``, ...): its precision."""
    return fixed(value, DIGITS[what])


def pm(mean, std, digits: int) -> str:
    """``mean ± std``; just the mean when there is no std (one run)."""
    if number(std) is None:
        return fixed(mean, digits)
    return f"{fixed(mean, digits)} ± {fixed(std, digits)}"


def interval(low, high, digits: int) -> str:
    """``low to high`` (``n/a`` when either is missing)."""
    if number(low) is None or number(high) is None:
        return "n/a"
    return f"{fixed(low, digits)} to {fixed(high, digits)}"


def bracket(low, high, digits: int) -> str:
    """``[low, high]``, the compact form tables use (``n/a`` when either is missing)."""
    if number(low) is None or number(high) is None:
        return "n/a"
    return f"[{fixed(low, digits)}, {fixed(high, digits)}]"


def p_value(p) -> str:
    """A p value: 2 significant digits, ``< 0.001`` below that."""
    x = number(p)
    if x is None:
        return "n/a"
    if x < 0.001:
        return "< 0.001"
    return f"{x:.2g}" if x < 0.1 else f"{x:.2f}"


def percent(value, digits: int = 0) -> str:
    x = number(value)
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def count(k: int, n: int) -> str:
    return f"{k}/{n}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 epoch``, ``3 epochs``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"
