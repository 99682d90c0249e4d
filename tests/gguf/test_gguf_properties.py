"""Any bytes at all: the parser returns a header or raises GgufError, never anything else."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexitui.gguf import GgufError, GgufHeader, GgufLimits, parse_header
from tests.gguf.craft import BytesSource, small_model

VALID = bytes(small_model())
# Small limits keep each example cheap even when a mutation inflates a count or a length.
LIMITS = GgufLimits(max_array_items=100_000, max_header_bytes=1 << 20)
BOUNDED = settings(
    max_examples=250,
    deadline=timedelta(milliseconds=200),
    suppress_health_check=[HealthCheck.too_slow],
)


def parses_or_refuses(data: bytes, known_size: bool) -> None:
    try:
        header = parse_header(BytesSource(data, known_size=known_size), limits=LIMITS)
    except GgufError as exc:
        message = str(exc)
        assert message and "\n" not in message
        return
    assert isinstance(header, GgufHeader)
    assert header.header_bytes <= len(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=9))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 9))]
        else:
            del data[at:]
    return bytes(data)


@BOUNDED
@given(data=mutated(), known_size=st.booleans())
def test_mutations_of_a_valid_file(data: bytes, known_size: bool) -> None:
    parses_or_refuses(data, known_size)


@BOUNDED
@given(data=st.binary(max_size=300), known_size=st.booleans())
def test_random_bytes_after_the_magic(data: bytes, known_size: bool) -> None:
    # Past the magic and a good version, so the random bytes reach the counts and metadata.
    parses_or_refuses(b"GGUF\x03\x00\x00\x00" + data, known_size)


@settings(max_examples=100, deadline=timedelta(milliseconds=200))
@given(data=st.binary(max_size=64))
def test_random_bytes(data: bytes) -> None:
    parses_or_refuses(data, True)
