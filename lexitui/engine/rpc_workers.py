"""llama.cpp RPC workers (``ggml-rpc-server``): finding the program, starting and stopping one,
and the split a head gives them.

One model too big for one machine runs on a head ``llama-server --rpc H1:P1,H2:P2`` that places
its layers on workers, each a ``ggml-rpc-server`` that lends its devices (its GPUs, or its CPU and
RAM) over TCP. The split (``--tensor-split``) follows each worker's free memory, asked of the
worker itself (``rpc_probe``) or given by the user. Workers bind loopback or private addresses
only (``rpc_address``): the protocol has no authentication.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import Sequence
from pathlib import Path

from lexitui.domain.rpc_split import split_by_memory
from lexitui.engine.errors import EngineError, EngineNotFound
from lexitui.engine.kinds import RPC_BINARY_NAME, find_llama_server, installed_server
from lexitui.engine.orphan import die_with_parent
from lexitui.engine.process import read_log_tail, stop_process
from lexitui.engine.rpc_address import RpcEndpoint, check_private
from lexitui.engine.rpc_probe import RpcProbeError, WorkerMemory, worker_memory
from lexitui.engine.settings import EngineSettings

START_TIMEOUT_S = 30.0
CACHE_ENV = "LLAMA_CACHE"  # where a worker started with --cache keeps tensors (llama.cpp's name)


def find_rpc_server(settings: EngineSettings | None = None) -> Path:
    """The worker program: beside the llama-server in use (one build makes both), beside this
    Python, or on PATH; ``EngineNotFound`` says how to get one."""
    candidates = [installed_server().with_name(RPC_BINARY_NAME)]
    with contextlib.suppress(EngineNotFound):
        server = find_llama_server(settings)
        if server is not None:
            candidates.insert(0, server.with_name(RPC_BINARY_NAME))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    on_path = shutil.which(RPC_BINARY_NAME)
    if on_path:
        return Path(on_path)
    raise EngineNotFound(
        f"no {RPC_BINARY_NAME} found: `lexitui engine build` builds it beside llama-server"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now (the worker takes no port 0, so one is chosen for it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_taken(endpoint: RpcEndpoint) -> bool:
    family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the worker binds
        try:
            sock.bind((endpoint.host, endpoint.port))
        except OSError:
            return True
    return False


class RpcWorker:
    """One ``ggml-rpc-server`` process on this machine."""

    def __init__(
        self,
        binary: Path,
        endpoint: RpcEndpoint,
        log_path: Path,
        *,
        threads: int = 0,
        cache_dir: Path | None = None,
    ) -> None:
        self.binary = binary
        self.endpoint = endpoint
        self.log_path = log_path
        self.threads = threads
        self.cache_dir = cache_dir  # None: no tensor cache
        self.memory: WorkerMemory | None = None  # what it said once it answered
        self._proc: asyncio.subprocess.Process | None = None

    def command(self) -> list[str]:
        args = [str(self.binary), "--host", self.endpoint.host, "--port", str(self.endpoint.port)]
        if self.threads > 0:
            args += ["--threads", str(self.threads)]
        if self.cache_dir is not None:
            args.append("--cache")
        return args

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self, timeout: float = START_TIMEOUT_S) -> WorkerMemory:
        """Start the worker and wait until it answers; raises ``EngineError`` with the reason
        (a public address is refused before anything starts)."""
        check_private(self.endpoint.host)
        # Checked first: a worker already there would answer for one that failed to bind.
        if port_taken(self.endpoint):
            raise EngineError(f"cannot start an RPC worker on {self.endpoint}: the port is taken")
        env = dict(os.environ)
        if self.cache_dir is not None:
            env[CACHE_ENV] = str(self.cache_dir)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    *self.command(),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=env,
                    preexec_fn=die_with_parent(),
                )
            except OSError as exc:
                raise EngineError(f"cannot start {self.binary}: {exc.strerror or exc}") from None
        try:
            async with asyncio.timeout(timeout):
                self.memory = await self._await_answer()
        except TimeoutError:
            await self.stop()
            raise EngineError(
                f"RPC worker {self.endpoint} did not answer within {timeout:.0f}s; "
                f"see {self.log_path}"
            ) from None
        except EngineError:
            await self.stop()
            raise
        return self.memory

    async def _await_answer(self) -> WorkerMemory:
        while True:
            if not self.running:
                assert self._proc is not None
                code = await self._proc.wait()
                raise EngineError(
                    f"RPC worker {self.endpoint} exited with code {code}: {self._last_line()}"
                )
            try:
                return await worker_memory(self.endpoint, timeout=2.0)
            except RpcProbeError as exc:
                if "protocol" in str(exc):
                    raise EngineError(str(exc)) from None
            await asyncio.sleep(0.05)

    def _last_line(self) -> str:
        with contextlib.suppress(OSError):
            lines = [line for line in read_log_tail(self.log_path, 4096).splitlines() if line]
            if lines:
                return lines[-1].strip()[:200]
        return "no output"

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        await stop_process(proc)


async def read_split(
    endpoints: Sequence[RpcEndpoint], free_bytes: Sequence[int] | None = None
) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """The ``--tensor-split`` for these workers and the free bytes it came from: given, or asked
    of each worker (all at once). Raises ``RpcProbeError`` or ``ValueError`` with the reason."""
    if free_bytes is not None:
        if len(free_bytes) != len(endpoints):
            raise ValueError(
                f"{len(free_bytes)} memory sizes for {len(endpoints)} RPC workers: give one each"
            )
        free = tuple(free_bytes)
    else:
        answers = await asyncio.gather(*(worker_memory(e) for e in endpoints))
        free = tuple(answer.free_bytes for answer in answers)
    return split_by_memory(free), free
