"""Remote headers over HTTP Range against a real local server: bytes, replies, redirects."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import httpx
import pytest

from lexitui.gguf import GgufError, read_local_header
from lexitui.gguf.remote import read_remote_header
from tests.gguf.craft import STRING, Crafted, kv, tensor_info
from tests.gguf.range_server import Behaviour, RangeServer

KIB, MIB = 1024, 1024 * 1024


def _ranges(behaviour: Behaviour) -> list[tuple[int, int]]:
    found = [re.fullmatch(r"bytes=(\d+)-(\d+)", r.get("range", "")) for r in behaviour.requests]
    return [(int(m.group(1)), int(m.group(2))) for m in found if m]


def test_starter_header_over_http_fetches_little_more_than_the_header(
    starter_path: Path,
) -> None:
    with RangeServer(Behaviour(path=starter_path)) as server:
        remote = read_remote_header(server.url)
    header = remote.header
    assert header == read_local_header(starter_path)
    assert remote.total_size == starter_path.stat().st_size == header.file_size
    ranges = _ranges(server.behaviour)
    assert remote.requests == len(ranges) == len(server.behaviour.requests)
    last_request = ranges[-1][1] - ranges[-1][0] + 1
    assert header.header_bytes <= remote.bytes_fetched <= header.header_bytes + last_request
    assert ranges[0] == (0, 64 * KIB - 1)
    sizes = [b - a + 1 for a, b in ranges]
    assert all(later >= earlier for earlier, later in itertools.pairwise(sizes))
    assert max(sizes) <= 4 * MIB
    assert all(a >= earlier_b for (_, earlier_b), (a, _) in itertools.pairwise(ranges))
    assert all(r["accept-encoding"] == "identity" for r in server.behaviour.requests)


def test_small_chunks_still_read_forward_only(llama_file: Path) -> None:
    with RangeServer(Behaviour(path=llama_file)) as server:
        remote = read_remote_header(server.url, first_chunk=100, max_chunk=400)
    assert remote.header == read_local_header(llama_file)
    ranges = _ranges(server.behaviour)
    assert remote.requests > 5
    assert [b - a + 1 for a, b in ranges][:3] == [100, 200, 400]
    assert all(a > prev_b for (_, prev_b), (a, _) in itertools.pairwise(ranges))
    assert remote.bytes_fetched <= remote.header.header_bytes + 400


@pytest.fixture
def big_sparse_file(tmp_path: Path) -> Path:
    """A valid GGUF whose one tensor is 256 MiB of (sparse, unwritten) data."""
    crafted = Crafted(
        [kv("general.architecture", STRING, "llama")], [tensor_info("w", (64 * MIB,))]
    )
    path = tmp_path / "big.gguf"
    head = bytes(crafted)
    with path.open("wb") as file:
        file.write(head)
        file.truncate(len(head) + 256 * MIB)
    return path


def test_a_server_that_ignores_range_is_not_downloaded_whole(big_sparse_file: Path) -> None:
    behaviour = Behaviour(path=big_sparse_file, mode="ignore_range")
    with RangeServer(behaviour) as server:
        remote = read_remote_header(server.url)
        assert behaviour.finished.wait(10)
    size = big_sparse_file.stat().st_size
    assert remote.header.tensors[0].n_bytes == 256 * MIB
    assert remote.total_size == size  # from Content-Length
    assert remote.requests == 1
    assert remote.bytes_fetched < 1 * MIB
    assert behaviour.bytes_sent < size // 4  # the server stopped when we hung up


def test_a_range_ignoring_server_is_read_in_order_across_small_reads(llama_file: Path) -> None:
    behaviour = Behaviour(path=llama_file, mode="ignore_range")
    with RangeServer(behaviour) as server:
        remote = read_remote_header(server.url, first_chunk=100, max_chunk=400)
    assert remote.header == read_local_header(llama_file)
    assert remote.requests == 1


def test_a_server_that_never_says_the_size(llama_file: Path) -> None:
    with RangeServer(Behaviour(path=llama_file, mode="unknown_total")) as server:
        remote = read_remote_header(server.url, first_chunk=100, max_chunk=400)
    local = read_local_header(llama_file)
    assert remote.total_size is None and remote.header.file_size is None
    assert remote.header.metadata == local.metadata
    assert remote.header.tensors == local.tensors


def test_a_wrong_content_range_is_rejected(llama_file: Path) -> None:
    with (
        RangeServer(Behaviour(path=llama_file, mode="wrong_range")) as server,
        pytest.raises(GgufError, match=r"server sent bytes 1-\d+ for a request of bytes 0-"),
    ):
        read_remote_header(server.url)


def test_a_compressed_reply_is_rejected(llama_file: Path) -> None:
    with (
        RangeServer(Behaviour(path=llama_file, mode="gzip")) as server,
        pytest.raises(GgufError, match="compressed"),
    ):
        read_remote_header(server.url)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "401 .*needs a Hugging Face token"),
        (403, "403 .*accept the model's license"),
        (404, r"HTTP 404: http://127.0.0.1:\d+/org/model/resolve/main/m.gguf not found"),
        (500, "HTTP 500"),
    ],
)
def test_http_errors_name_the_status(status: int, message: str) -> None:
    with RangeServer(Behaviour(status=status)) as server, pytest.raises(GgufError, match=message):
        read_remote_header(server.url + "?signature=secret")
    # The query string may carry a signed URL's credentials: it never appears in errors.


def test_error_messages_leave_out_the_query_string() -> None:
    with RangeServer(Behaviour(status=404)) as server, pytest.raises(GgufError) as caught:
        read_remote_header(server.url + "?X-Amz-Signature=secret")
    assert "secret" not in str(caught.value)


def test_authorization_is_not_sent_to_the_redirect_host(llama_file: Path) -> None:
    cdn = Behaviour(path=llama_file)
    with RangeServer(cdn) as cdn_server:
        origin = Behaviour(redirect_to=cdn_server.url)
        with RangeServer(origin) as origin_server:
            remote = read_remote_header(
                origin_server.url, headers={"Authorization": "Bearer hf_secret"}
            )
    assert remote.header == read_local_header(llama_file)
    assert origin.requests and all(
        r.get("authorization") == "Bearer hf_secret" for r in origin.requests
    )
    assert cdn.requests and all("authorization" not in r for r in cdn.requests)


def test_remote_truncated_tensor_data_is_caught(tmp_path: Path, llama_file: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(llama_file.read_bytes()[:-10])
    with RangeServer(Behaviour(path=cut)) as server, pytest.raises(GgufError, match="truncated"):
        read_remote_header(server.url)


def test_an_empty_remote_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with RangeServer(Behaviour(path=empty)) as server, pytest.raises(GgufError, match="byte 0"):
        read_remote_header(server.url)


def test_an_unreachable_server_is_a_gguf_error() -> None:
    with RangeServer(Behaviour(status=404)) as server:
        url = server.url
    with pytest.raises(GgufError, match="cannot fetch"):
        read_remote_header(url)


def test_a_callers_client_is_used_and_left_open(llama_file: Path) -> None:
    with RangeServer(Behaviour(path=llama_file)) as server, httpx.Client() as client:
        read_remote_header(server.url, client=client)
        assert not client.is_closed


def test_a_malformed_url_is_a_gguf_error() -> None:
    with pytest.raises(GgufError, match=r"cannot fetch https://\[::1/x"):
        read_remote_header("https://[::1/x?token=secret")
