"""Reading from a client for ``HttpServer``, each wait bounded.

A per-read timeout alone does not bound a request: a client sending one header line every
20 s never trips a 30 s read timeout and holds its connection (and a file descriptor) forever.
So the request head has a total deadline; the body has one in ``HttpServer._read_body``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import h11

READ_SIZE = 64 * 1024
IDLE_TIMEOUT_S = 75.0  # a keep-alive connection with no new request is closed after this
HEAD_TIMEOUT_S = 10.0  # a request head must arrive whole within this, however it trickles in
LINGER_S = 2.0  # how long unread body bytes are drained before closing (see linger)


class SlowHead(Exception):
    """A client began a request head and did not finish it in time (the answer is a 408)."""


async def read_head(
    conn: h11.Connection, reader: asyncio.StreamReader, head_timeout: float, *, first: bool
) -> Any:
    """The next request head, or whatever else h11 reads instead (the end of the connection).

    The first request of a connection must be whole within ``head_timeout`` of its start. A
    kept-alive connection may idle ``IDLE_TIMEOUT_S`` for the first byte of its next request,
    and that head must then be whole within ``head_timeout``. Raises ``TimeoutError`` when
    nothing was sent (close quietly), ``SlowHead`` when a head was begun and not finished."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + head_timeout if first else None
    begun = bool(conn.trailing_data[0])  # bytes of a pipelined request read with the last one
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        if deadline is None and begun:
            deadline = loop.time() + head_timeout
        wait = IDLE_TIMEOUT_S if deadline is None else deadline - loop.time()
        try:
            data = await asyncio.wait_for(reader.read(READ_SIZE), max(0.0, wait))
        except TimeoutError:
            if begun:
                raise SlowHead from None
            raise
        conn.receive_data(data)  # b"" tells h11 the peer closed
        begun = begun or bool(data)


async def next_event(conn: h11.Connection, reader: asyncio.StreamReader, timeout: float) -> Any:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        data = await asyncio.wait_for(reader.read(READ_SIZE), timeout)
        conn.receive_data(data)  # b"" tells h11 the peer closed


async def linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read and drop what the client is still sending before closing: closing a socket with
    unread data makes the kernel send a reset, and the client may then lose the 413 answer.
    Our side is half-closed first, so a client reading the answer sees its end at once."""
    with contextlib.suppress(OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LINGER_S
    with contextlib.suppress(OSError, TimeoutError):
        while (left := deadline - loop.time()) > 0:
            if not await asyncio.wait_for(reader.read(READ_SIZE), left):
                return
