"""``lexitui fit --rpc``, ``run --rpc`` and ``rpc worker`` before anything runs: the split is
printed first, and a public worker, a worker that is down or a size that does not match is one
clear line, with nothing started. (A real split over running workers: test_rpc_split_engine.)"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from lexitui.cli import main
from lexitui.storage.starter import STARTER_ID
from tests.test_cli import lexitui


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nobody listens there once it is closed


def test_fit_prints_the_split_by_the_free_memory_given() -> None:
    result = lexitui(
        "fit", STARTER_ID, "--rpc", "127.0.0.1:50052,10.0.0.2:50052", "--rpc-free", "3G,1G"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0].startswith("RPC split of ") and "(30 layers + output) over 2 workers" in lines[0]
    )
    first, second = lines[2].split(), lines[3].split()
    assert first[0] == "127.0.0.1:50052" and first[3:5] == ["75%", "24"]
    assert second[0] == "10.0.0.2:50052" and second[3:5] == ["25%", "7"]
    assert "no authentication" in result.stdout
    data = json.loads(
        lexitui(
            "fit", STARTER_ID, "--rpc", "127.0.0.1:1,127.0.0.1:2", "--rpc-free", "1G,1G", "--json"
        ).stdout
    )
    assert [w["layers"] for w in data["rpc_split"]] == [16, 15]
    assert all(w["fits"] and w["weight_bytes"] > 10 * 2**20 for w in data["rpc_split"])


def test_a_split_that_does_not_fit_says_so() -> None:
    result = lexitui("fit", STARTER_ID, "--rpc", "127.0.0.1:1,127.0.0.1:2", "--rpc-free", "10M,10M")
    assert result.returncode == 2
    assert result.stdout.count("does not fit") == 2


def test_bad_workers_are_one_line_and_nothing_starts() -> None:
    cases = [
        (("fit", STARTER_ID, "--rpc", "8.8.8.8:50052"), "8.8.8.8 (8.8.8.8) is a public address"),
        (("fit", STARTER_ID, "--rpc", f"127.0.0.1:{closed_port()}"), "cannot reach the RPC worker"),
        (
            ("fit", STARTER_ID, "--rpc", "127.0.0.1:1", "--rpc-free", "1G,2G"),
            "2 memory sizes for 1",
        ),
        (("fit", STARTER_ID, "--rpc-free", "1G"), "--rpc-free needs --rpc"),
        (("run", STARTER_ID, "hi", "--rpc", "1.1.1.1:50052"), "is a public address"),
        (("run", STARTER_ID, "hi", "--rpc", "127.0.0.1:1", "--rpc-free", "lots"), "is not a size"),
        (
            (
                "run",
                STARTER_ID,
                "hi",
                "--rpc",
                "127.0.0.1:1",
                "--rpc-free",
                "1G",
                "--engine",
                "embedded",
            ),
            "runs on llama-server",
        ),
        (("rpc", "worker", "--host", "8.8.4.4"), "is a public address"),
        (("rpc", "worker", "--host", "0.0.0.0"), "listens on every interface"),
    ]
    for argv, words in cases:
        result = lexitui(*argv)
        assert result.returncode == 1, (argv, result.stderr)
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, argv
        assert "Traceback" not in result.stderr


def test_a_worker_without_the_program_says_how_to_get_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert main(["rpc", "worker", "--port", "50052"]) == 1
    assert capsys.readouterr().err.strip() == (
        "lexitui rpc: no ggml-rpc-server found: `lexitui engine build` builds it beside "
        "llama-server"
    )
