"""Checklist G1-G5: every kind of malformed header is refused with one GgufError, fast."""

from __future__ import annotations

import struct
import time
import tracemalloc

import pytest
from gguf import GGMLQuantizationType as Q

from lexitui.gguf import GgufError, GgufHeader, GgufLimits, parse_header
from tests.gguf.craft import (
    ARRAY,
    BOOL,
    STRING,
    U8,
    U32,
    U64,
    BytesSource,
    Crafted,
    gstr,
    kv,
    kv_array,
    kv_raw,
    small_model,
    tensor_info,
)


def parse(data: bytes | Crafted, *, known_size: bool = True, **kw: object) -> GgufHeader:
    return parse_header(BytesSource(bytes(data), known_size=known_size), **kw)  # type: ignore[arg-type]


def rejects(data: bytes | Crafted, match: str, *, known_size: bool = True) -> None:
    with pytest.raises(GgufError, match=match):
        parse(data, known_size=known_size)


def test_the_small_model_is_valid() -> None:
    header = parse(small_model())
    assert header.architecture == "llama"
    assert header.name == "Tiny ✓"
    assert next(t.name for t in header.tensors) == "token_embd.weight"
    assert header.vocab_size == 70
    assert header.metadata["tokenizer.ggml.add_bos_token"] is True


# --- G1: counts ---------------------------------------------------------------------------


def test_g1_absurd_tensor_count() -> None:
    rejects(Crafted([], [], tensor_count=2**40), "tensor count 1099511627776 is absurd")


def test_g1_absurd_kv_count() -> None:
    rejects(Crafted([], [], kv_count=2**63), "metadata count .* is absurd")


def test_g1_counts_that_cannot_fit_in_the_file() -> None:
    rejects(Crafted([], [], kv_count=1000), r"1000 metadata entries .* cannot fit in the \d+ bytes")
    rejects(Crafted([kv("a", U8, 1)], [], tensor_count=100), "100 tensors cannot fit")


def test_g1_custom_limits_apply() -> None:
    data = small_model()
    with pytest.raises(GgufError, match=r"tensor count 3 is absurd \(limit 2\)"):
        parse(data, limits=GgufLimits(max_tensors=2))


# --- G2: lengths --------------------------------------------------------------------------


def _hostile_57_bytes() -> bytes:
    """The file that took gguf.GGUFReader 18 s and 3.7 GB: one 3M-string array, no strings."""
    data = bytes(Crafted([kv_raw("tokenizer", ARRAY, struct.pack("<IQ", STRING, 3_000_000))], []))
    assert len(data) == 64  # 57 bytes of header, padded to the alignment
    return data[:57]


@pytest.mark.parametrize("known_size", [True, False])
def test_g2_the_57_byte_file_fails_in_milliseconds(known_size: bool) -> None:
    data = _hostile_57_bytes()
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(GgufError, match=r"cannot fit|truncated"):
        parse(data, known_size=known_size)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.05
    assert peak < 1_000_000


def test_g2_array_longer_than_the_hard_limit() -> None:
    body = struct.pack("<IQ", U8, 2**40)
    rejects(Crafted([kv_raw("a", ARRAY, body)], []), "array of 1099511627776 items .* absurd")


def test_g2_huge_string_value() -> None:
    rejects(Crafted([kv_raw("a", STRING, struct.pack("<Q", 2**50))], []), "exceeds the")


def test_g2_huge_key_and_tensor_name() -> None:
    # Size unknown (a server that sent no total), so only the length limits can catch these.
    huge_key = struct.pack("<4sIQQQ", b"GGUF", 3, 0, 1, 2**62)
    rejects(huge_key, "metadata key of .* exceeds", known_size=False)
    rejects(Crafted([], [struct.pack("<Q", 2**62)]), "tensor name of .* exceeds", known_size=False)


def test_g2_huge_string_inside_a_long_array() -> None:
    items = struct.pack("<Q", 1) + b"a"
    body = struct.pack("<IQ", STRING, 100) + items * 99 + struct.pack("<Q", 2**60)
    rejects(Crafted([kv_raw("a", ARRAY, body)], []), "string of 1152921504606846976 bytes")


def test_g2_header_larger_than_the_limit() -> None:
    with pytest.raises(GgufError, match="larger than the 100 bytes limit"):
        parse(small_model(), limits=GgufLimits(max_header_bytes=100))


# --- G3: tensors --------------------------------------------------------------------------


def _with_tensors(*infos: bytes, data_bytes: int = 4096) -> Crafted:
    return Crafted([kv("general.architecture", STRING, "llama")], list(infos), data_bytes)


@pytest.mark.parametrize(
    ("dims", "message"),
    [
        ((), "0 dimensions"),
        ((1, 1, 1, 1, 1), "5 dimensions"),
        ((4, 0), "invalid dimension 0"),
        ((4, 2**64 - 1), "invalid dimension"),  # -1 as int64
        ((2**32, 2**32), "overflows int64"),
    ],
)
def test_g3_bad_dims(dims: tuple[int, ...], message: str) -> None:
    rejects(_with_tensors(tensor_info("w", dims)), message)


