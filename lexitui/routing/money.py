"""Amounts of money for people: one formatter for the CLI and the screens.

Per-request prices are often fractions of a cent, so an amount under a dollar keeps three
significant digits (``$0.000002``, ``$0.00123``, ``$0.039``) instead of rounding to ``$0.00``; a
dollar or more shows cents (``$1.23``). An unknown amount stays a word ("unknown"), never
``$0``, and a sign only appears on an amount that is not zero once shown (no ``$-0``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DOLLAR = Decimal(1)
SMALLEST = Decimal("0.000001")  # a millionth of a dollar: below this, "<$0.000001"
SIGNIFICANT_DIGITS = 3


def usd(amount: Decimal | None, *, unknown: str = "unknown", smallest: Decimal = SMALLEST) -> str:
    """``$1.23``, ``$0.05``, ``$0.039``, ``$0.00123``, ``$0.000002``; under ``smallest``,
    ``<$0.000001``.

    ``smallest`` lets a total that only needs cents say ``<$0.01``.
    """
    if amount is None:
        return unknown
    if not amount.is_finite():
        return unknown
    if amount == 0:
        return "$0"
    sign = "-" if amount < 0 else ""
    size = abs(amount)
    if size < smallest:
        # Never "$0" (it was not nothing) nor "-$0"; a tiny credit reads "-<$0.01".
        return f"{sign}<${_plain(smallest)}"
    rounded = _significant(size)
    if rounded >= DOLLAR:  # 0.9999 rounds up to a dollar: show it as one
        return f"{sign}${size.quantize(CENT, rounding=ROUND_HALF_UP):,}"
    return f"{sign}${_plain(rounded)}"


def _significant(size: Decimal) -> Decimal:
    exponent = size.adjusted() - SIGNIFICANT_DIGITS + 1
    return size.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def _plain(size: Decimal) -> str:
    """``0.0000020`` -> ``0.000002``: fixed-point, no exponent, no trailing zeros."""
    text = f"{size:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def share_of(percent: float | None) -> str:
    """`` (75%)`` after an amount; nothing when the share is unknown (never a made-up 0%)."""
    if percent is None or percent != percent:  # NaN is unknown too
        return ""
    return f" ({round(percent)}%)"  # an int: -0.3 rounds to 0, never "-0%"
