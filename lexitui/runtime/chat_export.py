"""Export a chat to Markdown or JSON: a file to keep, share or read elsewhere.

The format follows the file name (``.json`` is JSON, anything else Markdown) unless it is
given. With no path, or a folder, the file is named after the chat's title and the time, in the
exports folder under the data folder. An existing file is never overwritten, and the file
appears whole or not at all (written beside it, then linked into place): nothing is lost.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from lexitui.config import Paths
from lexitui.domain.enums import ChatRole
from lexitui.runtime.errors import RuntimeErrorBase

ExportFormat = Literal["markdown", "json"]
SUFFIX: dict[ExportFormat, str] = {"markdown": ".md", "json": ".json"}
TITLE_CHARS = 40


class ExportError(RuntimeErrorBase):
    """The chat could not be written; the message names the file and why."""


@dataclass(frozen=True)
class ExportedMessage:
    role: ChatRole
    content: str
    speaker: str  # "You", or the model that answered
    in_context: bool = True  # False once a truncation dropped it from the model's context


@dataclass(frozen=True)
class ChatExport:
    title: str
    model_id: str
    messages: tuple[ExportedMessage, ...]
    system_prompt: str = ""


def exports_dir(paths: Paths) -> Path:
    return paths.data_dir / "exports"


def format_of(path: Path | None) -> ExportFormat:
    return "json" if path is not None and path.suffix.lower() == ".json" else "markdown"


def default_name(chat: ChatExport, fmt: ExportFormat, at: datetime) -> str:
    """``title-words-20260314-120000.md``: readable, sortable, safe on every filesystem."""
    slug = re.sub(r"[^a-z0-9]+", "-", chat.title.lower()).strip("-")[:TITLE_CHARS].strip("-")
    return f"{slug or 'chat'}-{at.astimezone():%Y%m%d-%H%M%S}{SUFFIX[fmt]}"


def to_markdown(chat: ChatExport, at: datetime) -> str:
    lines = [f"# {chat.title or 'Chat'}", "", f"- Model: {chat.model_id}"]
    lines.append(f"- Exported: {at.isoformat(timespec='seconds')}")
    if chat.system_prompt:
        lines.append(f"- System prompt: {chat.system_prompt}")
    for message in chat.messages:
        dropped = "" if message.in_context else " (dropped from the context)"
        lines += ["", f"## {message.speaker}{dropped}", "", message.content.rstrip()]
    return "\n".join(lines) + "\n"


def to_json(chat: ChatExport, at: datetime) -> str:
    document = {
        "title": chat.title,
        "model_id": chat.model_id,
        "system_prompt": chat.system_prompt,
        "exported_at": at.isoformat(),
        "messages": [
            {
                "role": m.role.value,
                "speaker": m.speaker,
                "content": m.content,
                "in_context": m.in_context,
            }
            for m in chat.messages
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_chat(
    chat: ChatExport,
    target: Path | None,
    folder: Path,
    fmt: ExportFormat | None = None,
    at: datetime | None = None,
) -> Path:
    """Write ``chat`` to ``target`` (a file or a folder; None: ``folder``) and return the
    file written. Raises ``ExportError`` when there is nothing to write or it cannot be."""
    if not chat.messages:
        raise ExportError("the chat is empty: send a message first")
    at = at or datetime.now(UTC)
    fmt = fmt or format_of(target)
    path = target.expanduser() if target is not None else folder
    if target is None or path.is_dir() or str(target).endswith(("/", os.sep)):
        path = path / default_name(chat, fmt, at)
    text = to_markdown(chat, at) if fmt == "markdown" else to_json(chat, at)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            _write_new(path, text)
        except FileExistsError:
            raise ExportError(f"{path} exists: choose another name") from None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _write_new(path: Path, text: str) -> None:
    """Write the whole file beside ``path``, then link it into place (fails if it exists)."""
    fd, scratch = tempfile.mkstemp(prefix=".export-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        try:
            os.link(scratch, path)
        except FileExistsError:
            raise
        except OSError:  # a filesystem without hard links: create it exclusively instead
            with path.open("x", encoding="utf-8") as out:
                out.write(text)
    finally:
        os.unlink(scratch)
