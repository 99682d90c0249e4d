"""Discovery records to JSON text and back, for the registry cache.

``dumps`` writes records (or lists/dicts of them) through ``to_json_dict()``; reading back is the
domain's ``from_json_dict`` (re-exported as ``record_from_json``), which ignores unknown keys so a
cache row written by a newer lexitui still loads.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from enum import Enum
from typing import Any

from lexitui.domain.from_json import from_json_dict as record_from_json
from lexitui.domain.hardware import to_json_dict

__all__ = ["dumps", "record_from_json"]


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
