"""One build makes both llama.cpp programs a split model needs: ``llama-server`` (the head, with
``--rpc``) and ``ggml-rpc-server`` (the worker), for the CPU and for every GPU backend alike.
(The build itself runs once per machine for the engine tests; here its plan and its cache.)"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from lexitui.engine import build as engine_build
from lexitui.engine.build import (
    BuildError,
    BuildPlan,
    build_args,
    cached_binary,
    configure_args,
    install,
)
from lexitui.engine.kinds import BINARY_NAME, RPC_BINARY_NAME


@pytest.mark.parametrize("backend", ["cpu", "cuda", "rocm", "vulkan"])
def test_every_backend_is_configured_with_rpc(backend: str, tmp_path: Path) -> None:
    archs = ("90",) if backend == "cuda" else ()
    args = configure_args(BuildPlan(backend, archs), tmp_path / "src", tmp_path / "build")
    assert "-DGGML_RPC=ON" in args
    if backend == "cuda":  # the GPU head and GPU workers come from one CUDA build
        assert "-DGGML_CUDA=ON" in args and "-DCMAKE_CUDA_ARCHITECTURES=90" in args


def test_both_programs_are_built_in_one_step(tmp_path: Path) -> None:
    args = build_args(tmp_path / "build", 2)
    targets = args[args.index("--target") + 1 : args.index("-j")]
    assert targets == [BINARY_NAME, RPC_BINARY_NAME] == ["llama-server", "ggml-rpc-server"]


def test_a_build_without_the_worker_is_not_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cache filled before builds had the worker: its folder name differs, so it is rebuilt.
    monkeypatch.setenv(engine_build.CACHE_ENV, str(tmp_path))
    plan = BuildPlan("cpu")
    assert "-cpu-rpc-" in plan.name
    old = tmp_path / plan.name.replace("-rpc-", "-")
    (old / "bin").mkdir(parents=True)
    (old / "build.json").write_text("{}")
    (old / "bin" / BINARY_NAME).write_bytes(b"")
    (old / "bin" / BINARY_NAME).chmod(0o755)
    assert cached_binary(plan) is None


def built_folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "build" / "bin"
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_text(f"#!/bin/sh\necho {name}\n")
        (folder / name).chmod(0o755)
    return folder


def test_the_cache_holds_both_programs_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(engine_build.CACHE_ENV, str(tmp_path / "cache"))
    plan = BuildPlan("cpu")
    half = built_folder(tmp_path / "half", BINARY_NAME)
    with pytest.raises(BuildError, match=r"finished without .*ggml-rpc-server"):
        engine_build._store(plan, half)
    assert cached_binary(plan) is None
    whole = built_folder(tmp_path / "whole", BINARY_NAME, RPC_BINARY_NAME)
    server = engine_build._store(plan, whole)
    assert server == cached_binary(plan)
    worker = cached_binary(plan, RPC_BINARY_NAME)
    assert worker is not None and worker.parent == server.parent
    assert json.loads((server.parent.parent / "build.json").read_text())["backend"] == "cpu"


def test_install_puts_the_worker_beside_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = built_folder(tmp_path, BINARY_NAME, RPC_BINARY_NAME)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    target = install(built / BINARY_NAME)
    assert target == tmp_path / "venv" / "bin" / BINARY_NAME
    assert os.access(target.with_name(RPC_BINARY_NAME), os.X_OK)
