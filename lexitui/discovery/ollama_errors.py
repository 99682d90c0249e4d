"""The Ollama library's errors: ``lexitui.discovery.errors`` types with Ollama's own wording.

The shared types' messages speak of Hugging Face (``owner/name`` ids, ``HF_TOKEN``), which would
send an Ollama user the wrong way; these subclasses keep the types (so callers catching
``InvalidModelIdError`` or ``RegistryUnavailableError`` still do) and say what fits Ollama.
"""

from __future__ import annotations

from lexitui.discovery.errors import InvalidModelIdError, RateLimitedError, RegistryError


class InvalidOllamaNameError(InvalidModelIdError):
    """Not an Ollama name, or a name on another registry; the message says which."""

    def __init__(self, model_id: str, reason: str) -> None:
        self.model_id = model_id
        RegistryError.__init__(self, reason)  # skip the parent's "expected owner/name" text


class OllamaRateLimitedError(RateLimitedError):
    def __init__(self, endpoint: str, retry_after_s: int | None) -> None:
        self.retry_after_s = retry_after_s
        wait = f"retry after {retry_after_s} s" if retry_after_s is not None else "retry later"
        # No token hint: the Ollama registry takes none for public models.
        RegistryError.__init__(
            self, f"{endpoint} is rate-limiting requests and nothing is cached for this: {wait}"
        )


class RegistryAccessDeniedError(RegistryError):
    """401/403: the model is private (or the registry wants a sign-in lexitui does not do)."""


class BadRegistryAnswerError(RegistryError):
    """The registry answered something that is not its protocol: bad JSON, a digest outside the
    allowlist, a blob that fails its sha256, a body over its size cap, an unsafe redirect."""
