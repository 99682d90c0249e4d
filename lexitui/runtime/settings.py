"""The ``[runtime]`` section of config.toml: memory budget, eviction, request limits.

```toml
[runtime]
memory_budget_gb = 12      # loaded models may hold this much RAM+VRAM together (default: the
                           # machine's usable memory, as the compatibility analyzer sees it)
auto_evict = false         # unload least recently used idle models to make room without asking
parallel = 1               # requests one model answers at once (engine slots; the context is
                           # split evenly over them); more wait in line. ``max_concurrent`` is
                           # its older name, still read; giving both with different values is
                           # an error
queue_timeout_s = 300      # how long a request may wait in line
first_token_timeout_s = 120
retries = 2                # re-sends when the engine refuses before answering (restarting, busy)
keep_alive = "5m"          # how long a model loaded on demand stays loaded idle (Ollama's forms:
                           # "1h30m", 30 = seconds, 0 = unload after the answer, -1 = forever)
load_on_demand = true      # a request naming an installed model (or none) loads it
```
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lexitui.config import ConfigError, finite_number, naming_file
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.inference import InvalidRequest
from lexitui.domain.units import GIB
from lexitui.runtime.keep_alive import DEFAULT_KEEP_ALIVE_S, parse_keep_alive

MAX_BUDGET_GB = 1024 * 1024  # a pebibyte: more than any machine holds, far below overflow
MAX_SECONDS = 7 * 24 * 3600
MAX_PARALLEL = 1024


@dataclass(frozen=True)
class RuntimeSettings:
    memory_budget_bytes: int | None = None
    auto_evict: bool = False
    parallel: int = 1  # engine slots per model; a load's own ``parallel`` overrides it
    queue_timeout_s: float = 300.0
    first_token_timeout_s: float = 120.0
    retries: int = 2
    keep_alive_s: float | None = DEFAULT_KEEP_ALIVE_S  # None: models stay until unloaded
    load_on_demand: bool = True

    def with_slots(self, options: ModelLoadOptions) -> ModelLoadOptions:
        """A load's options with their slot count: their own, else ``[runtime] parallel``."""
        own = options.parallel is not None
        return options if own else replace(options, parallel=self.parallel)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RuntimeSettings:
        with naming_file(config):
            return cls._from_section(config.get("runtime", {}))

    @classmethod
    def _from_section(cls, section: object) -> RuntimeSettings:
        if not isinstance(section, dict):
            raise ConfigError("[runtime] must be a table")
        budget = section.get("memory_budget_gb")
        return cls(
            memory_budget_bytes=None
            if budget is None
            else int(_number(section, "memory_budget_gb", None, high=MAX_BUDGET_GB) * GIB),
            auto_evict=_flag(section, "auto_evict", False),
            parallel=_parallel(section),
            queue_timeout_s=_number(section, "queue_timeout_s", 300, high=MAX_SECONDS),
            first_token_timeout_s=_number(section, "first_token_timeout_s", 120, high=MAX_SECONDS),
            retries=int(_number(section, "retries", 2, high=100)),
            keep_alive_s=_keep_alive(section),
            load_on_demand=_flag(section, "load_on_demand", True),
        )


def _number(
    section: dict[str, Any], key: str, default: float | None, *, low: float = 0, high: float
) -> float:
    return finite_number(section.get(key, default), f"[runtime] {key}", low=low, high=high)


def _parallel(section: dict[str, Any]) -> int:
    """``parallel``, or ``max_concurrent`` (its older name); both must then agree."""
    given = {
        key: int(_number(section, key, None, low=1, high=MAX_PARALLEL))
        for key in ("parallel", "max_concurrent")
        if key in section
    }
    if len(set(given.values())) > 1:
        raise ConfigError(
            "[runtime] parallel and max_concurrent name the same setting (max_concurrent is "
            f"its older name) but differ ({given['parallel']} and {given['max_concurrent']}): "
            "keep parallel"
        )
    return next(iter(given.values()), 1)


def _flag(section: dict[str, Any], key: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"[runtime] {key} must be true or false, not {value!r}")
    return value


def _keep_alive(section: dict[str, Any]) -> float | None:
    try:
        return parse_keep_alive(section.get("keep_alive", DEFAULT_KEEP_ALIVE_S))
    except InvalidRequest as exc:
        raise ConfigError(f"[runtime] {exc}") from None
