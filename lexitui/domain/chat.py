"""One chat message as the backends send it (OpenAI-style ``{"role", "content"}``).

Streaming lives in the runtime (the embedded engine) and in each backend's model instance.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.domain.enums import ChatRole


@dataclass(frozen=True)
class ChatMessage:
    role: ChatRole
    content: str

    def as_json(self) -> dict[str, str]:
        return {"role": self.role.value, "content": self.content}
