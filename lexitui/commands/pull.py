"""``lexitui pull``: download a model, resumably and verified, without the TUI.

Ctrl+C (or SIGTERM) pauses the download cleanly: the partial and its meta stay, and running the
same command again resumes it. ``--json`` prints one JSON object per progress event (at most a
few a second) and a final ``"event": "summary"`` line. Errors print one line and exit 1; an
interrupted pull exits 130.

Only the parser lives here; the command itself (``pull_run.py``) is imported when it runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from lexitui.downloads.units import parse_size

INTERRUPTED = 130


def add_parser(sub: Any) -> None:
    pull = sub.add_parser("pull", help="download a model (resumable, verified) and install it")
    pull.add_argument("target", help="REPO:QUANT, REPO/FILE, or an http(s) URL of one file")
    pull.add_argument("--connections", type=_connections, default=4, metavar="N")
    pull.add_argument(
        "--chunk-size", type=_size, default=10 * 1024 * 1024, metavar="SIZE", help="e.g. 10M"
    )
    pull.add_argument(
        "--limit-rate", type=_size, default=None, metavar="RATE", help="bytes/s, e.g. 2M"
    )
    pull.add_argument("--json", action="store_true", help="NDJSON progress, then a summary")
    pull.set_defaults(func=cmd_pull)


async def cmd_pull(args: argparse.Namespace) -> int:
    from lexitui.commands.pull_run import run_pull

    return await run_pull(args)


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _connections(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError("--connections must be a number from 1 to 16")
    return value
