"""Custom registries are Enterprise's: below it a Hub search leaves them out and names each as
unavailable with the tier that unlocks it; opening one of their models is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from lexitui.config import Paths
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.refusals import NotEntitled
from lexitui.editions.tiers import TIER_LIMITS, Tier
from lexitui.services import Services
from tests.discovery.test_custom_registries import TINY, configure, corp_repos
from tests.fakes.hub_server import FakeHub


@pytest_asyncio.fixture
async def corp() -> AsyncIterator[FakeHub]:
    async with FakeHub(repos=corp_repos()) as fake:
        yield fake


def licensed(tier: Tier) -> Entitlements:
    return Entitlements(tier, "ann", "licensed to ann", managed=True, limits=TIER_LIMITS[tier])


@pytest.mark.parametrize("tier", [Tier.TEAMS, Tier.ENTERPRISE])
async def test_a_hub_search_includes_the_registries_only_for_enterprise(
    tier: Tier,
    hub: FakeHub,
    corp: FakeHub,
    paths: Paths,
) -> None:
    configure(paths, corp=corp.base_url)
    services = Services.build(paths)
    services.__dict__["entitlements"] = licensed(tier)
    await services.start()
    try:
        result = await services.discovery.search(ModelSearchQuery(query="tiny"))
        from_corp = [m for m in result.models if m.registry_name == "corp"]
        if tier is Tier.ENTERPRISE:
            assert from_corp and result.unavailable == ()
            return
        assert from_corp == []
        [left_out] = result.unavailable
        assert left_out.registry == "corp"
        assert left_out.reason.startswith("custom registries needs Enterprise or above")
        with pytest.raises(NotEntitled):
            await services.discovery.details(TINY, registry_name="corp")
    finally:
        await services.stop()
