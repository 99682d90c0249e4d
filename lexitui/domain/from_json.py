"""The inverse of ``to_json_dict``: rebuild a frozen record from its JSON shape.

Caches and queues in the store keep records as JSON; reading one back must give the same typed
record (enums, nested records, tuples, datetimes), or fail with a clear error when a row was
written by an incompatible release.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, cast

T = TypeVar("T")


class RecordDecodeError(ValueError):
    pass


def from_json_dict(cls: type[T], data: Any) -> T:
    """``cls(**data)`` with every field converted to its annotated type; unknown keys ignored
    (``to_json_dict`` adds derived values that are not fields)."""
    if not isinstance(data, dict):
        raise RecordDecodeError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    hints = _hints(cast(type, cls))
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{cls.__name__}.{f.name}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise RecordDecodeError(f"{cls.__name__}: {exc}") from exc


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(options[0], value, where) if len(options) == 1 else value
    if origin is tuple:
        args = typing.get_args(hint)
        return tuple(_convert(args[0], v, where) for v in _as_list(value, where))
    if origin is dict or hint is Any:
        return value
    if isinstance(hint, type):
        return _convert_plain(hint, value, where)
    return value


def _convert_plain(hint: type, value: Any, where: str) -> Any:
    try:
        if issubclass(hint, Enum):
            return hint(value)
        if dataclasses.is_dataclass(hint):
            return from_json_dict(hint, value)
        if hint is datetime:
            return datetime.fromisoformat(value)
        if hint is float and isinstance(value, int):
            return float(value)
    except (ValueError, TypeError) as exc:
        raise RecordDecodeError(f"{where}: {exc}") from exc
    return value


def _as_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise RecordDecodeError(f"{where}: expected a list, got {type(value).__name__}")
    return list(value)
