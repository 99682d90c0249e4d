"""The network storage row of docs/editions.md, per tier, through the service the CLI and the
app call (``StorageManager.sync_shared_store``), and ``lexitui storage sync`` on a managed
machine: below Enterprise the refusal is one line naming the tier, and nothing is registered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.refusals import NotEntitled
from lexitui.editions.tiers import REQUIRED_TIER, TIER_LIMITS, Action, Tier
from lexitui.services import Services
from lexitui.storage.shared_store import SharedSync
from tests.editions.conftest import ManagedMachine

Probe = Callable[[Services], Awaitable[object]]


def licensed(tier: Tier) -> Entitlements:
    return Entitlements(tier, "ann", "licensed to ann", managed=True, limits=TIER_LIMITS[tier])


def as_tier(services: Services, entitlements: Entitlements) -> None:
    services.__dict__["entitlements"] = entitlements  # the cached record, as a license gives


async def sync_shared(services: Services) -> SharedSync:
    synced = await services.storage.sync_shared_store()
    assert synced.refused == ()
    return synced


PROBES: dict[Action, Probe] = {Action.NETWORK_STORAGE: sync_shared}


async def test_network_storage_is_allowed_from_enterprise_and_refused_below(
    services: Services,
) -> None:
    for action, probe in PROBES.items():
        needed = REQUIRED_TIER[action]
        for tier in Tier:
            as_tier(services, licensed(tier))
            if tier.rank >= needed.rank:
                await probe(services)
                continue
            with pytest.raises(NotEntitled) as refused:
                await probe(services)
            assert refused.value.needed is needed, (action, tier)
            assert f"{action.value} needs {needed.title} or above" in str(refused.value)
        as_tier(services, OPEN)


@pytest.mark.timeout(240)
def test_storage_sync_is_enterprise_on_the_command_line(managed: ManagedMachine) -> None:
    managed.license(Tier.TEAMS)
    done = managed.run("storage", "sync")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "lexitui: network storage needs Enterprise or above (this user: Teams; licensed to ann)"
    )
    managed.license(Tier.ENTERPRISE)
    allowed = managed.run("storage", "sync")
    assert allowed.returncode == 0, allowed.stderr
    assert "nothing new from other hosts" in allowed.stdout
    # Seeing where the store lies is open to every tier.
    managed.license(Tier.CORE)
    assert "file system   models on " in managed.run("storage").stdout
