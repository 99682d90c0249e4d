"""Child-process entry of the embedded engine: llama.cpp's HTTP server via xllamacpp.

Run as ``python -m lexitui.engine.embedded_main --model PATH --port N``. It lives in its own
process so a crash inside llama.cpp (a bad file, an out-of-memory abort) can never take the TUI
down. It prints one JSON line on stdout — ``{"ready": url}`` or ``{"error": text}`` — then serves
until SIGTERM/SIGINT or until its parent goes away.

The parent hands it a secret in ``LEXITUI_ENGINE_KEY`` (the environment, not the command line:
another user can read a process's arguments but not its environment); llama.cpp then refuses
every request without ``Authorization: Bearer SECRET`` (401), so other programs and users on
the machine cannot use the engine's port behind the gateway's back.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any

KEY_ENV = "LEXITUI_ENGINE_KEY"
_FLASH = {"on": "ENABLED", "off": "DISABLED", "auto": "AUTO"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lexitui-engine")
    parser.add_argument("--model", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--gpu-layers", type=int, default=-1)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--embedding", action="store_true")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--mmap", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--mlock", action="store_true")
    parser.add_argument("--main-gpu", type=int)
    parser.add_argument("--rope-freq-base", type=float)
    parser.add_argument("--rope-freq-scale", type=float)
    parser.add_argument("--flash-attn", choices=("on", "off", "auto"))
    parser.add_argument("--cache-type")
    parser.add_argument("--slot-save-path")
    return parser.parse_args(argv)


def _say(payload: dict[str, str]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    # If the app is killed with -9 nobody sends us SIGTERM; exit once we are orphaned.
    while not stop.wait(1.0):
        if os.getppid() != parent_pid:
            stop.set()


def apply_tuning(params: Any, args: argparse.Namespace, xllamacpp: Any) -> None:
    """Batch size, memory mapping/locking, GPU pinning and RoPE scaling, where asked for."""
    if args.batch:
        params.n_batch = args.batch
        params.n_ubatch = min(params.n_ubatch, args.batch)
    if args.main_gpu is not None:
        params.main_gpu = args.main_gpu
    if args.rope_freq_base is not None:
        params.rope_freq_base = args.rope_freq_base
    if args.rope_freq_scale is not None:
        params.rope_freq_scale = args.rope_freq_scale
    if args.flash_attn is not None:
        params.flash_attn_type = getattr(
            xllamacpp.llama_flash_attn_type, f"LLAMA_FLASH_ATTN_TYPE_{_FLASH[args.flash_attn]}"
        )
    if args.cache_type is not None:
        cache_type = getattr(xllamacpp.ggml_type, f"GGML_TYPE_{args.cache_type.upper()}")
        params.cache_type_k = cache_type
        params.cache_type_v = cache_type
    if args.slot_save_path:
        # llama.cpp joins folder and file name by plain concatenation.
        params.slot_save_path = os.path.join(args.slot_save_path, "")
    # llama.cpp folds mmap and mlock into one load mode.
    modes = xllamacpp.llama_load_mode
    if args.mlock:
        mode = "MMAP_MLOCK" if args.mmap is not False else "MLOCK"
    elif args.mmap is not None:
        mode = "MMAP" if args.mmap else "NONE"
    else:
        return
    params.load_mode = getattr(modes, f"LLAMA_LOAD_MODE_{mode}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    key = os.environ.pop(KEY_ENV, "")  # not passed on to anything this process starts
    if not os.path.isfile(args.model):
        _say({"error": f"model file not found: {args.model}"})
        return 2
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_gpu_layers = args.gpu_layers
    params.n_parallel = args.parallel
    params.endpoint_metrics = True  # Prometheus figures at /metrics, as llama-server --metrics
    if key:
        params.api_keys = [key]
    if args.threads > 0:
        params.cpuparams.n_threads = args.threads
        params.cpuparams_batch.n_threads = args.threads
    if args.embedding:
        params.embedding = True
        params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
    apply_tuning(params, args, xllamacpp)
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:  # xllamacpp raises RuntimeError for files llama.cpp rejects
        _say({"error": f"engine could not load the model: {exc}"})
        return 3
    _say({"ready": str(server.listening_address)})

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=_watch_parent, args=(os.getppid(), stop), daemon=True).start()
    stop.wait()
    # Out at once, not through ``del server``: llama.cpp's shutdown waits up to 30 s for a request
    # in flight while holding the interpreter lock, and an engine asked to stop (``lexitui
    # unload``, the app quitting) must free its memory now. The OS releases the model; nothing
    # here is left to flush but our own streams.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
