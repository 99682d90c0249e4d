"""The editions' table: the tiers, each tier's limits and the tier each gated action needs.

docs/editions.md prints this table; enforcement reads it through ``Entitlements`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import Enum


class Tier(Enum):
    CORE = "core"
    WRITERPRO = "writerpro"
    TEAMS = "teams"
    ENTERPRISE = "enterprise"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)

    @property
    def title(self) -> str:
        return _TITLES[self]

    @classmethod
    def parse(cls, text: str) -> Tier:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown tier {text!r} (one of {names})") from None


_TITLES = {
    Tier.CORE: "Core",
    Tier.WRITERPRO: "WriterPro",
    Tier.TEAMS: "Teams",
    Tier.ENTERPRISE: "Enterprise",
}

GB = 1000**3


@dataclass(frozen=True)
class Limits:
    """How much of each counted thing a tier allows; ``None`` is unlimited."""

    backends: int | None = None
    loaded_models: int | None = None
    searches_per_day: int | None = None
    downloaded_models: int | None = None
    storage_bytes: int | None = None

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def overridden(self, overrides: dict[str, int | None]) -> Limits:
        """These limits with a license's overrides (already checked by ``check_overrides``)."""
        return replace(self, **overrides)

    def as_dict(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in self.names()}


def check_overrides(raw: object) -> dict[str, int | None]:
    """A license's ``limits`` object: known names, each a non-negative integer or null."""
    if not isinstance(raw, dict):
        raise ValueError("limits must be an object")
    known = set(Limits.names())
    checked: dict[str, int | None] = {}
    for name, value in raw.items():
        if name not in known:
            raise ValueError(f"unknown limit {name!r}")
        if value is not None and (type(value) is not int or value < 0):
            raise ValueError(f"limit {name} must be a non-negative integer or null")
        checked[name] = value
    return checked


UNLIMITED = Limits()
TIER_LIMITS: dict[Tier, Limits] = {
    Tier.CORE: Limits(0, 0, 0, 0, 0),
    Tier.WRITERPRO: Limits(
        backends=1,
        loaded_models=1,
        searches_per_day=10,
        downloaded_models=3,
        storage_bytes=50 * GB,
    ),
    Tier.TEAMS: UNLIMITED,
    Tier.ENTERPRISE: UNLIMITED,
}


class Action(Enum):
    """Every gated action; the value is what docs/editions.md calls it."""

    DETECT_HARDWARE = "hardware detection"
    BACKEND_STATUS = "read-only backend status"
    BROWSE_OLLAMA = "browse the Ollama library"
    VIEW_INSTALLED = "view installed models"
    LOAD_MODEL = "load a model"
    GENERATE = "basic generation"
    SEARCH_HUB = "Hugging Face search"
    DOWNLOAD = "download a model"
    BASIC_ROUTING = "basic routing"
    SERVE = "the local gateway"
    ALL_CONFIGURATION = "all configuration options"
    COMPATIBILITY = "compatibility analysis"
    ALL_PARAMETERS = "all generation parameters"
    CONTEXT_MANAGEMENT = "context management"
    FULL_ROUTING = "full routing options"
    AUTO_FALLBACK = "automatic fallback"
    EMBEDDINGS = "embeddings"
    BASIC_ANALYTICS = "basic analytics"
    MANAGED_ENGINE = "managed backend deployment"
    CUSTOM_BACKENDS = "custom backends"
    CUSTOM_REGISTRIES = "custom registries"
    BULK_ANALYSIS = "bulk analysis"
    NETWORK_STORAGE = "network storage"
    SHARED_LIBRARY = "shared model library"
    CONCURRENT_REQUESTS = "concurrent requests"
    PROFILING = "profiling"
    SNAPSHOTS = "snapshots"
    COST_OPTIMISATION = "cost optimisation"
    DETAILED_ANALYTICS = "detailed analytics"
    TASK_ROUTING = "task routing"


_CORE = (Action.DETECT_HARDWARE, Action.BACKEND_STATUS, Action.BROWSE_OLLAMA, Action.VIEW_INSTALLED)
_WRITERPRO = (
    Action.LOAD_MODEL,
    Action.GENERATE,
    Action.SEARCH_HUB,
    Action.DOWNLOAD,
    Action.BASIC_ROUTING,
    Action.SERVE,
)
_TEAMS = (
    Action.ALL_CONFIGURATION,
    Action.COMPATIBILITY,
    Action.ALL_PARAMETERS,
    Action.CONTEXT_MANAGEMENT,
    Action.FULL_ROUTING,
    Action.AUTO_FALLBACK,
    Action.EMBEDDINGS,
    Action.BASIC_ANALYTICS,
)
# The lowest tier that unlocks each action; every action not named above is Enterprise's.
REQUIRED_TIER: dict[Action, Tier] = {
    **{a: Tier.ENTERPRISE for a in Action},
    **{a: Tier.CORE for a in _CORE},
    **{a: Tier.WRITERPRO for a in _WRITERPRO},
    **{a: Tier.TEAMS for a in _TEAMS},
}
