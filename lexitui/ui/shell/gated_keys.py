"""Which edition action each key of the TUI starts, so the footer can say which tier unlocks it.

The services refuse a gated action whatever started it; this table only lets a screen show,
before the key is pressed, that the user's tier does not reach it: the footer names the tier
beside the key ("Load model [WriterPro]"). The key still works: pressing it shows the service's
refusal line. Keys missing here start nothing gated (or nothing above Core).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lexitui.editions.tiers import Action

if TYPE_CHECKING:
    from lexitui.editions.entitlements import Entitlements

# binding id -> the action its key starts
GATED_KEYS: dict[str, Action] = {
    "discover.search": Action.SEARCH_HUB,
    "discover.trending": Action.SEARCH_HUB,
    "discover.download": Action.DOWNLOAD,
    "downloads.resume": Action.DOWNLOAD,
    "downloads.retry": Action.DOWNLOAD,
    "models.chat": Action.GENERATE,
    "models.load": Action.LOAD_MODEL,
    "runtime.load": Action.LOAD_MODEL,
    "runtime.regenerate": Action.GENERATE,
    "runtime.input": Action.GENERATE,
    "runtime.truncate": Action.CONTEXT_MANAGEMENT,
    "runtime.snapshot_save": Action.SNAPSHOTS,
    "runtime.snapshot_restore": Action.SNAPSHOTS,
    "runtime.bench": Action.PROFILING,
    "runtime.embeddings": Action.EMBEDDINGS,
    "routing.strategy": Action.BASIC_ROUTING,
    "routing.fallback": Action.AUTO_FALLBACK,
    "routing.task": Action.TASK_ROUTING,
    "backends.add": Action.CUSTOM_BACKENDS,
    "backends.remove": Action.CUSTOM_BACKENDS,
}


def unlocking_tier(edition: Entitlements | None, action: Action | None) -> str | None:
    """The tier to name beside a key: None when the key is open to this user (or the edition
    is not known yet, or the machine is unmanaged)."""
    if edition is None or action is None or edition.allows(action):
        return None
    return edition.unlocking_tier(action).title


def with_pill(description: str, tier: str | None) -> str:
    """A key's footer text with the tier that unlocks it."""
    return f"{description} [{tier}]" if tier else description
