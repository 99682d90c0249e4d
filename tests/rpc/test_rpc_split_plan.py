"""Planning a split over RPC workers without starting anything: the address rule (llama.cpp's
RPC has no authentication, so only loopback and private addresses), the shares by free memory,
the layers each worker gets (llama.cpp's own placement rule), and the head's command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexitui.domain.rpc_split import layers_per_device, split_by_memory
from lexitui.engine.errors import EngineError
from lexitui.engine.kinds import EMBEDDED_KIND, EngineKind
from lexitui.engine.llama_server import server_args
from lexitui.engine.options import EngineOptions
from lexitui.engine.rpc_address import RpcAddressError, RpcEndpoint, parse_endpoints
from lexitui.engine.settings import LLAMA_SERVER

GIB = 2**30


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1:50052",
        "localhost:1",
        "10.1.2.3:50052,192.168.0.7:50053",
        "[::1]:9",
        "172.16.0.1:5",
    ],
)
def test_loopback_and_private_workers_are_taken(text: str) -> None:
    assert len(parse_endpoints(text)) == text.count(",") + 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("8.8.8.8:50052", r"8.8.8.8 \(8.8.8.8\) is a public address: llama.cpp's RPC has no auth"),
        ("10.0.0.1:1,1.1.1.1:2", r"1.1.1.1 .* is a public address"),
        ("0.0.0.0:50052", r"listens on every interface, public ones included"),
        ("127.0.0.1", r"'127.0.0.1' is not HOST:PORT"),
        ("127.0.0.1:0", r"is not HOST:PORT"),
        ("127.0.0.1:1,127.0.0.1:1", r"named twice"),
        (" , ", r"no RPC worker named"),
    ],
)
def test_public_or_malformed_workers_are_refused_in_one_line(text: str, words: str) -> None:
    with pytest.raises(RpcAddressError, match=words) as caught:
        parse_endpoints(text)
    assert "\n" not in str(caught.value)


def test_shares_follow_free_memory() -> None:
    assert split_by_memory([24 * GIB, 8 * GIB]) == (24576.0, 8192.0)
    with pytest.raises(ValueError, match="reports no free memory"):
        split_by_memory([GIB, 0])


@pytest.mark.parametrize(
    ("n_layers", "split", "expected"),
    [
        # 30 layers + output = 31 placed; llama.cpp cuts at i / 31 against cumulative shares.
        (30, (1, 1), (16, 15)),
        (30, (3, 1), (24, 7)),
        (30, (1, 2, 1), (8, 16, 7)),
        (1, (1, 1), (1, 1)),
        (4, (1, 0), (5, 0)),
    ],
)
def test_layers_are_placed_as_llama_cpp_places_them(
    n_layers: int, split: tuple[float, ...], expected: tuple[int, ...]
) -> None:
    counts = layers_per_device(n_layers, split)
    assert counts == expected and sum(counts) == n_layers + 1


def test_the_head_names_its_workers_and_their_shares() -> None:
    workers = (str(RpcEndpoint("127.0.0.1", 50052)), str(RpcEndpoint("::1", 50053)))
    options = EngineOptions(rpc_servers=workers, tensor_split=(3000.5, 1000.0))
    args = server_args(Path("m.gguf"), 8080, options)
    assert args[args.index("--rpc") + 1] == "127.0.0.1:50052,[::1]:50053"
    assert args[args.index("--tensor-split") + 1] == "3000.5,1000"
    assert "--rpc" not in server_args(Path("m.gguf"), 8080, EngineOptions())


def test_a_split_needs_one_share_per_worker_and_llama_server() -> None:
    with pytest.raises(ValueError, match="one share for each RPC worker"):
        EngineOptions(rpc_servers=("127.0.0.1:1",), tensor_split=(1.0, 1.0))
    options = EngineOptions(rpc_servers=("127.0.0.1:1",))
    with pytest.raises(EngineError, match="runs on llama-server, not the embedded engine"):
        EMBEDDED_KIND.command(Path("m.gguf"), 1, options)
    assert "--rpc" in EngineKind(LLAMA_SERVER, Path("llama-server")).command(
        Path("m.gguf"), 1, options
    )
