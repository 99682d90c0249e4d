"""The HTTP client the runtime talks to its own engines with.

A request's head and its JSON body leave in one write. httpx sends them as two, and each one
wakes the engine's HTTP thread on loopback: on a busy two-core machine the second wake-up was a
measurable part of what ``lexitui serve`` adds to an answer (docs/benchmarks.md). Writes wait
here until the client first reads (the answer), so nothing else changes: timeouts, errors and
connection handling stay httpx's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

TIMEOUT_S = 30.0


def engine_client(url: str, headers: dict[str, str]) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(network_backend=_OneWriteBackend())
    return httpx.AsyncClient(
        base_url=url, timeout=TIMEOUT_S, headers=headers, transport=transport, trust_env=False
    )


class _OneWriteStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._pending = bytearray()

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._pending += buffer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush(timeout)
        return await self._inner.read(max_bytes, timeout)

    async def _flush(self, timeout: float | None) -> None:
        if self._pending:
            data, self._pending = bytes(self._pending), bytearray()
            await self._inner.write(data, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        await self._flush(timeout)
        return await self._inner.start_tls(ssl_context, server_hostname, timeout)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _OneWriteBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _OneWriteStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(path, timeout, socket_options)
        return _OneWriteStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
