"""A WriterPro user on a managed machine, through the ``lexitui`` command as they would use it:
the starter chats, a second loaded model is refused while one is held, the Hub search stops at
the 11th of the day."""

from __future__ import annotations

import subprocess

import pytest

from lexitui.config import Paths
from lexitui.editions.tiers import Tier
from lexitui.engine.state import live_loaded_models, run_dir
from lexitui.storage.starter import STARTER_ID, starter_model_path
from tests.editions.conftest import ManagedMachine
from tests.fakes.hub_server import FakeHub
from tests.waiting import until

pytestmark = pytest.mark.timeout(300)
SECOND = "starter-copy"


def install_second_model(machine: ManagedMachine) -> None:
    starter = starter_model_path()
    assert starter is not None
    done = machine.run("import", str(starter), "--symlink", "--id", SECOND)
    assert done.returncode == 0, done.stderr


@pytest.mark.engine
async def test_writerpro_chats_with_one_model_and_is_refused_a_second(
    managed: ManagedMachine, paths: Paths
) -> None:
    managed.license(Tier.WRITERPRO)
    install_second_model(managed)
    answer = managed.run("run", STARTER_ID, "Say hi", "--max-tokens", "8", "--ctx", "1024")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip()

    chat = subprocess.Popen(
        managed.command("run", STARTER_ID, "--ctx", "1024", "--max-tokens", "4"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert chat.stdout is not None
        assert chat.stdout.readline().startswith(f"Chatting with {STARTER_ID}")
        await until(lambda: len(live_loaded_models(run_dir(paths))) == 1, seconds=60)
        second = managed.run("run", SECOND, "Say hi", "--max-tokens", "4", "--ctx", "1024")
        assert second.returncode == 1
        assert second.stderr.startswith("lexitui: WriterPro: 1 loaded model (1 loaded: ")
        assert STARTER_ID in second.stderr and "Teams has no limit" in second.stderr
        assert "Traceback" not in second.stderr
        chat.communicate("", timeout=60)
        assert chat.returncode == 0
    finally:
        if chat.poll() is None:
            chat.kill()


async def test_writerpro_hub_search_stops_at_the_eleventh_of_the_day(
    managed: ManagedMachine, hub: FakeHub
) -> None:
    managed.license(Tier.WRITERPRO)
    for _ in range(10):
        done = managed.run("search", "qwen", "--limit", "2")
        assert done.returncode == 0, done.stderr
    refused = managed.run("search", "qwen", "--limit", "2")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "lexitui: WriterPro: 10 Hugging Face searches a day (10 used today, UTC);"
        " Teams has no limit"
    )


def test_core_is_refused_loading_with_the_tier_that_unlocks_it(managed: ManagedMachine) -> None:
    # No license installed on a managed machine: Core, and the reason says why.
    refused = managed.run("run", STARTER_ID, "Say hi")
    assert refused.returncode == 1
    assert refused.stderr.startswith("lexitui: load a model needs WriterPro or above")
    assert "no license is installed" in refused.stderr
