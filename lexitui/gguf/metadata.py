"""Reading GGUF metadata key/value pairs, each checked before anything is allocated for it."""

from __future__ import annotations

from lexitui.gguf.constants import ARRAY, SCALAR_STRUCTS, STRING, VALUE_TYPE_NAMES
from lexitui.gguf.cursor import Cursor
from lexitui.gguf.errors import GgufError
from lexitui.gguf.limits import GgufLimits
from lexitui.gguf.records import GgufArray, MetadataValue, Scalar
from lexitui.gguf.text import safe_text

# The smallest possible encodings, used to refuse counts the rest of the file cannot hold.
MIN_KV_BYTES = 8 + 1 + 4 + 1  # key length, a 1-byte key, value type, a 1-byte value
MIN_STRING_BYTES = 8  # the length of an empty string


def read_name(cursor: Cursor, limit: int, what: str) -> bytes:
    """The raw bytes of a key or tensor name: a u64 length then the bytes, bounded by limit."""
    at = cursor.offset
    length = cursor.u64()
    if length == 0:
        raise GgufError(f"empty {what} at byte {at}")
    if length > limit:
        raise GgufError(f"{what} of {length} bytes at byte {at} exceeds the {limit}-byte limit")
    return cursor.take(length)


def read_key(cursor: Cursor, limits: GgufLimits) -> str:
    at = cursor.offset
    raw = read_name(cursor, limits.max_name_bytes, "metadata key")
    # GGUF keys are dotted printable ASCII; anything else is an attempt to smuggle control
    # characters into a terminal (G7) or a corrupt file.
    if not raw.isascii() or not raw.decode("ascii").isprintable():
        raise GgufError(f"metadata key at byte {at} is not printable ASCII: {safe_text(repr(raw))}")
    return raw.decode("ascii")


def read_string(cursor: Cursor, limits: GgufLimits, key: str) -> str:
    at = cursor.offset
    length = cursor.u64()
    if length > limits.max_string_bytes:
        raise GgufError(
            f"string of {length} bytes for {key} at byte {at} exceeds the "
            f"{limits.max_string_bytes}-byte limit"
        )
    try:
        return cursor.take(length).decode("utf-8")
    except UnicodeDecodeError:
        raise GgufError(f"invalid UTF-8 in the value of {key} at byte {at}") from None


def read_value(cursor: Cursor, value_type: int, limits: GgufLimits, key: str) -> MetadataValue:
    if value_type == STRING:
        return read_string(cursor, limits, key)
    if value_type == ARRAY:
        return read_array(cursor, limits, key)
    layout = SCALAR_STRUCTS.get(value_type)
    if layout is None:
        raise GgufError(f"unknown value type {value_type} for {key} at byte {cursor.offset - 4}")
    cursor.need(layout.size)
    (value,) = layout.unpack_from(cursor.buf, cursor.pos)
    cursor.pos += layout.size
    return value  # type: ignore[no-any-return]


def read_array(cursor: Cursor, limits: GgufLimits, key: str) -> GgufArray:
    at = cursor.offset
    item_type = cursor.u32()
    count = cursor.u64()
    if item_type == ARRAY:
        raise GgufError(f"nested arrays are not supported ({key} at byte {at})")
    layout = SCALAR_STRUCTS.get(item_type)
    if layout is None and item_type != STRING:
        raise GgufError(f"unknown array item type {item_type} for {key} at byte {at}")
    if count > limits.max_array_items:
        raise GgufError(
            f"array of {count} items for {key} is absurd (limit {limits.max_array_items})"
        )
    item_bytes = layout.size if layout is not None else MIN_STRING_BYTES
    remaining = cursor.remaining()
    if remaining is not None and count * item_bytes > remaining:
        # The check that makes a 57-byte file declaring millions of items fail at once.
        raise GgufError(
            f"array of {count} {VALUE_TYPE_NAMES[item_type]} items for {key} cannot fit in "
            f"the {remaining} bytes left in the file"
        )
    if count > limits.kept_array_items:
        if layout is not None:
            cursor.skip(count * layout.size)
        else:
            # Long string arrays are vocabularies and merge lists: we need their length, not
            # their text, so their UTF-8 is not validated here (llama.cpp checks tokens when it
            # loads the vocabulary). Short arrays, which we keep and may show, are validated.
            cursor.skip_strings(count, limits.max_string_bytes)
        return GgufArray(item_type, count, None)
    values: list[Scalar]
    if layout is None:
        values = [read_string(cursor, limits, key) for _ in range(count)]
    else:
        values = [v for (v,) in layout.iter_unpack(cursor.take(count * layout.size))]
    return GgufArray(item_type, count, tuple(values))
