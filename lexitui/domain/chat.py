"""One chat message, the roadmap's ``LocalChatMessage``: what the runtime, the chat and every
backend send (OpenAI-style ``{"role", "content"}``), with the images a multimodal model is given.

Streaming lives in the runtime (the embedded engine) and in each backend's model instance.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.domain.enums import ChatRole


@dataclass(frozen=True)
class LocalChatMessage:
    role: ChatRole
    content: str
    images: tuple[str, ...] | None = None  # base64 data for multimodal models

    def as_json(self) -> dict[str, str]:
        return {"role": self.role.value, "content": self.content}
