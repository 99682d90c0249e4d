"""What each request through the gateway costs the serving process, besides the engine's work:
nothing left to the garbage collector, records written in batches (and still all written), the
engine's resident size read at most once a second, a request to the engine sent in one write.
Speed itself is measured in bench/bench_gateway_overhead.py; these check the mechanisms."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.events import ModelLoaded
from lexitui.runtime import loaded_engine
from lexitui.runtime.engine_client import _SocketStream
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from lexitui.store.batched_writes import BatchedWrites
from lexitui.store.loop_writes import LoopWrites

SMALL = ModelLoadOptions(context_length=1024, threads=1, embedding=True)
ASK = LanguageModelRequest(messages=(Message("user", "Say hi."),), max_tokens=2, temperature=0)


def counting_finalizer() -> tuple[list[object], Callable[[], None]]:
    """Every async generator the garbage collector has to close (asyncio then runs a task for
    each), counted; the returned function puts the loop's own hooks back."""
    first_iter, finalizer = sys.get_asyncgen_hooks()
    finalized: list[object] = []

    def count(generator: Any) -> None:
        finalized.append(generator)
        if finalizer is not None:
            finalizer(generator)

    sys.set_asyncgen_hooks(first_iter, count)
    return finalized, lambda: sys.set_asyncgen_hooks(first_iter, finalizer)


@pytest.mark.engine
async def test_a_routed_answer_leaves_no_generator_to_the_garbage_collector(
    services: Services,
) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    routing = services.routing
    await routing.complete(ASK, source="test")  # imports and first-use caches out of the way
    finalized, restore = counting_finalizer()
    try:
        for _ in range(3):
            assert (await routing.complete(ASK, source="test")).text
        async for _chunk in routing.stream(ASK, source="test"):
            pass
    finally:
        restore()
    assert [getattr(g, "__qualname__", g) for g in finalized] == []
    await routing.recorder.flush()
    assert len(await routing.recorder.rows.recent()) == 5  # every request still recorded


async def test_rows_finished_together_are_written_in_one_call_and_a_drain_waits_for_them() -> None:
    written: list[list[int]] = []

    async def write(items: Sequence[int]) -> None:
        written.append(list(items))

    writes = LoopWrites(on_error=lambda exc: None)
    writes.bind()
    batch = BatchedWrites(write, writes, wait_s=0.05)
    for item in (1, 2, 3):
        batch.submit(item)
    await writes.drain()  # waits out the batch's wait: nothing is lost on a stop
    assert written == [[1, 2, 3]]
    batch.submit(4)
    await writes.drain()
    assert written == [[1, 2, 3], [4]]


async def test_events_published_together_are_one_transaction(services: Services) -> None:
    calls: list[int] = []
    real = services.store.record_events

    async def counted(events: Sequence[Any]) -> None:
        calls.append(len(events))
        await real(events)

    services.store.record_events = counted  # type: ignore[method-assign]
    services.bus.publish(ModelLoaded(model_id="a", backend="embedded", load_seconds=0.1))
    await asyncio.sleep(0)  # the writer takes the first event and waits for the rest
    services.bus.publish(ModelLoaded(model_id="b", backend="embedded", load_seconds=0.1))
    await services.recorder.stop()
    assert calls == [2]


@pytest.mark.engine
async def test_the_engines_resident_size_is_read_at_most_once_a_second(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = await services.runtime.load(STARTER_ID, SMALL)
    reads: list[int | None] = []
    real = loaded_engine._process_rss

    def counted(pid: int | None) -> int:
        reads.append(pid)
        return real(pid)

    monkeypatch.setattr(loaded_engine, "_process_rss", counted)
    services.runtime.engine(loaded.id)._rss = None
    sizes = [services.runtime.active_model for _ in range(5)]
    assert len(reads) == 1 and all(m and m.resources.ram_bytes > 0 for m in sizes)


async def test_a_request_to_the_engine_leaves_in_one_write() -> None:
    """Head and body reach the engine together: its HTTP thread wakes once per request."""
    received: list[bytes] = []
    arrived = asyncio.Event()

    async def engine(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.2)  # lets every write land before the first read
        received.append(await reader.read(65536))
        arrived.set()
        writer.close()

    server = await asyncio.start_server(engine, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sent: list[bytes] = []
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setblocking(False)
    stream = _SocketStream(sock)
    real_send = stream._loop.sock_sendall

    async def counted(s: socket.socket, data: bytes) -> None:
        sent.append(data)
        await real_send(s, data)

    stream._loop = SimpleNamespace(sock_sendall=counted, sock_recv=stream._loop.sock_recv)  # type: ignore[assignment]
    await stream.write(b"POST /v1/chat/completions HTTP/1.1\r\n\r\n")
    await stream.write(b'{"messages": []}')
    assert sent == []
    assert await stream.read(4096, timeout=5) == b""  # the engine hung up after reading
    await arrived.wait()
    assert sent == [b'POST /v1/chat/completions HTTP/1.1\r\n\r\n{"messages": []}']
    assert received == sent
    await stream.aclose()
    server.close()
    await server.wait_closed()
