"""The ``[runtime]`` section of config.toml: memory budget, eviction, request limits.

```toml
[runtime]
memory_budget_gb = 12      # loaded models may hold this much RAM+VRAM together (default: the
                           # machine's usable memory, as the compatibility analyzer sees it)
auto_evict = false         # unload least recently used idle models to make room without asking
max_concurrent = 1         # requests one model serves at once (engine slots); more wait in line
queue_timeout_s = 300      # how long a request may wait in line
first_token_timeout_s = 120
retries = 2                # re-sends when the engine refuses before answering (restarting, busy)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lexitui.config import ConfigError

GB = 1024**3


@dataclass(frozen=True)
class RuntimeSettings:
    memory_budget_bytes: int | None = None
    auto_evict: bool = False
    max_concurrent: int = 1
    queue_timeout_s: float = 300.0
    first_token_timeout_s: float = 120.0
    retries: int = 2

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RuntimeSettings:
        section = config.get("runtime", {})
        if not isinstance(section, dict):
            raise ConfigError("[runtime] must be a table")
        budget = section.get("memory_budget_gb")
        settings = cls(
            memory_budget_bytes=None
            if budget is None
            else int(_number(budget, "memory_budget_gb") * GB),
            auto_evict=bool(section.get("auto_evict", False)),
            max_concurrent=int(_number(section.get("max_concurrent", 1), "max_concurrent")),
            queue_timeout_s=_number(section.get("queue_timeout_s", 300), "queue_timeout_s"),
            first_token_timeout_s=_number(
                section.get("first_token_timeout_s", 120), "first_token_timeout_s"
            ),
            retries=int(_number(section.get("retries", 2), "retries")),
        )
        if settings.max_concurrent < 1 or settings.retries < 0:
            raise ConfigError("[runtime] max_concurrent must be 1 or more and retries 0 or more")
        return settings


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"[runtime] {name} must be a positive number, not {value!r}")
    return float(value)
