"""Starts, watches and stops one engine process, of either kind (see ``kinds``).

The engine runs in its own process on 127.0.0.1 and a free port: the embedded child
(``lexitui.engine.embedded_main``) says it is ready in one line; a llama-server is polled until
``/health`` answers. Its log (llama.cpp's own) goes to a file the app can show. Failures — a
missing or corrupt model, a bad binary, a crash, a hang at start — become an ``EngineError`` with
the engine's own first error line, never an exception that takes the caller down and never an
unbounded wait.

Each start gets a fresh random secret (``api_key``) that the engine requires on every request;
lexitui's clients send it (``auth_headers``), so only lexitui reaches the engine's port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
from pathlib import Path

from lexitui.engine.errors import EngineError
from lexitui.engine.kinds import EMBEDDED_KIND, EngineKind
from lexitui.engine.options import EngineOptions
from lexitui.engine.orphan import die_with_parent

START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 5.0
LOAD_FAILURE = "failed to load model"  # llama.cpp's words when it rejects a model file
BIND_FAILURE = "couldn't bind"  # llama.cpp's words when its port is taken


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def gguf_problem(path: Path) -> str | None:
    """Why lexitui's own GGUF reader refuses the file, or None when it reads it."""
    from lexitui.gguf import GgufError, read_local_header

    try:
        read_local_header(path)
    except GgufError as exc:
        return str(exc).removeprefix(f"{path}: ")
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EngineProcess:
    """One running engine serving one model."""

    def __init__(
        self,
        model_path: Path,
        log_path: Path,
        options: EngineOptions | None = None,
        kind: EngineKind = EMBEDDED_KIND,
    ):
        self.model_path = model_path
        self.log_path = log_path
        self.options = options or EngineOptions()
        self.kind = kind
        self.base_url = ""
        self.api_key: str | None = None  # the secret of the running engine; never logged
        self._proc: asyncio.subprocess.Process | None = None

    def __repr__(self) -> str:  # never the secret
        return f"EngineProcess({str(self.model_path)!r}, base_url={self.base_url!r})"

    @property
    def auth_headers(self) -> dict[str, str]:
        """What every request to this engine carries (empty for a public one)."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def start(self, timeout: float = START_TIMEOUT_S) -> str:
        """Start the engine and wait until it answers ``/health``; returns its base URL."""
        if not self.model_path.is_file():
            raise EngineError(f"model file not found: {self.model_path}")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.api_key = secrets.token_urlsafe(32) if self.options.private else None
        env = {k: v for k, v in os.environ.items() if k != self.kind.key_env}
        if self.api_key:
            env[self.kind.key_env] = self.api_key
        # A fresh log per start, so the error we quote is from this run, not an older one.
        with self.log_path.open("wb") as log:
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    *self.kind.command(self.model_path, port, self.options),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE if self.kind.announces_ready else log,
                    stderr=log,
                    env=env,
                    preexec_fn=die_with_parent(),
                )
            except OSError as exc:  # a binary that is not a program, or vanished
                raise EngineError(
                    f"cannot start {self.kind.label}: {exc.strerror or exc}"
                ) from None
        try:
            async with asyncio.timeout(timeout):  # one deadline for both steps
                url = await self._await_ready(port)
                self.base_url = url
                await self._await_health(port)
        except TimeoutError:
            await self.stop()
            raise EngineError(
                f"engine did not start within {timeout:.0f}s; see {self.log_path}"
            ) from None
        except EngineError:
            await self.stop()
            raise
        return url

    async def _await_ready(self, port: int) -> str:
        assert self._proc is not None
        if not self.kind.announces_ready:
            return f"http://127.0.0.1:{port}"
        assert self._proc.stdout is not None
        line = await self._proc.stdout.readline()
        if not line:
            code = await self._proc.wait()
            raise EngineError(self._explain(f"engine exited with code {code} before it was ready"))
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            raise EngineError(f"engine said something unexpected: {line[:200]!r}") from None
        if "error" in message:
            await self._proc.wait()
            raise EngineError(self._explain(str(message["error"])))
        return str(message["ready"])

    async def _await_health(self, port: int) -> None:
        import httpx  # imported here: httpx costs ~60 ms, and the TUI must paint fast

        # Until the caller's deadline: llama-server answers 503 while it loads the model.
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=2.0, headers=self.auth_headers
        ) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health")).status_code == 200:
                        return
                if not self.running:
                    code = await self.wait()
                    raise EngineError(self._explain(self._start_failure(code, port)))
                await asyncio.sleep(0.05)

    def _start_failure(self, code: int, port: int) -> str:
        """What an engine that exited while starting failed at. llama-server can exit before
        its log is written (its log is written by a thread the early exit may not wait for), so
        when the log names no cause, the two usual ones are checked here: the port, the file."""
        with contextlib.suppress(OSError):
            if LOAD_FAILURE in read_log_tail(self.log_path):
                return "engine could not load the model"
        if not first_error_line(self.log_path):
            if port_in_use(port):
                return f"{BIND_FAILURE} 127.0.0.1:{port}: another program listens there"
            problem = gguf_problem(self.model_path)
            if problem:
                return f"engine could not load the model: {problem}"
        return f"engine exited with code {code} while starting"

    def _explain(self, message: str) -> str:
        """Add llama.cpp's first error line, which names the real cause (bad magic, OOM...)."""
        cause = first_error_line(self.log_path)
        return f"{message}: {cause}" if cause else message

    async def wait(self) -> int:
        """Wait for the engine to exit (used to notice crashes); returns its exit code."""
        if self._proc is None:
            return 0
        return await self._proc.wait()

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        await stop_process(proc)


async def stop_process(proc: asyncio.subprocess.Process | None) -> None:
    """SIGTERM, and SIGKILL after ``STOP_TIMEOUT_S`` if it is still running then."""
    if proc is None or proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def read_log_tail(log_path: Path, limit: int = 65536) -> str:
    """The last ``limit`` bytes of a log, decoded leniently; raises OSError if it is missing."""
    with log_path.open("rb") as log:
        log.seek(0, 2)
        log.seek(max(0, log.tell() - limit))
        return log.read().decode("utf-8", "replace")


def first_error_line(log_path: Path) -> str:
    """The first llama.cpp error (`` E `` level) in the last part of the log, trimmed."""
    try:
        text = read_log_tail(log_path)
    except OSError:
        return ""
    for line in text.splitlines():
        _, sep, rest = f" {line}".partition(" E ")  # after a timestamp, or first on the line
        if sep:
            return rest.strip()
    return ""