def test_g3_unknown_type_and_block_size() -> None:
    rejects(_with_tensors(tensor_info("w", (32,), 4)), "unknown ggml type 4")  # Q4_2, removed
    rejects(_with_tensors(tensor_info("w", (32,), 9999)), "unknown ggml type 9999")
    rejects(_with_tensors(tensor_info("w", (48, 2), Q.Q4_K)), "not a multiple of the Q4_K block")


def test_g3_misaligned_offset() -> None:
    rejects(_with_tensors(tensor_info("w", (4,), Q.F32, 16)), "offset 16 is not a multiple")


def test_g3_overlapping_tensors() -> None:
    first = tensor_info("a", (16,), Q.F32, 0)  # 64 bytes
    rejects(_with_tensors(first, tensor_info("b", (8,), Q.F32, 32)), "tensors a and b overlap")
    assert len(parse(_with_tensors(first, tensor_info("b", (8,), Q.F32, 64))).tensors) == 2


def test_g3_duplicate_tensor_names() -> None:
    infos = (tensor_info("w", (8,), Q.F32, 0), tensor_info("w", (8,), Q.F32, 32))
    rejects(_with_tensors(*infos), "duplicate tensor name w")


def test_g3_tensor_data_past_the_end_of_the_file() -> None:
    data = bytes(_with_tensors(tensor_info("w", (1024,), Q.F32, 0), data_bytes=4096))
    parse(data)
    rejects(data[:-1], r"file is truncated: tensors need \d+ bytes, file has \d+")


def test_g3_tensor_name_with_control_characters() -> None:
    rejects(_with_tensors(tensor_info("w\x1b[31m", (8,))), "control characters")
    rejects(_with_tensors(tensor_info(b"w\xff", (8,))), "invalid UTF-8 in the tensor name")


# --- G4: alignment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alignment_kv",
    [
        kv("general.alignment", U32, 0),
        kv("general.alignment", U32, 48),
        kv("general.alignment", U64, 32),  # right value, wrong type
        kv("general.alignment", STRING, "32"),
    ],
)
def test_g4_bad_alignment(alignment_kv: bytes) -> None:
    rejects(Crafted([alignment_kv], []), "general.alignment must be a non-zero power of two")


def test_g4_custom_alignment_is_honoured() -> None:
    crafted = Crafted([kv("general.alignment", U32, 64)], [], alignment=64)
    header = parse(crafted)
    assert (header.alignment, header.data_offset) == (64, 64)


# --- G5: framing --------------------------------------------------------------------------


def test_g5_bad_magic_and_empty_file() -> None:
    rejects(Crafted([], [], magic=b"GGML"), "bad magic")
    rejects(b"PK\x03", "bad magic")
    rejects(b"", "empty")


@pytest.mark.parametrize(("version", "message"), [(1, "version 1"), (4, "version 4")])
def test_g5_unsupported_versions(version: int, message: str) -> None:
    rejects(Crafted([], [], version=version), message)


def test_g5_version_2_is_accepted() -> None:
    assert parse(Crafted([kv("a", U8, 1)], [], version=2)).version == 2


def test_g5_big_endian_files_are_named() -> None:
    rejects(Crafted([], [], version=3 << 24), "big-endian")


def test_g5_truncation_at_every_byte_is_a_gguf_error() -> None:
    data = bytes(small_model())
    header_end = len(small_model().header())
    for known_size in (True, False):
        for cut in range(header_end):
            with pytest.raises(GgufError):
                parse(data[:cut], known_size=known_size)
    # Cut inside the tensor data: only a reader that knows the size can tell.
    rejects(data[:-1], "file is truncated")


def test_g5_duplicate_keys() -> None:
    rejects(Crafted([kv("a", U8, 1), kv("a", U8, 2)], []), "duplicate metadata key a")


def test_g5_nested_arrays() -> None:
    inner = struct.pack("<IQ", U8, 1) + b"\x01"
    rejects(Crafted([kv_raw("a", ARRAY, struct.pack("<IQ", ARRAY, 1) + inner)], []), "nested")


def test_g5_invalid_utf8_in_values() -> None:
    rejects(Crafted([kv("a", STRING, b"\xc3\x28")], []), "invalid UTF-8 in the value of a")
    short_array = kv_raw("b", ARRAY, struct.pack("<IQ", STRING, 1) + gstr(b"\xff"))
    rejects(Crafted([short_array], []), "invalid UTF-8 in the value of b")


def test_g5_unknown_value_types() -> None:
    rejects(Crafted([kv_raw("a", 13, b"\0" * 8)], []), "unknown value type 13")
    rejects(Crafted([kv_raw("a", ARRAY, struct.pack("<IQ", 99, 0))], []), "unknown array item")


def test_g5_bad_keys() -> None:
    rejects(Crafted([kv("a\x1b]0;pwned\x07", U8, 1)], []), "not printable ASCII")
    rejects(Crafted([kv("naïve", U8, 1)], []), "not printable ASCII")
    rejects(Crafted([kv("", U8, 1)], []), "empty metadata key")


def test_bools_and_empty_arrays_parse() -> None:
    header = parse(Crafted([kv("b", BOOL, False), kv_array("e", U32, [])], []))
    assert header.metadata["b"] is False
    empty = header.metadata["e"]
    assert (empty.length, empty.values) == (0, ())  # type: ignore[union-attr]
