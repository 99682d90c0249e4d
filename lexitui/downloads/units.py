"""Sizes and rates as people type them: ``10M``, ``512k``, ``2GiB``, ``1.5M`` (powers of 1024,
as curl's ``--limit-rate`` reads them)."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def parse_size(text: str) -> int:
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size (try 10M, 512K, 1G)")
    value = float(match[1]) * 1024 ** _POWERS[match[2].lower()]
    if value < 1:
        raise ValueError(f"{text!r} is less than one byte")
    return int(value)
