"""The downloader's HTTP client: no automatic redirects, no compression, bigger socket reads.

Redirects are followed by ``resolve.py`` hop by hop (K3, P4). httpcore reads a response body
64 KiB per call; a model file is gigabytes, and with 2 cores the Python work per read, not the
network, set the pace: reading up to 1 MiB per call measured +30-45% throughput on a 1 GiB
download over loopback (``bench/bench_download.py``). httpcore has no per-client setting for it,
so the class default is raised, once, where it exists; every client in the process gets the
larger reads, which only changes how many bytes one ``recv`` may return.
"""

from __future__ import annotations

import httpx

READ_BYTES = 1 << 20


def build_client(connect_timeout_s: float, read_timeout_s: float) -> httpx.AsyncClient:
    _larger_reads()
    return httpx.AsyncClient(
        timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        headers={"User-Agent": "lexitui", "Accept-Encoding": "identity"},
    )


def _larger_reads() -> None:
    try:
        from httpcore._async.http11 import AsyncHTTP11Connection
    except ImportError:  # a future httpcore: keep its default
        return
    current = getattr(AsyncHTTP11Connection, "READ_NUM_BYTES", None)
    if isinstance(current, int) and current < READ_BYTES:
        AsyncHTTP11Connection.READ_NUM_BYTES = READ_BYTES
