"""Which load options are basic loading: a field left at its default never counts, RPC workers
are the managed engine's (Enterprise), a tensor split is a configuration option (Teams)."""

from __future__ import annotations

import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.refusals import NotEntitled
from lexitui.editions.tiers import TIER_LIMITS, Tier
from lexitui.runtime.edition_checks import check_load_options, configuration_options


def licensed(tier: Tier) -> Entitlements:
    return Entitlements(tier, "ann", "licensed to ann", managed=True, limits=TIER_LIMITS[tier])


def test_options_left_at_their_defaults_are_basic_loading() -> None:
    assert configuration_options(ModelLoadOptions(context_length=2048, gpu_layers=-1)) == []
    check_load_options(licensed(Tier.WRITERPRO), ModelLoadOptions(context_length=2048))


def test_rpc_workers_need_enterprise_and_a_tensor_split_needs_teams() -> None:
    workers = ModelLoadOptions(rpc_servers=("127.0.0.1:50052",))
    with pytest.raises(NotEntitled) as refused:
        check_load_options(licensed(Tier.TEAMS), workers)
    assert refused.value.needed is Tier.ENTERPRISE
    check_load_options(licensed(Tier.ENTERPRISE), workers)
    split = ModelLoadOptions(tensor_split=(0.5, 0.5))
    assert configuration_options(split) == ["tensor_split"]
    with pytest.raises(NotEntitled) as refused:
        check_load_options(licensed(Tier.WRITERPRO), split)
    assert refused.value.needed is Tier.TEAMS
