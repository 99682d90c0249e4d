"""One backend's HTTP client: timeouts, the optional API key, and errors that say what happened.

Every failure leaves here as a ``BackendError`` naming the backend and its endpoint: "connection
refused" and "unknown host" become ``BackendUnavailable``, silence becomes ``BackendTimeout``, a
cut stream ``BackendProtocolError``. What a request learns about reachability is reported to
``on_outcome`` so a backend's status changes the moment a real request fails, not only at the
next health check.

The API key is read from the named environment variable at each request (so a changed variable
wins at once) and sent only when that variable is set and non-empty. It never appears in reprs,
logs or errors: a server that echoes it back has it masked. ``trust_env`` is off because it
would let ``~/.netrc`` add credentials nobody configured, and route loopback through a proxy.

httpx is imported on first use, not with this module: it costs ~60 ms, and the services (and so
this module) load before the TUI's first paint.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lexitui.backends.errors import (
    BackendError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
)
from lexitui.backends.wire import error_text
from lexitui.domain.enums import BackendStatus

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT = 2.0  # control requests and health checks: a loopback server answers in ms
STREAM_IDLE_TIMEOUT = 120.0  # a stream may pause while a big prompt is processed
REQUEST_TIMEOUT = 600.0  # a whole non-streamed answer, or a model load

OutcomeHook = Callable[[BackendStatus, str, float | None], None]


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


class HttpTransport:
    def __init__(
        self,
        backend: str,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        api_key_env: str | None = None,
        on_outcome: OutcomeHook | None = None,
        shown_url: str | None = None,
        api_key: str | None = None,
    ) -> None:
        self.backend = backend
        self.base_url = base_url.rstrip("/")
        # The URL as the user configured it (with /v1, say), which is what errors should show.
        self.shown_url = (shown_url or base_url).rstrip("/")
        self.timeout = timeout
        self.api_key_env = api_key_env
        self._api_key = api_key  # given directly (the managed engine's secret); wins over env
        self.on_outcome = on_outcome
        self._client: httpx.AsyncClient | None = None
        url = urlsplit(self.base_url)
        self.hostport = f"{url.hostname}:{url.port or (443 if url.scheme == 'https' else 80)}"

    def __repr__(self) -> str:
        return (
            f"HttpTransport({self.backend!r}, {self.base_url!r}, api_key_env={self.api_key_env!r})"
        )

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.timeout,
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _key(self) -> str:
        if self._api_key:
            return self._api_key
        return os.environ.get(self.api_key_env, "") if self.api_key_env else ""

    def _headers(self) -> dict[str, str]:
        key = self._key()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _redact(self, text: str) -> str:
        key = self._key()
        return text.replace(key, "***") if key else text

    # --- errors ---------------------------------------------------------------------------

    def protocol_error(self, detail: str) -> BackendError:
        return BackendProtocolError(self.backend, self.shown_url, self._redact(detail))

    def remote_error(self, detail: str, status_code: int | None = None) -> BackendError:
        return BackendError(
            self.backend, self.shown_url, self._redact(detail), status_code=status_code
        )

    def http_error(self, status: int, body: str) -> BackendError:
        return self.remote_error(f"HTTP {status}: {error_text(body)}", status)

    def _report(self, status: BackendStatus, message: str, latency_ms: float | None) -> None:
        if self.on_outcome is not None:
            self.on_outcome(status, message, latency_ms)

    def failure(self, exc: httpx.HTTPError, *, streaming: bool, timeout: float) -> BackendError:
        """Turn an httpx failure into our error, and report what it says about reachability."""
        import httpx

        chain = _chain(exc)
        if isinstance(exc, httpx.ConnectError):
            if any(isinstance(e, ConnectionRefusedError) for e in chain):
                why = "connection refused"
            elif any(isinstance(e, socket.gaierror) for e in chain):
                why = "unknown host"
            else:
                why = f"cannot connect: {exc}"
            detail = f"not found at {self.hostport} ({why})"
            self._report(BackendStatus.STOPPED, detail, None)
            return BackendUnavailable(self.backend, self.shown_url, detail)
        if isinstance(exc, httpx.TimeoutException):
            if isinstance(exc, httpx.ConnectTimeout):
                detail = f"no connection to {self.hostport} within {self.timeout:g} s"
            elif streaming:
                detail = f"stream stalled: no data for {timeout:g} s"
            else:
                detail = f"no answer within {timeout:g} s"
            if not streaming and timeout <= self.timeout:
                self._report(BackendStatus.ERROR, f"not answering ({detail})", None)
            return BackendTimeout(self.backend, self.shown_url, detail)
        if isinstance(exc, httpx.RemoteProtocolError):
            where = "mid-stream" if streaming else "before answering"
            return self.protocol_error(f"connection closed {where}: {exc}")
        return self.remote_error(f"{type(exc).__name__}: {exc}")

    # --- requests -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: Any = None,
        timeout: float | None = None,
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one request; a status >= 400 not in ``allow`` raises with the server's reason."""
        import httpx

        limit = timeout or self.timeout
        started = time.perf_counter()
        # A keep-alive connection the server has just closed fails before any answer; GET and
        # HEAD are safe to send again on a fresh connection.
        tries = 2 if method in ("GET", "HEAD") else 1
        for attempt in range(tries):
            try:
                resp = await self.client.request(
                    method, path, json=json, content=content, headers=self._headers(), timeout=limit
                )
                break
            except httpx.RemoteProtocolError:
                if attempt + 1 < tries:
                    continue
                raise self.protocol_error(f"connection closed before answering {path}") from None
            except httpx.HTTPError as exc:
                raise self.failure(exc, streaming=False, timeout=limit) from None
        latency = (time.perf_counter() - started) * 1000
        if resp.status_code < 500:
            self._report(BackendStatus.RUNNING, "", latency)
        if resp.status_code >= 400 and resp.status_code not in allow:
            raise self.http_error(resp.status_code, resp.text)
        return resp

    async def get_json(self, path: str, *, timeout: float | None = None) -> Any:
        return self.parse(await self.request("GET", path, timeout=timeout))

    async def post_json(self, path: str, body: Any, *, timeout: float | None = None) -> Any:
        return self.parse(await self.request("POST", path, json=body, timeout=timeout))

    def parse(self, resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise self.protocol_error(
                f"{resp.request.url.path} did not answer JSON: {resp.text[:80]!r}"
            ) from None

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        idle_timeout: float = STREAM_IDLE_TIMEOUT,
    ) -> AsyncIterator[httpx.Response]:
        """A streamed response; leaving the block early closes the connection.

        Closing is how a consumer cancels: llama.cpp and Ollama stop generating when the client
        goes away. ``Connection: close`` because llama.cpp drops the connection after a stream,
        and a pooled one reused at that instant fails the next request.
        """
        import httpx

        headers = {**self._headers(), "Connection": "close"}
        limit = httpx.Timeout(self.timeout, read=idle_timeout)
        try:
            async with self.client.stream(
                method, path, json=json, headers=headers, timeout=limit
            ) as resp:
                if resp.status_code >= 400:
                    body = (await resp.aread()).decode("utf-8", "replace")
                    raise self.http_error(resp.status_code, body)
                self._report(BackendStatus.RUNNING, "", None)
                yield resp
        except httpx.HTTPError as exc:
            raise self.failure(exc, streaming=True, timeout=idle_timeout) from None
