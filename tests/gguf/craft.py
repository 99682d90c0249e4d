"""Hand-made GGUF bytes, so tests can build files no well-behaved writer would produce."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from gguf import GGMLQuantizationType, GGUFValueType

U8, I32, U32, U64, F32, BOOL = (
    GGUFValueType.UINT8,
    GGUFValueType.INT32,
    GGUFValueType.UINT32,
    GGUFValueType.UINT64,
    GGUFValueType.FLOAT32,
    GGUFValueType.BOOL,
)
STRING, ARRAY = GGUFValueType.STRING, GGUFValueType.ARRAY
_SCALAR_FORMAT = {U8: "<B", I32: "<i", U32: "<I", U64: "<Q", F32: "<f", BOOL: "<?"}


def gstr(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def kv_raw(key: str | bytes, value_type: int, payload: bytes) -> bytes:
    return gstr(key) + struct.pack("<I", value_type) + payload


def kv(key: str | bytes, value_type: GGUFValueType, value: object) -> bytes:
    if value_type == STRING:
        assert isinstance(value, str | bytes)
        return kv_raw(key, value_type, gstr(value))
    return kv_raw(key, value_type, struct.pack(_SCALAR_FORMAT[value_type], value))


def kv_array(key: str, item_type: GGUFValueType, items: list[object]) -> bytes:
    if item_type == STRING:
        body = b"".join(gstr(str(item)) for item in items)
    else:
        body = b"".join(struct.pack(_SCALAR_FORMAT[item_type], item) for item in items)
    return kv_raw(key, ARRAY, struct.pack("<IQ", item_type, len(items)) + body)


def tensor_info(
    name: str | bytes,
    dims: tuple[int, ...],
    ggml_type: int = GGMLQuantizationType.F32,
    offset: int = 0,
) -> bytes:
    out = gstr(name) + struct.pack("<I", len(dims))
    out += b"".join(struct.pack("<Q", d) for d in dims)
    return out + struct.pack("<IQ", ggml_type, offset)


@dataclass
class Crafted:
    """A GGUF file in pieces; ``bytes()`` lays them out, counts default to the real ones."""

    kvs: list[bytes]
    tensors: list[bytes]
    data_bytes: int = 0
    version: int = 3
    magic: bytes = b"GGUF"
    tensor_count: int | None = None
    kv_count: int | None = None
    alignment: int = 32

    def header(self) -> bytes:
        counts = struct.pack(
            "<IQQ",
            self.version,
            len(self.tensors) if self.tensor_count is None else self.tensor_count,
            len(self.kvs) if self.kv_count is None else self.kv_count,
        )
        return self.magic + counts + b"".join(self.kvs) + b"".join(self.tensors)

    def __bytes__(self) -> bytes:
        head = self.header()
        padding = -len(head) % self.alignment
        return head + b"\0" * padding + b"\xab" * self.data_bytes


def small_model() -> Crafted:
    """A valid little llama-like file: strings, numbers, short and long arrays, three tensors."""
    return Crafted(
        kvs=[
            kv("general.architecture", STRING, "llama"),
            kv("general.name", STRING, "Tiny ✓"),
            kv("llama.block_count", U32, 2),
            kv("llama.attention.head_count", U32, 4),
            kv("llama.embedding_length", U32, 64),
            kv("llama.rope.freq_base", F32, 10000.0),
            kv("tokenizer.ggml.add_bos_token", BOOL, True),
            kv_array("general.languages", STRING, ["en", "fr"]),
            kv_array("tokenizer.ggml.tokens", STRING, [f"t{i}" for i in range(70)]),
            kv_array("tokenizer.ggml.token_type", I32, list(range(70))),
        ],
        tensors=[
            tensor_info("token_embd.weight", (64, 4), GGMLQuantizationType.F16, 0),
            tensor_info("blk.0.attn_q.weight", (32, 2), GGMLQuantizationType.Q8_0, 512),
            tensor_info("blk.1.attn_norm.weight", (64,), GGMLQuantizationType.F32, 608),
        ],
        data_bytes=608 + 256,  # F16 512 bytes, Q8_0 68 (+ padding), F32 256
    )


def shaped_model(
    blocks: int = 2, *, extra: list[bytes] | None = None, tensors: list[bytes] | None = None
) -> Crafted:
    """A small llama whose shape keys agree with its tensors (``blocks`` is only what the
    header claims): 32 wide, 4 heads of 8 sharing 2 KV heads, two blocks."""
    return Crafted(
        kvs=[
            kv("general.architecture", STRING, "llama"),
            kv("llama.block_count", U32, blocks),
            kv("llama.embedding_length", U32, 32),
            kv("llama.attention.head_count", U32, 4),
            kv("llama.attention.head_count_kv", U32, 2),
            *(extra or []),
        ],
        tensors=tensors
        or [
            tensor_info("token_embd.weight", (32, 2), offset=0),
            tensor_info("blk.0.attn_k.weight", (32, 16), offset=256),
            tensor_info("blk.0.attn_v.weight", (32, 16), offset=256 + 2048),
            tensor_info("blk.1.attn_norm.weight", (32,), offset=256 + 2 * 2048),
        ],
        data_bytes=256 + 2 * 2048 + 128,
    )


def block_count_bomb() -> bytes:
    """A few hundred bytes, structurally sound, declaring 4,294,967,295 blocks."""
    head = Crafted(
        kvs=[
            kv("general.architecture", STRING, "llama"),
            kv("general.name", STRING, "bomb"),
            kv("llama.block_count", U32, 0xFFFFFFFF),
            kv("llama.embedding_length", U32, 8),
            kv("llama.attention.head_count", U32, 1),
            kv("llama.context_length", U32, 2048),
        ],
        tensors=[
            tensor_info("token_embd.weight", (8, 2), offset=0),
            tensor_info("blk.0.attn_norm.weight", (8,), offset=64),
        ],
        data_bytes=96,
    )
    return bytes(head)


class BytesSource:
    """A ``ByteSource`` over bytes in memory; ``known_size=False`` hides the size (like a
    server that sends no total), and ``reads`` records each (offset, size) asked for."""

    def __init__(self, data: bytes, *, known_size: bool = True) -> None:
        self.data = data
        self.known_size = known_size
        self.reads: list[tuple[int, int]] = []

    @property
    def size(self) -> int | None:
        return len(self.data) if self.known_size else None

    def read(self, offset: int, size: int) -> bytes:
        self.reads.append((offset, size))
        return self.data[offset : offset + size]
