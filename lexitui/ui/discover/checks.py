"""What Discover says before it queues a download that would fail or could not run here."""

from __future__ import annotations

from lexitui.discovery.registry_settings import RegistrySpec
from lexitui.domain.discovery import RemoteModel, VariantCompatibility
from lexitui.domain.enums import ModelRegistryType
from lexitui.domain.units import format_bytes
from lexitui.ui.text import markup_safe

LEAD = "does not fit"


def gated_without_token(model: RemoteModel, *, has_token: bool) -> str | None:
    """Why a download of ``model`` would be refused, or None when it may go ahead."""
    if not model.gated or model.registry is not ModelRegistryType.HUGGING_FACE or has_token:
        return None
    page = model.repository or model.id
    return (
        f"Not queued: {model.id} is gated, and without a Hugging Face token the Hub refuses its "
        f"files. Accept its license on its page ({page}), then set HF_TOKEN (or `token` under "
        "[huggingface] in the config) and press d again."
    )


def gated_without_registry_token(
    model: RemoteModel, registry: RegistrySpec, *, has_token: bool
) -> str | None:
    """The same, for a model of a configured registry: its own token decides, not HF_TOKEN."""
    if not model.gated or has_token:
        return None
    how = (
        f"set {registry.token_env}"
        if registry.token_env
        else f'name its variable with token_env = "VARIABLE" under [registries.{registry.name}]'
    )
    return (
        f"Not queued: {model.id} is gated on {registry.name}, which refuses its files without "
        f"its token: {how}, and press d again."
    )


def does_not_fit_text(fit: VariantCompatibility) -> str:
    """The confirm dialog's body (markup, external text escaped)."""
    variant = fit.variant
    reason = (fit.reason or "").strip().rstrip(".")
    if reason.lower().startswith(LEAD):  # the verdict's own words, said once
        reason = reason[len(LEAD) :].lstrip(" :;,")
    reason = reason or "the compatibility check says it cannot run here"
    return (
        f"{markup_safe(variant.filename)} ({format_bytes(variant.size_bytes)}) does not fit this "
        f"machine: {markup_safe(reason, 600)}.\n\nDownload it anyway?"
    )
