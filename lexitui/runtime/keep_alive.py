"""How long an idle model stays loaded, written the way Ollama's ``keep_alive`` is.

A duration in Go's notation (``"5m"``, ``"1h30m"``, ``"30s"``, ``"250ms"``), or a number of
seconds (``300``, also as text ``"300"``). ``0`` unloads the model as soon as its answer ends; a
negative value keeps it loaded until it is unloaded by hand. The result is seconds, or ``None``
for "forever". Clients send this per request and ``[runtime] keep_alive`` sets the default, so
both go through ``parse_keep_alive`` and mean the same thing.
"""

from __future__ import annotations

import math
import re

from lexitui.domain.inference import InvalidRequest

DEFAULT_KEEP_ALIVE_S = 300.0  # Ollama's default: five minutes
# Longer than this is "forever": a datetime that far ahead would overflow, and no one waits it.
FOREVER_AFTER_S = 100 * 365 * 24 * 3600.0

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_NUMBER = re.compile(r"[+-]?(\d+(?:\.\d*)?|\.\d+)")


def parse_keep_alive(value: object) -> float | None:
    """Seconds an idle model stays loaded (``None``: until unloaded by hand); a value that is
    neither a number nor a duration raises ``InvalidRequest`` naming what was given."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid(value)
    if isinstance(value, str):
        seconds = _from_text(value)
    else:
        if math.isnan(value):
            raise _invalid(value)
        seconds = float(value)
    if seconds < 0 or seconds > FOREVER_AFTER_S:
        return None
    return seconds


def describe_keep_alive(seconds: float | None) -> str:
    """``5m``, ``1h30m``, ``30s``, ``0s`` or ``forever``: for reasons and status lines."""
    if seconds is None:
        return "forever"
    whole = round(seconds)
    if whole != seconds or whole < 60:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n)


def _from_text(text: str) -> float:
    raw = text.strip()
    if _NUMBER.fullmatch(raw):
        return float(raw)
    sign = -1.0 if raw.startswith("-") else 1.0
    body = raw[1:] if raw.startswith(("+", "-")) else raw
    seconds = 0.0
    at = 0
    for match in _PART.finditer(body):
        if match.start() != at:
            raise _invalid(text)
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        at = match.end()
    if not body or at != len(body):
        raise _invalid(text)
    return sign * seconds


def _invalid(value: object) -> InvalidRequest:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return InvalidRequest(
        f"keep_alive {shown} is not a duration: use seconds (300), a duration like "
        '"5m" or "1h30m", 0 to unload after the answer, or a negative value to keep it loaded'
    )
