"""Exporting a chat: Markdown or JSON by the file name, default names in the exports folder,
never overwriting a file, and one clear error when it cannot be written."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lexitui.domain.enums import ChatRole
from lexitui.runtime.chat_export import ChatExport, ExportedMessage, ExportError, export_chat

AT = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
CHAT = ChatExport(
    title="Name one colour.",
    model_id="smollm2-135m-instruct-q4_1",
    system_prompt="Be brief.",
    messages=(
        ExportedMessage(ChatRole.USER, "Name one colour.", "You"),
        ExportedMessage(ChatRole.ASSISTANT, "Blue.", "smollm2-135m-instruct-q4_1"),
        ExportedMessage(ChatRole.USER, "Another?", "You", in_context=False),
    ),
)


def test_markdown_goes_to_the_exports_folder_under_a_name_from_the_title(tmp_path: Path) -> None:
    written = export_chat(CHAT, None, tmp_path / "exports", at=AT)
    assert written.parent == tmp_path / "exports" and written.suffix == ".md"
    assert written.name.startswith("name-one-colour-2026031")
    text = written.read_text("utf-8")
    assert text.startswith("# Name one colour.\n")
    assert "- System prompt: Be brief." in text
    assert "## You\n\nName one colour.\n\n## smollm2-135m-instruct-q4_1\n\nBlue." in text
    assert "## You (dropped from the context)\n\nAnother?" in text


def test_json_by_its_suffix_or_into_a_chosen_folder(tmp_path: Path) -> None:
    written = export_chat(CHAT, tmp_path / "mine.json", tmp_path / "exports", at=AT)
    document = json.loads(written.read_text("utf-8"))
    assert document["model_id"] == CHAT.model_id and document["system_prompt"] == "Be brief."
    assert [(m["role"], m["content"], m["in_context"]) for m in document["messages"]] == [
        ("user", "Name one colour.", True),
        ("assistant", "Blue.", True),
        ("user", "Another?", False),
    ]
    folder = tmp_path / "chosen"
    folder.mkdir()
    inside = export_chat(CHAT, folder, tmp_path / "exports", fmt="json", at=AT)
    assert inside.parent == folder and inside.suffix == ".json"


def test_an_existing_file_is_kept_and_the_error_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "exports"  # a folder of its own: the test's home sits in tmp_path too
    folder.mkdir()
    target = folder / "chat.md"
    target.write_text("mine", "utf-8")
    with pytest.raises(ExportError, match="exists: choose another name"):
        export_chat(CHAT, target, folder)
    assert target.read_text("utf-8") == "mine"
    assert sorted(p.name for p in folder.iterdir()) == ["chat.md"], "no scratch file left"
    with pytest.raises(ExportError, match="the chat is empty"):
        export_chat(ChatExport("t", "m", ()), None, tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("", "utf-8")
    with pytest.raises(ExportError, match="cannot write"):
        export_chat(CHAT, blocker / "inside.md", tmp_path)
