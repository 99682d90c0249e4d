"""Load options travel from ``ModelLoadOptions`` through the engine's command line into the
``xllamacpp.CommonParams`` llama.cpp is started with (checked on the real params object)."""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pytest
import xllamacpp

from lexitui.config import ConfigError
from lexitui.domain.backends import ModelLoadOptions
from lexitui.engine.embedded_main import apply_tuning, parse_args
from lexitui.engine.llama_server import server_args
from lexitui.engine.settings import THREADS_ENV
from lexitui.engine.supervisor import engine_options


def started_with(
    options: ModelLoadOptions, slots: Path | None = None
) -> tuple[argparse.Namespace, xllamacpp.CommonParams]:
    argv = [
        "--model",
        "m.gguf",
        "--port=1",
        *engine_options(options, slot_save_path=slots).as_args(),
    ]
    args = parse_args(argv)
    params = xllamacpp.CommonParams()
    apply_tuning(params, args, xllamacpp)
    return args, params


# Every load option set to something other than llama.cpp's default, for both engine kinds.
EVERY_OPTION = ModelLoadOptions(
    context_length=2048,
    gpu_layers=7,
    threads=3,
    batch_size=256,
    use_mmap=False,
    use_mlock=True,
    main_gpu=1,
    rope_freq_base=20000.0,
    rope_freq_scale=0.5,
    flash_attention="on",
    kv_cache_type="q4_0",
    embedding=True,
)


def test_every_load_option_reaches_the_engine_params(tmp_path: Path) -> None:
    args, params = started_with(EVERY_OPTION, tmp_path)
    assert (args.ctx, args.gpu_layers, args.threads) == (2048, 7, 3)
    assert params.n_batch == 256 and params.n_ubatch == 256
    assert params.main_gpu == 1
    assert params.rope_freq_base == 20000.0 and params.rope_freq_scale == 0.5
    assert params.load_mode == xllamacpp.llama_load_mode.LLAMA_LOAD_MODE_MLOCK
    assert params.slot_save_path == f"{tmp_path}/"
    assert params.flash_attn_type == xllamacpp.llama_flash_attn_type.LLAMA_FLASH_ATTN_TYPE_ENABLED
    assert params.cache_type_k == params.cache_type_v == xllamacpp.ggml_type.GGML_TYPE_Q4_0
    assert args.embedding


def test_mmap_alone_and_defaults() -> None:
    _, on = started_with(ModelLoadOptions(use_mmap=True))
    assert on.load_mode == xllamacpp.llama_load_mode.LLAMA_LOAD_MODE_MMAP
    _, off = started_with(ModelLoadOptions(use_mmap=False))
    assert off.load_mode == xllamacpp.llama_load_mode.LLAMA_LOAD_MODE_NONE
    _, locked = started_with(ModelLoadOptions(use_mlock=True))
    assert locked.load_mode == xllamacpp.llama_load_mode.LLAMA_LOAD_MODE_MMAP_MLOCK
    _, default = started_with(ModelLoadOptions())
    untouched = xllamacpp.CommonParams()
    assert default.load_mode == untouched.load_mode and default.n_batch == untouched.n_batch
    assert default.slot_save_path == ""


def test_the_same_options_map_to_llama_server_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(THREADS_ENV)
    args = server_args(Path("m.gguf"), 8123, engine_options(EVERY_OPTION, slot_save_path=tmp_path))
    pairs = dict(zip(args, [*args[1:], ""], strict=True))
    expected = {
        "--model": "m.gguf",
        "--host": "127.0.0.1",
        "--port": "8123",
        "--ctx-size": "2048",
        "--gpu-layers": "7",
        "--threads": "3",
        "--threads-batch": "3",
        "--batch-size": "256",
        "--ubatch-size": "256",
        "--main-gpu": "1",
        "--rope-freq-base": "20000.0",
        "--rope-freq-scale": "0.5",
        "--flash-attn": "on",
        "--cache-type-k": "q4_0",
        "--cache-type-v": "q4_0",
        "--slot-save-path": f"{tmp_path}/",
        "--pooling": "mean",
        "--parallel": "1",
    }
    assert {flag: pairs.get(flag) for flag in expected} == expected
    for flag in ("--no-mmap", "--mlock", "--embeddings", "--metrics"):
        assert flag in args
    # Every layer is "all" to llama-server; left-out options stay out (llama.cpp's defaults).
    bare = server_args(Path("m.gguf"), 1, engine_options(ModelLoadOptions()))
    assert dict(itertools.pairwise(bare))["--gpu-layers"] == "all"
    for flag in ("--threads", "--batch-size", "--mmap", "--no-mmap", "--mlock", "--flash-attn"):
        assert flag not in bare


def test_the_thread_count_of_loads_that_name_none_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(THREADS_ENV, "3")
    assert engine_options(ModelLoadOptions()).threads == 3
    assert engine_options(ModelLoadOptions(threads=2)).threads == 2, "a named count wins"
    monkeypatch.setenv(THREADS_ENV, "")
    assert engine_options(ModelLoadOptions()).threads == 0, "unset: llama.cpp picks"
    monkeypatch.setenv(THREADS_ENV, "two")
    with pytest.raises(ConfigError, match="LEXITUI_THREADS must be a whole number"):
        engine_options(ModelLoadOptions())
