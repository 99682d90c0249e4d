"""Every row of docs/editions.md is tested per tier through the services: each ``Action`` has a
probe in one of the row tables, or a test file of its own named here."""

from __future__ import annotations

from pathlib import Path

from lexitui.editions.tiers import Action
from tests.editions import (
    test_rows_network_storage,
    test_rows_operations,
    test_rows_routing,
    test_rows_runtime,
)

# Rows whose per-tier test needs a set-up of its own (two registries, a shared store).
OWN_TESTS = {
    Action.CUSTOM_REGISTRIES: "test_custom_registry_gate.py",
}


def test_every_action_has_a_per_tier_test() -> None:
    probed = {
        *test_rows_runtime.PROBES,
        *test_rows_routing.PROBES,
        *test_rows_operations.PROBES,
        *test_rows_network_storage.PROBES,
    }
    here = Path(__file__).parent
    for action, name in OWN_TESTS.items():
        assert (here / name).is_file(), name
        probed.add(action)
    assert [a.value for a in Action if a not in probed] == []
