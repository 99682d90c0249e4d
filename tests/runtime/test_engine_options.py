"""Load options travel from ``ModelLoadOptions`` through the engine's command line into the
``xllamacpp.CommonParams`` llama.cpp is started with (checked on the real params object)."""

from __future__ import annotations

import argparse
from pathlib import Path

import xllamacpp

from lexitui.domain.backends import ModelLoadOptions
from lexitui.engine.embedded_main import apply_tuning, parse_args
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


def test_every_load_option_reaches_the_engine_params(tmp_path: Path) -> None:
    options = ModelLoadOptions(
        context_length=2048,
        gpu_layers=7,
        threads=3,
        batch_size=256,
        use_mmap=False,
        use_mlock=True,
        main_gpu=1,
        rope_freq_base=20000.0,
        rope_freq_scale=0.5,
    )
    args, params = started_with(options, tmp_path)
    assert (args.ctx, args.gpu_layers, args.threads) == (2048, 7, 3)
    assert params.n_batch == 256 and params.n_ubatch == 256
    assert params.main_gpu == 1
    assert params.rope_freq_base == 20000.0 and params.rope_freq_scale == 0.5
    assert params.load_mode == xllamacpp.llama_load_mode.LLAMA_LOAD_MODE_MLOCK
    assert params.slot_save_path == f"{tmp_path}/"


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
