"""Discovery records to JSON text and back, for the registry cache.

``to_json_dict()`` (domain.hardware) gives plain values except datetimes, which become ISO
strings here; ``record_from_json`` rebuilds any of the frozen record dataclasses from that shape by
reading its field annotations: enums from their values, tuples element by element, nested
records recursively, ``X | None`` as either. Unknown keys are ignored so a cache row written by a
newer lexitui still loads.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, cast

from lexitui.domain.hardware import to_json_dict

R = TypeVar("R")


def dumps(value: Any) -> str:
    """Records (or lists/dicts of them) as compact, key-sorted JSON."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), default=_default)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json_dict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def record_from_json(cls: type[R], data: dict[str, Any]) -> R:
    hints = _hints(cast(type, cls))
    kwargs = {
        f.name: _convert(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name in data
    }
    return cls(**kwargs)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        (item, *_rest) = typing.get_args(hint)
        return tuple(_convert(item, v) for v in value)
    if origin is dict or hint is Any:
        return value
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return hint(value)
        if issubclass(hint, datetime):
            return datetime.fromisoformat(value)
        if dataclasses.is_dataclass(hint):
            return record_from_json(hint, value)
    return value
