"""Parallel slots: ``[runtime] parallel`` (and ``max_concurrent``, its older name), a load's own
``parallel`` on the command line and in the load dialog, and the context each request gets when
the slots split it, in the words ``lexitui fit`` and the load dialog show."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from lexitui.cli import build_parser
from lexitui.commands.runtime import load_options
from lexitui.config import ConfigError, Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.domain.slots import context_words
from lexitui.engine.errors import EngineError
from lexitui.runtime.footprint import estimate_footprint
from lexitui.runtime.settings import RuntimeSettings
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from lexitui.ui.runtime.load_dialog import fit_text, options_from_form
from tests.discovery.test_compatibility import recorded_machine
from tests.home_config import write_test_config

EACH = "context 4096 over 4 slots = 1024 per request"
SMALL = ModelLoadOptions(context_length=1024, threads=1, embedding=True)


def ask(text: str) -> LocalGenerationRequest:
    return LocalGenerationRequest(
        messages=(LocalChatMessage(ChatRole.USER, text),), max_tokens=200, temperature=0.0
    )


def runtime(table: dict[str, object]) -> RuntimeSettings:
    return RuntimeSettings.from_config({"runtime": table})


def test_runtime_parallel_and_its_older_name() -> None:
    assert runtime({}).parallel == 1
    assert runtime({"parallel": 4}).parallel == 4
    assert runtime({"max_concurrent": 3}).parallel == 3  # the older spelling still counts
    assert runtime({"parallel": 2, "max_concurrent": 2}).parallel == 2
    with pytest.raises(ConfigError, match=r"max_concurrent is its older name\) but differ"):
        runtime({"parallel": 4, "max_concurrent": 2})
    with pytest.raises(ConfigError, match=r"\[runtime\] parallel must be a number from 1"):
        runtime({"parallel": 0})


def test_a_loads_own_parallel_wins_over_the_config() -> None:
    four = RuntimeSettings(parallel=4)
    assert four.with_slots(ModelLoadOptions()).parallel == 4
    assert four.with_slots(ModelLoadOptions(parallel=2)).parallel == 2


@pytest.mark.parametrize("command", [["run", "m"], ["serve"], ["embed", "m", "x"]])
def test_parallel_is_a_load_option(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*command, "--parallel", "4"]
    assert load_options(build_parser(argv).parse_args(argv)).parallel == 4
    argv = [*command]
    assert load_options(build_parser(argv).parse_args(argv)).parallel is None  # the config's
    argv = [*command, "--parallel", "0"]
    with pytest.raises(SystemExit):
        build_parser(argv).parse_args(argv)
    assert "--parallel must be a number from 1 to 1024" in capsys.readouterr().err


def test_the_context_each_request_gets() -> None:
    assert context_words(4096, 1) == "context 4096"
    assert context_words(4096, 4) == EACH


async def test_the_load_dialog_takes_slots_and_shows_each_requests_context(
    tmp_path: Path, starter_path: Path
) -> None:
    options, errors = options_from_form({"context_length": "4096", "parallel": "4"}, "on", "off")
    assert errors == {} and options is not None and options.parallel == 4
    _none, errors = options_from_form({"parallel": "0"}, "on", "off")
    assert errors == {"parallel": "slots must be a whole number ≥ 1"}
    _none, errors = options_from_form({"parallel": "3"}, "on", "off")
    assert errors == {"parallel": "with embeddings, slots must be 1, 2, 4, 8…"}
    hardware = await recorded_machine(tmp_path, "nvml_0_gpus.json", 16)
    four = await estimate_footprint(starter_path, options, hardware)
    assert EACH in fit_text(four).plain
    one = await estimate_footprint(starter_path, ModelLoadOptions(context_length=4096), hardware)
    assert "slots" not in fit_text(one).plain


def fit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", "fit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


def test_fit_says_what_each_request_gets(starter_path: Path, paths: Paths) -> None:
    shown = fit(str(starter_path), "--ctx", "4096", "--parallel", "4")
    assert shown.returncode == 0, shown.stderr
    assert EACH in shown.stdout
    report = json.loads(fit(str(starter_path), "--ctx", "4096", "--parallel", "4", "--json").stdout)
    assert (report["parallel"], report["context_per_request"]) == (4, 1024)
    # Without the flag, a load's slots are [runtime] parallel's.
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, "[runtime]\nparallel = 2\n")
    configured = fit(str(starter_path), "--ctx", "4096")
    assert "context 4096 over 2 slots = 2048 per request" in configured.stdout


@pytest.mark.engine
async def test_the_engine_gets_the_loads_slots_and_answers_that_many_at_once(
    services: Services,
) -> None:
    services.runtime.settings = RuntimeSettings(parallel=2)  # the default for a load
    loaded = await services.runtime.load(STARTER_ID, SMALL)
    engine = services.runtime.engine(loaded.id)
    assert loaded.options.parallel == engine.max_concurrent == 2
    assert engine.client is not None
    props = (await engine.client.get("/props")).json()
    assert props["total_slots"] == 2
    assert props["default_generation_settings"]["n_ctx"] == 512  # 1024 over 2 slots
    first = services.runtime.stream(ask("Write a long story."))
    second = services.runtime.stream(ask("Write a long poem."))
    third = services.runtime.stream(ask("Count to ten."))
    try:
        await anext(first)
        await anext(second)  # both answer at once: neither waited for the other
        assert services.runtime.in_line == (2, 2)
        waiting = asyncio.ensure_future(anext(third))
        await asyncio.sleep(0.3)
        assert not waiting.done() and services.runtime.in_line == (3, 2)  # in line
        await first.aclose()
        assert (await waiting).text is not None  # the freed slot took it
    finally:
        for stream in (first, second, third):
            await stream.aclose()
    # A load's own slot count wins over the config.
    await services.runtime.unload(loaded.id)
    own = await services.runtime.load(STARTER_ID, replace(SMALL, parallel=4))
    assert services.runtime.engine(own.id).max_concurrent == 4
    # llama.cpp aborts at load with embeddings on and slots not a power of two: refused first.
    with pytest.raises(EngineError, match=r"power of two \(1, 2, 4, 8…\), not 3"):
        await services.runtime.load(STARTER_ID, replace(SMALL, parallel=3, context_length=512))
