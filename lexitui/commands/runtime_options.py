"""The generation and load options ``lexitui run``, ``embed`` and ``bench`` share.

Defaults are ``None`` where the engine's own default should apply, so a flag left out never
overrides what llama.cpp (or the model's GGUF) would choose.
"""

from __future__ import annotations

import argparse

from lexitui.commands.engine import add_engine_options
from lexitui.runtime.settings import MAX_PARALLEL


def add_generation_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("generation")
    g.add_argument("--system", help="system prompt")
    g.add_argument("--max-tokens", type=int, default=256)
    g.add_argument("--temperature", type=float, default=0.7)
    g.add_argument("--top-p", type=float, default=0.9)
    g.add_argument("--top-k", type=int)
    g.add_argument("--min-p", type=float)
    g.add_argument("--typical-p", type=float)
    g.add_argument("--repeat-penalty", type=float, default=1.1)
    g.add_argument("--frequency-penalty", type=float, default=0.0)
    g.add_argument("--presence-penalty", type=float, default=0.0)
    g.add_argument("--stop", action="append", metavar="TEXT", help="stop sequence (repeatable)")
    g.add_argument("--seed", type=int)
    g.add_argument("--mirostat", type=int, choices=(0, 1, 2))
    g.add_argument("--mirostat-tau", type=float)
    g.add_argument("--mirostat-eta", type=float)
    fmt = g.add_mutually_exclusive_group()
    fmt.add_argument("--json-mode", action="store_true", help="answer with a JSON object")
    fmt.add_argument("--schema", metavar="FILE", help="answer as JSON matching this JSON schema")
    fmt.add_argument("--grammar", metavar="FILE", help="constrain the answer with a GBNF grammar")


def slot_count(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if not 1 <= value <= MAX_PARALLEL:
        raise argparse.ArgumentTypeError(f"--parallel must be a number from 1 to {MAX_PARALLEL}")
    return value


def add_load_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("loading")
    g.add_argument(
        "--backend", help="serve it from this backend (e.g. ollama; MODEL is its model name)"
    )
    g.add_argument("--ctx", type=int, default=4096, help="context length in tokens")
    g.add_argument(
        "--parallel",
        type=slot_count,
        metavar="N",
        help="requests answered at once (engine slots; each gets ctx/N tokens of context); "
        "default: [runtime] parallel",
    )
    g.add_argument("--gpu-layers", type=int, help="layers on the GPU (-1 all, 0 CPU only)")
    g.add_argument("--threads", type=int)
    g.add_argument("--batch", type=int, help="prompt batch size")
    g.add_argument("--mmap", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--mlock", action="store_true", help="lock the weights in RAM")
    g.add_argument("--main-gpu", type=int, help="GPU index to pin the model to")
    g.add_argument("--rope-freq-base", type=float)
    g.add_argument("--rope-freq-scale", type=float)
    add_engine_options(g)
