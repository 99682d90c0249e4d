"""``huggingface_hub`` and transport exceptions turned into registry errors.

The library's own messages are not passed on: they are multi-line and carry request ids. Ours
are built from the model id, the endpoint (without any userinfo) and the status code, so no
token can end up in one (K2).
"""

from __future__ import annotations

import httpx2  # huggingface_hub's HTTP client: its transport errors mean "no answer"
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from lexitui.discovery.errors import (
    GatedModelError,
    ModelNotFoundError,
    RateLimitedError,
    RegistryAuthError,
    RegistryError,
    RegistryOfflineError,
)
from lexitui.discovery.hf_settings import HubToken, display_url


def translate(
    exc: BaseException, *, endpoint: str, model_id: str | None, token: HubToken | None
) -> RegistryError:
    shown = display_url(endpoint)
    subject = model_id or "the request"
    if isinstance(exc, RegistryError):
        return exc
    if isinstance(exc, OfflineModeIsEnabled):
        return RegistryOfflineError(shown, "HF_HUB_OFFLINE is set")
    if isinstance(exc, GatedRepoError):  # before RepositoryNotFoundError: it is a subclass
        status = exc.response.status_code if exc.response is not None else 401
        return GatedModelError(subject, f"{shown}/{subject}", authenticated=status == 403)
    if isinstance(exc, (RepositoryNotFoundError, RevisionNotFoundError)):
        return ModelNotFoundError(subject)
    if isinstance(exc, RemoteEntryNotFoundError):
        return ModelNotFoundError(subject, " (no such file in the repo)")
    if isinstance(exc, HfHubHTTPError):
        return _http_error(exc, shown, token)
    if isinstance(exc, httpx2.TimeoutException):
        return RegistryOfflineError(shown, "timed out")
    if isinstance(exc, (httpx2.TransportError, ConnectionError)):
        return RegistryOfflineError(shown, "connection failed")
    if isinstance(exc, (ValueError, KeyError)):  # a body that is not the JSON the Hub sends
        return RegistryError(f"{shown} sent an answer lexitui cannot read")
    raise exc


def _http_error(exc: HfHubHTTPError, shown: str, token: HubToken | None) -> RegistryError:
    response = exc.response
    status = response.status_code if response is not None else 0
    if status == 429:
        retry = response.headers.get("Retry-After", "") if response is not None else ""
        return RateLimitedError(shown, int(retry) if retry.strip().isdigit() else None)
    if status == 401 and token is not None:
        return RegistryAuthError(token.source, f"{shown}/settings/tokens")
    if status >= 500:
        return RegistryOfflineError(shown, f"server error {status}")
    return RegistryError(f"{shown} answered HTTP {status}")
