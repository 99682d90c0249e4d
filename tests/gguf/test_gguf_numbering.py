"""The ggml and GGUF numbering written out in ``lexitui.gguf.constants`` is the ``gguf``
package's, type for type: an upgrade of that package that adds or renumbers one fails here."""

from __future__ import annotations

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType, LlamaFileType

from lexitui.gguf import constants


def test_ggml_types_and_block_layouts_match_the_package() -> None:
    assert {int(t): t.name for t in GGMLQuantizationType} == constants.GGML_TYPE_NAMES
    assert {
        int(t): (int(block), int(size)) for t, (block, size) in GGML_QUANT_SIZES.items()
    } == constants.BLOCK_LAYOUT


def test_value_types_match_the_package() -> None:
    assert {int(t): t.name for t in GGUFValueType} == constants.VALUE_TYPE_NAMES
    assert (constants.STRING, constants.ARRAY) == (GGUFValueType.STRING, GGUFValueType.ARRAY)
    assert (constants.BOOL, constants.UINT32) == (GGUFValueType.BOOL, GGUFValueType.UINT32)
    fixed = set(GGUFValueType) - {GGUFValueType.STRING, GGUFValueType.ARRAY}
    assert set(constants.SCALAR_STRUCTS) == {int(t) for t in fixed}


def test_file_type_names_match_the_package() -> None:
    for file_type in LlamaFileType:
        name = file_type.name.removeprefix("MOSTLY_").removeprefix("ALL_")
        assert constants.file_type_name(int(file_type)) == name
    assert constants.file_type_name(9999) == "unknown (9999)"
