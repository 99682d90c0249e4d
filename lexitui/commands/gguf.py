"""``lexitui gguf PATH_OR_URL``: the validated header of a model file, without loading it.

``lexitui/cli.py`` mounts it with ``add_parser``.
Every string that came from the file goes through ``safe_text`` before it is printed (G7).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from urllib.parse import urlsplit

from lexitui.domain.units import format_bytes
from lexitui.gguf.local import read_local_header
from lexitui.gguf.records import GgufHeader
from lexitui.gguf.remote import DEFAULT_DEADLINE_S, RemoteHeader, read_remote_header
from lexitui.gguf.text import safe_text

HF_HOST = "huggingface.co"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gguf", help="show the validated header of a GGUF file (local path or URL)"
    )
    parser.add_argument("source", metavar="PATH_OR_URL", help="a .gguf file or an http(s) URL")
    parser.add_argument("--json", action="store_true", help="print the header as JSON")
    parser.add_argument(
        "--deadline",
        type=_seconds,
        default=DEFAULT_DEADLINE_S,
        metavar="SECONDS",
        help=f"give up on a URL after this long in all (default {DEFAULT_DEADLINE_S:g})",
    )
    parser.set_defaults(func=cmd_gguf)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 24 * 3600:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"expected seconds from 0 to 86400, not {text!r}")
    return value


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, parts.port or default_port


def hub_auth_headers(url: str) -> dict[str, str]:
    """``HF_TOKEN`` as a bearer token, only for the Hub's own origin (never for other servers,
    checklist K2): huggingface.co over https, or the ``HF_ENDPOINT`` mirror."""
    token = os.environ.get("HF_TOKEN", "").strip()
    hubs = {_origin(f"https://{HF_HOST}")}
    if os.environ.get("HF_ENDPOINT"):
        hubs.add(_origin(os.environ["HF_ENDPOINT"]))
    if token and _origin(url) in hubs:
        return {"Authorization": f"Bearer {token}"}
    return {}


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{format_bytes(n)} ({n:,} bytes)" if n >= 1024 else f"{n:,} bytes"


def render_text(header: GgufHeader) -> str:
    params = header.parameter_count
    rows = [
        ("Architecture", safe_text(header.architecture or "?")),
        ("Name", safe_text(header.name or "?")),
        ("Parameters", f"{params / 1e6:,.1f} M ({params:,})"),
        ("Layers", _count(header.block_count)),
        ("Heads", _count(header.head_count)),
        ("KV heads", _count(header.head_count_kv)),
        ("Embedding length", _count(header.embedding_length)),
        ("Context length", _count(header.context_length)),
        ("File type", f"{header.file_type_name or '?'} ({_count(header.file_type)})"),
        ("Tensors", _count(len(header.tensors))),
        ("Tensor bytes", _size(header.tensor_bytes)),
        ("Header bytes", _size(header.header_bytes)),
        ("GGUF version", str(header.version)),
    ]
    if header.expert_count:
        rows.insert(6, ("Experts", _count(header.expert_count)))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def _read(source: str, deadline_s: float) -> tuple[GgufHeader, RemoteHeader | None]:
    if is_url(source):
        remote = read_remote_header(source, headers=hub_auth_headers(source), deadline_s=deadline_s)
        return remote.header, remote
    return read_local_header(source), None


async def cmd_gguf(args: argparse.Namespace) -> int:
    """Print the header; a bad file raises GgufError, which the main CLI prints as one line."""
    header, remote = await asyncio.to_thread(_read, args.source, args.deadline)
    if args.json:
        data = header.to_json()
        if remote is not None:
            data["bytes_fetched"] = remote.bytes_fetched
            data["requests"] = remote.requests
        print(json.dumps(data, indent=2))
        return 0
    print(render_text(header))
    if remote is not None:
        print(f"Fetched  {_size(remote.bytes_fetched)} in {remote.requests} requests")
    return 0
