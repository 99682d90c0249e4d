"""The llama-server engine's own ways to fail, and what it does that the embedded one does not
need to: a named binary that is missing or no program, one that exits at once or never answers,
and dying with the lexitui that started it. (Generation, streaming, cancelling, embeddings, slot
snapshots, SIGKILL mid-answer and a taken port run on both kinds in their own test files.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.engine import process as engine_process
from lexitui.engine.errors import EngineError, EngineNotFound
from lexitui.engine.kinds import EngineKind, find_llama_server
from lexitui.engine.options import EngineOptions
from lexitui.engine.process import EngineProcess
from lexitui.engine.select import resolve_engine
from lexitui.engine.settings import LLAMA_SERVER, SERVER_ENV, EngineSettings
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

SMALL = EngineOptions(context_length=1024)


def program(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def test_a_named_binary_that_is_missing_or_no_program_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SERVER_ENV, str(tmp_path / "nowhere" / "llama-server"))
    with pytest.raises(EngineNotFound, match=r"llama-server not found at .*nowhere.*LEXITUI_LLA"):
        resolve_engine(LLAMA_SERVER)
    text = tmp_path / "llama-server.txt"
    text.write_text("not a program")
    settings = EngineSettings.load({"runtime": {"llama_server": str(text)}}, environ={})
    with pytest.raises(EngineNotFound, match=r"is not a program .*\[runtime\] llama_server"):
        find_llama_server(settings)


def test_no_llama_server_anywhere_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    with pytest.raises(EngineNotFound, match=r"no llama-server found: .*`lexitui engine build`"):
        resolve_engine(LLAMA_SERVER, EngineSettings())


async def test_a_load_on_a_missing_binary_fails_with_the_reason(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SERVER_ENV, str(tmp_path / "llama-server"))
    with pytest.raises(EngineError, match="llama-server not found at"):
        await services.runtime.load(STARTER_ID, ModelLoadOptions(engine=LLAMA_SERVER))
    assert services.runtime.loaded_models() == []


async def test_a_binary_that_exits_at_once_fails_fast_with_its_error(
    starter_path: Path, tmp_path: Path
) -> None:
    broken = program(tmp_path, "llama-server", 'echo "E main: no usable backend" >&2\nexit 3\n')
    started = time.monotonic()
    process = EngineProcess(
        starter_path, tmp_path / "e.log", SMALL, EngineKind(LLAMA_SERVER, broken)
    )
    with pytest.raises(EngineError, match=r"exited with code 3 while starting: main: no usable"):
        await process.start(timeout=60)
    assert time.monotonic() - started < 5
    assert not process.running


async def test_a_file_that_cannot_run_is_an_engine_error(
    starter_path: Path, tmp_path: Path
) -> None:
    text = tmp_path / "llama-server"
    text.write_text("not a program")  # not executable
    process = EngineProcess(starter_path, tmp_path / "e.log", SMALL, EngineKind(LLAMA_SERVER, text))
    with pytest.raises(EngineError, match=r"cannot start llama-server .*: Permission denied"):
        await process.start()


async def test_a_binary_that_never_answers_is_stopped_at_the_deadline(
    starter_path: Path, tmp_path: Path
) -> None:
    silent = program(tmp_path, "llama-server", "exec sleep 60\n")
    process = EngineProcess(
        starter_path, tmp_path / "e.log", SMALL, EngineKind(LLAMA_SERVER, silent)
    )
    started = time.monotonic()
    with pytest.raises(EngineError, match="did not start within 2s"):
        await process.start(timeout=2)
    assert time.monotonic() - started < 10
    assert not process.running


async def test_an_exit_with_its_log_lost_is_still_explained(
    starter_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # llama-server can exit early before its log thread writes anything: the port and the
    # file are then checked by lexitui itself.
    silent = EngineKind(LLAMA_SERVER, program(tmp_path, "llama-server", "exit 1\n"))
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = int(squatter.getsockname()[1])
    monkeypatch.setattr(engine_process, "free_port", lambda: taken)
    try:
        with pytest.raises(EngineError, match=f"couldn't bind 127.0.0.1:{taken}: another program"):
            await EngineProcess(starter_path, tmp_path / "a.log", SMALL, silent).start()
    finally:
        squatter.close()
    monkeypatch.undo()
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"NOTAGGUF" + b"\0" * 4096)
    with pytest.raises(EngineError, match=r"could not load the model: not a GGUF file \(bad magic"):
        await EngineProcess(bad, tmp_path / "b.log", SMALL, silent).start()
    with pytest.raises(EngineError, match=r"exited with code 1 while starting$"):
        await EngineProcess(starter_path, tmp_path / "c.log", SMALL, silent).start()


ORPHAN = """
import asyncio, sys
from pathlib import Path
from lexitui.engine.kinds import EngineKind
from lexitui.engine.options import EngineOptions
from lexitui.engine.process import EngineProcess

async def main():
    kind = EngineKind("llama-server", Path(sys.argv[1]))
    engine = EngineProcess(Path(sys.argv[2]), Path(sys.argv[3]), EngineOptions(1024), kind)
    await engine.start()
    print(engine.pid, flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


def test_the_engine_dies_with_a_lexitui_killed_by_sigkill(
    llama_server_binary: Path, starter_path: Path, tmp_path: Path
) -> None:
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            ORPHAN,
            str(llama_server_binary),
            str(starter_path),
            str(tmp_path / "e.log"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        engine_pid = int(owner.stdout.readline())
        assert psutil.Process(engine_pid).name() == "llama-server"
        os.kill(owner.pid, signal.SIGKILL)  # no clean-up code of ours runs
        owner.wait()
        deadline = time.monotonic() + 10
        while psutil.pid_exists(engine_pid) and psutil.Process(engine_pid).status() != "zombie":
            assert time.monotonic() < deadline, "llama-server outlived its lexitui"
            time.sleep(0.05)
    finally:
        owner.kill()
        owner.wait()
