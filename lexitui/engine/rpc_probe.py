"""Asks a running llama.cpp RPC worker how much memory its devices have free.

It speaks the first steps of llama.cpp's RPC protocol (version 4, as the pinned build has it),
the same requests the head sends before it places layers: a message is a command byte, a
64-bit little-endian length and the body; an answer is a length and a body. HELLO says the
protocol version, DEVICE_COUNT the worker's devices, GET_DEVICE_MEMORY each one's free and
total bytes. A worker serves one client at a time, so the connection is closed at once.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from lexitui.engine.rpc_address import RpcEndpoint

PROTOCOL_MAJOR = 4
_GET_DEVICE_MEMORY = 11
_HELLO = 14
_DEVICE_COUNT = 15
_CAPS_SIZE = 24  # transport capabilities (RDMA); all zero: plain TCP
MAX_DEVICES = 64  # a sane bound on what a worker may claim
PROBE_TIMEOUT_S = 5.0


class RpcProbeError(RuntimeError):
    """The worker cannot be reached or does not speak the protocol this build does."""


@dataclass(frozen=True)
class WorkerMemory:
    endpoint: RpcEndpoint
    version: str  # "4.0.2"
    free_bytes: int  # summed over the worker's devices
    total_bytes: int
    devices: int


async def worker_memory(endpoint: RpcEndpoint, timeout: float = PROBE_TIMEOUT_S) -> WorkerMemory:
    """The worker's free and total memory; raises ``RpcProbeError`` with the reason."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
            try:
                return await _ask(endpoint, reader, writer)
            finally:
                writer.close()
    except TimeoutError:
        raise RpcProbeError(f"RPC worker {endpoint} did not answer within {timeout:.0f}s") from None
    except (OSError, asyncio.IncompleteReadError) as exc:
        what = exc.strerror if isinstance(exc, OSError) and exc.strerror else "closed the link"
        raise RpcProbeError(f"cannot reach the RPC worker {endpoint}: {what}") from None


async def _ask(
    endpoint: RpcEndpoint, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> WorkerMemory:
    hello = await _call(reader, writer, _HELLO, bytes(_CAPS_SIZE), 4 + _CAPS_SIZE)
    major, minor, patch = hello[0], hello[1], hello[2]
    version = f"{major}.{minor}.{patch}"
    if major != PROTOCOL_MAJOR:
        raise RpcProbeError(
            f"RPC worker {endpoint} speaks protocol {version}; this build speaks "
            f"{PROTOCOL_MAJOR}.x: run the same llama.cpp build on every machine"
        )
    (count,) = struct.unpack("<I", await _call(reader, writer, _DEVICE_COUNT, b"", 4))
    if not 0 < count <= MAX_DEVICES:
        raise RpcProbeError(f"RPC worker {endpoint} reports {count} devices")
    free = total = 0
    for device in range(count):
        body = await _call(reader, writer, _GET_DEVICE_MEMORY, struct.pack("<I", device), 16)
        device_free, device_total = struct.unpack("<QQ", body)
        free, total = free + device_free, total + device_total
    return WorkerMemory(endpoint, version, free, total, count)


async def _call(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    command: int,
    body: bytes,
    expected: int,
) -> bytes:
    writer.write(struct.pack("<BQ", command, len(body)) + body)
    await writer.drain()
    (size,) = struct.unpack("<Q", await reader.readexactly(8))
    if size != expected:
        raise RpcProbeError(f"unexpected RPC answer ({size} bytes, not {expected})")
    return await reader.readexactly(size)
