"""The gated commands as a user runs them on a managed machine: a refusal is one line naming the
tier that unlocks it, printed before anything is loaded, built, searched or written."""

from __future__ import annotations

import pytest

from lexitui.config import Paths
from lexitui.editions.tiers import Tier
from lexitui.storage.starter import STARTER_ID
from tests.editions.conftest import ManagedMachine
from tests.fakes.hub_server import FakeHub

pytestmark = pytest.mark.timeout(240)


def refused_line(machine: ManagedMachine, *args: str) -> str:
    done = machine.run(*args)
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def needs(action: str, tier: str, have: str) -> str:
    return f"lexitui: {action} needs {tier} or above (this user: {have}; licensed to ann)"


def test_fit_of_one_model_is_teams_and_of_many_enterprise(
    managed: ManagedMachine, hub: FakeHub
) -> None:
    managed.license(Tier.WRITERPRO)
    assert refused_line(managed, "fit", STARTER_ID) == needs(
        "compatibility analysis", "Teams", "WriterPro"
    )
    managed.license(Tier.TEAMS)
    one = managed.run("fit", STARTER_ID, "--json")
    assert one.returncode == 0, one.stderr
    bulk = needs("bulk analysis", "Enterprise", "Teams")
    assert refused_line(managed, "fit", STARTER_ID, STARTER_ID) == bulk
    assert refused_line(managed, "fit", "--search", "qwen") == bulk
    assert not hub.hub_calls("/api/models")  # refused before the search was spent
    managed.license(Tier.ENTERPRISE)
    many = managed.run("fit", STARTER_ID, STARTER_ID, "--json")
    assert many.returncode == 0, many.stderr


def test_the_shared_library_is_enterprise(managed: ManagedMachine) -> None:
    managed.license(Tier.TEAMS)
    assert refused_line(managed, "library") == needs("shared model library", "Enterprise", "Teams")
    managed.license(Tier.ENTERPRISE)
    assert managed.run("library").returncode == 0


def test_building_an_engine_is_enterprise(managed: ManagedMachine) -> None:
    managed.license(Tier.TEAMS)
    assert refused_line(managed, "engine", "build", "--no-install") == needs(
        "managed backend deployment", "Enterprise", "Teams"
    )
    assert managed.run("engine", "list").returncode == 0  # seeing them is not deploying


def test_choosing_an_engine_build_to_load_in_is_enterprise(managed: ManagedMachine) -> None:
    managed.license(Tier.TEAMS)
    line = refused_line(managed, "run", STARTER_ID, "hi", "--engine", "embedded")
    assert line == needs("managed backend deployment", "Enterprise", "Teams")


def test_a_backend_of_ones_own_is_enterprise(managed: ManagedMachine, paths: Paths) -> None:
    managed.license(Tier.TEAMS)
    line = refused_line(managed, "backend", "add", "mine", "http://127.0.0.1:9")
    assert line == needs("custom backends", "Enterprise", "Teams")
    assert not paths.config_file.exists() or "mine" not in paths.config_file.read_text()
    managed.license(Tier.ENTERPRISE)
    added = managed.run("backend", "add", "mine", "http://127.0.0.1:9")
    assert added.returncode == 0, added.stderr


def test_bench_is_enterprise_and_refused_before_a_load(managed: ManagedMachine) -> None:
    managed.license(Tier.TEAMS)
    assert refused_line(managed, "bench", STARTER_ID) == needs("profiling", "Enterprise", "Teams")


def test_serve_is_refused_to_core_at_start(managed: ManagedMachine) -> None:
    line = refused_line(managed, "serve", "--port", "0", "--ollama-port", "off")
    assert line.startswith("lexitui: the local gateway needs WriterPro or above (this user: Core;")


def test_load_options_beyond_context_and_gpu_layers_are_teams(managed: ManagedMachine) -> None:
    managed.license(Tier.WRITERPRO)
    for option in (["--threads", "2"], ["--kv-cache-type", "q8_0"], ["--mlock"]):
        line = refused_line(managed, "run", STARTER_ID, "hi", *option)
        assert line == needs("all configuration options", "Teams", "WriterPro"), option
