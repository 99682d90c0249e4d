"""Token counts before a request is sent, for the context-fit check and cost estimates.

Without the model's tokenizer we estimate: English text averages about four characters per
token for the BPE vocabularies in use; we round up and add a few tokens per message for the
chat template, so the context check errs on the side of "does not fit".
"""

from __future__ import annotations

from lexitui.domain.language_model import LanguageModelRequest

CHARS_PER_TOKEN = 4
TEMPLATE_TOKENS_PER_MESSAGE = 4
DEFAULT_OUTPUT_TOKENS = 256  # when a request sets no max_tokens


def estimate_text_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def estimate_tokens(request: LanguageModelRequest) -> tuple[int, int]:
    """(prompt tokens, answer tokens) expected for ``request``."""
    prompt = estimate_text_tokens(request.text())
    prompt += TEMPLATE_TOKENS_PER_MESSAGE * len(request.messages)
    return prompt, request.max_tokens or DEFAULT_OUTPUT_TOKENS
