"""Build a cloud provider from its ``[providers.ID]`` settings, and describe each one's key.

The provider modules import httpx (~60 ms); they are imported when a provider is built, so the
services (and this module) load before the TUI's first paint without paying for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.routing.keys import KeyStore, missing_key_reason, redact_url
from lexitui.routing.provider import LanguageModelProvider
from lexitui.routing.settings import ProviderSettings

KEYLESS_KINDS = ("openai_compatible",)  # a local vLLM or LM Studio often needs no key


@dataclass(frozen=True)
class ProviderKeyStatus:
    """One row of a providers list: never the key, only where it comes from."""

    id: str
    kind: str
    key_source: str  # "env NAME", "stored" or "none"
    model: str | None
    base_url: str
    ready: bool
    reason: str  # why not ready, or "ready"


def key_status(settings: ProviderSettings, keys: KeyStore) -> ProviderKeyStatus:
    key, source = keys.get(settings)
    model = settings.model or (settings.models[0] if settings.models else None)
    if key is None and settings.kind not in KEYLESS_KINDS:
        ready, reason = False, missing_key_reason(settings)
    elif model is None:
        ready, reason = False, "no model configured"
    else:
        ready, reason = True, "ready"
    return ProviderKeyStatus(
        id=settings.id,
        kind=settings.kind,
        key_source=source,
        model=model,
        base_url=redact_url(settings.base_url),  # a row to show: never a key in a query
        ready=ready,
        reason=reason,
    )


def key_statuses(
    providers: tuple[ProviderSettings, ...], keys: KeyStore
) -> list[ProviderKeyStatus]:
    return [key_status(p, keys) for p in providers]


def build_cloud_provider(settings: ProviderSettings, keys: KeyStore) -> LanguageModelProvider:
    """The provider for ``settings.kind``, holding the key the store resolves now."""
    key, _source = keys.get(settings)
    if settings.kind in ("openai", "openai_compatible"):
        from lexitui.routing.cloud_openai import OpenAIProvider

        return OpenAIProvider(settings, key)
    if settings.kind == "azure":
        from lexitui.routing.cloud_azure import AzureOpenAIProvider

        return AzureOpenAIProvider(settings, key)
    if settings.kind == "anthropic":
        from lexitui.routing.cloud_anthropic import AnthropicProvider

        return AnthropicProvider(settings, key)
    raise ValueError(f"[providers.{settings.id}]: unknown kind {settings.kind!r}")
