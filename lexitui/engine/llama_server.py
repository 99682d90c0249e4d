"""llama.cpp's own ``llama-server`` binary as an engine: its command line and what it says of
itself.

The same ``EngineOptions`` the embedded engine takes map to llama-server's flags here, so a load
means the same thing on either kind. The secret goes in ``LLAMA_API_KEY`` (the environment, which
other users cannot read, unlike the command line). ``--metrics`` is on, as in the embedded engine.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from lexitui.engine.options import EngineOptions

KEY_ENV = "LLAMA_API_KEY"
PROBE_TIMEOUT_S = 60.0


def server_args(model: Path, port: int, options: EngineOptions) -> list[str]:
    """llama-server's arguments for one model on 127.0.0.1:``port``."""
    layers = "all" if options.gpu_layers < 0 else str(options.gpu_layers)
    args = [
        "--model", str(model),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--ctx-size", str(options.context_length),
        "--gpu-layers", layers,
        "--parallel", str(options.parallel),
        "--metrics",
        "--no-webui",
        # The log's level letters (" E ") are how an engine's first error is found.
        "--log-prefix", "--log-timestamps", "--log-colors", "off",
    ]  # fmt: skip
    if options.threads > 0:
        args += ["--threads", str(options.threads), "--threads-batch", str(options.threads)]
    optional: dict[str, object] = {
        "--batch-size": options.batch_size,
        "--main-gpu": options.main_gpu,
        "--rope-freq-base": options.rope_freq_base,
        "--rope-freq-scale": options.rope_freq_scale,
        "--flash-attn": options.flash_attention,
        "--cache-type-k": options.kv_cache_type,
        "--cache-type-v": options.kv_cache_type,
        # llama.cpp joins folder and file name by plain concatenation.
        "--slot-save-path": _folder(options.slot_save_path),
    }
    for flag, value in optional.items():
        if value is not None:
            args += [flag, str(value)]
    if options.batch_size is not None:
        args += ["--ubatch-size", str(min(512, options.batch_size))]
    if options.use_mmap is not None:
        args.append("--mmap" if options.use_mmap else "--no-mmap")
    if options.use_mlock:
        args.append("--mlock")
    if options.embedding:
        args += ["--embeddings", "--pooling", "mean"]
    if options.rpc_servers:
        # Workers come first in llama.cpp's device list, so the split's shares are theirs.
        args += ["--rpc", ",".join(options.rpc_servers)]
        if options.tensor_split:
            args += ["--tensor-split", ",".join(f"{share:g}" for share in options.tensor_split)]
    return args


def _folder(path: str | None) -> str | None:
    return None if path is None else path.rstrip("/") + "/"


# "version: 9993 (1a2b3c4d)"
_VERSION = re.compile(r"^version: (\S+)(?: \((\w+)\))?", re.MULTILINE)


def parse_version(text: str) -> str | None:
    """The build number (and commit) from ``llama-server --version``."""
    match = _VERSION.search(text)
    if match is None:
        return None
    commit = match[2] if match[2] and match[2] != "unknown" else None  # a source package's
    return f"b{match[1]}" + (f" ({commit})" if commit else "")


def run_probe(binary: Path, flag: str) -> str:
    """What ``binary flag`` writes (stdout and stderr together); raises OSError or
    subprocess.SubprocessError when it cannot be run or fails."""
    done = subprocess.run(
        [str(binary), flag],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=PROBE_TIMEOUT_S,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        last = (output.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise subprocess.SubprocessError(f"`{binary.name} {flag}` failed: {last[:200]}")
    return output
