"""The errors a model registry raises: one line each, saying what went wrong and what to do.

``RegistryUnavailableError`` and its subclasses mean "no fresh answer right now" (offline,
rate-limited, a 5xx): the registry serves its cache for those when it has one. The others are
answers: the model does not exist, or the user must do something first. No message ever holds a
token (checklist K2): they are built from ids, URLs and status codes only.
"""

from __future__ import annotations

from lexitui.backends.errors import clean_text


class RegistryError(RuntimeError):
    """Base of every registry error; ``str()`` is one printable line."""

    def __init__(self, message: str) -> None:
        super().__init__(clean_text(message))


class InvalidModelIdError(RegistryError):
    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        super().__init__(f"{model_id!r} is not a model id (expected owner/name)")


class ModelNotFoundError(RegistryError):
    def __init__(self, model_id: str, detail: str = "") -> None:
        self.model_id = model_id
        super().__init__(f"{model_id}: not found on the registry{detail}")


class GatedModelError(RegistryError):
    """The files of a gated model need an account that accepted its license."""

    def __init__(self, model_id: str, url: str, *, authenticated: bool) -> None:
        self.model_id = model_id
        self.url = url
        self.authenticated = authenticated
        if authenticated:
            what = (
                f"{model_id} is gated and your token has no access yet: accept the license at "
                f"{url} (approval can take a while) and set HF_TOKEN to a token of that account"
            )
        else:
            what = f"{model_id} is gated: accept the license at {url} and set HF_TOKEN"
        super().__init__(what)


class RegistryAuthError(RegistryError):
    """The registry rejected the token itself (expired, revoked, mistyped)."""

    def __init__(self, source: str, settings_url: str) -> None:
        self.source = source
        super().__init__(
            f"the Hugging Face token from {source} was rejected: create a new one at "
            f"{settings_url} and set HF_TOKEN"
        )


class RegistryUnavailableError(RegistryError):
    """No fresh answer can be had now; a cached one may be served instead."""


class RateLimitedError(RegistryUnavailableError):
    def __init__(self, endpoint: str, retry_after_s: int | None) -> None:
        self.retry_after_s = retry_after_s
        wait = f"retry after {retry_after_s} s" if retry_after_s is not None else "retry later"
        super().__init__(
            f"{endpoint} is rate-limiting requests and nothing is cached for this: {wait} "
            "(a token, set with HF_TOKEN, raises the limit)"
        )


class RegistryOfflineError(RegistryUnavailableError):
    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        super().__init__(f"{endpoint} cannot be reached ({reason}) and nothing is cached for this")
