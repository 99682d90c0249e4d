"""The HTTP client the runtime talks to its own engines with: httpx over plain asyncio sockets.

Two things make each request to an engine cheaper than httpx's default network layer (anyio),
which counted in what ``lexitui serve`` adds to an answer on a busy two-core machine
(docs/benchmarks.md):

- a request's head and its JSON body leave in one write (httpx sends them as two, and each
  wakes the engine's HTTP thread): writes wait here until the client first reads the answer;
- a connection (llama.cpp closes one after every streamed answer, so there is one per request)
  is a socket the event loop drives directly, without anyio's task group per connect and its
  cancel scope per read.

httpx above is unchanged: the same timeouts, the same exceptions (``httpcore`` ones, which httpx
turns into its own), the same connection pool. Engines listen on loopback over plain HTTP.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore._utils import is_socket_readable

TIMEOUT_S = 30.0


def engine_client(url: str, headers: dict[str, str]) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(network_backend=_SocketBackend())
    return httpx.AsyncClient(
        base_url=url, timeout=TIMEOUT_S, headers=headers, transport=transport, trust_env=False
    )


class _SocketStream(httpcore.AsyncNetworkStream):
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._pending = bytearray()

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._pending += buffer  # sent with the rest when the answer is first read

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush(timeout)
        try:
            async with asyncio.timeout(timeout):
                return await self._loop.sock_recv(self._sock, max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc) or "timed out reading") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    async def _flush(self, timeout: float | None) -> None:
        if not self._pending:
            return
        data, self._pending = bytes(self._pending), bytearray()
        try:
            async with asyncio.timeout(timeout):
                await self._loop.sock_sendall(self._sock, data)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc) or "timed out writing") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        self._sock.close()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("engines are reached over plain HTTP on loopback")

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self._sock
        if info == "is_readable":  # the pool asks before reusing an idle connection
            return is_socket_readable(self._sock)
        if info in ("client_addr", "server_addr"):
            try:
                return (
                    self._sock.getsockname() if info == "client_addr" else self._sock.getpeername()
                )
            except OSError:
                return None
        return None


class _SocketBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                address = await _address(loop, host, port)
                sock = socket.socket(address[0], socket.SOCK_STREAM)
                try:
                    sock.setblocking(False)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    for option in socket_options or ():
                        sock.setsockopt(*option)
                    await loop.sock_connect(sock, address[1])
                except BaseException:
                    sock.close()
                    raise
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or "timed out connecting") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _SocketStream(sock)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("engines are reached over TCP")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _address(
    loop: asyncio.AbstractEventLoop, host: str, port: int
) -> tuple[socket.AddressFamily, Any]:
    """An IP literal (what engines listen on) as it is; a name resolved off the loop."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return infos[0][0], infos[0][4]
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return family, (str(ip), port)
