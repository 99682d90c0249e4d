"""What a request costs in USD: config overrides first, then genai-prices' bundled price data.

genai-prices is used only through its bundled snapshot: its auto-updater (``UpdatePrices``) is
never started, so no price lookup makes a network call.

The router prices every candidate of every request, and ``calc_price`` takes ~200 µs (model
matching, unit registry, usage decomposition). So each (provider, model) is resolved once to the
library's ``ModelInfo`` and the price is then computed here from its per-million-token input and
output rates, in microseconds. Tiered prices are "cliff" tiers in genai-prices (the tier reached
by the prompt's input tokens applies to *all* tokens, input and output), which we reproduce, so
scaling one 1M/1M calculation would be wrong for a model with a 200k-token tier. Time-of-day
prices (DeepSeek's off-peak) are re-selected on every call with ``get_prices(now)``, which only
walks the constraints. Models priced by anything but tokens (per request, per character...) take
the slow path through ``calc_price`` itself, and every model's fast formula is checked once
against ``calc_price`` before it is trusted.

A price that is not known is ``None``, never zero: an unknown model must not look free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from genai_prices import Usage, calc_price
from genai_prices.types import ModelInfo, ModelPrice, Provider, TieredPrices

from lexitui.routing.settings import CostSettings

MTOK = Decimal(1_000_000)
Rate = Decimal | TieredPrices
# Price keys that cost nothing when a usage counts only input and output tokens: anything else
# (per request, per character, per second...) sends the model down the slow path.
_TOKEN_ONLY_SUFFIXES = ("_mtok", "_kcount")
_PER_CALL_KEYS = frozenset({"requests_kcount"})
# Usages the fast formula is checked against: short, and past the largest tiers in the data.
_PROBES = ((1_000, 500), (300_000, 2_000))
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class _Resolved:
    """One (provider, model) resolved in genai-prices; ``fast`` when its rates can be used."""

    model: ModelInfo
    provider: Provider
    fast: bool


class PriceBook:
    """Prices of requests, and of what a local request would have cost in the cloud."""

    def __init__(
        self, costs: CostSettings, default_reference: tuple[str | None, str] | None = None
    ) -> None:
        """``default_reference`` is the (price provider, model) local requests are compared to
        when ``[costs] compare_to`` is not set: the caller passes its first cloud provider's."""
        self._costs = costs
        self._default_reference = default_reference
        # (provider, model) -> resolution; None caches a miss, so unknown models stay cheap.
        self._cache: dict[tuple[str | None, str], _Resolved | None] = {}

    @property
    def costs(self) -> CostSettings:
        return self._costs

    def price(
        self, price_provider: str | None, model: str, prompt_tokens: int, completion_tokens: int
    ) -> Decimal | None:
        """USD for one request, or None when the model's price is not known.

        Without a ``price_provider`` only an override prices the model: an OpenAI-compatible
        endpoint may be self-hosted, and guessing its provider from the model name would put a
        cloud price on it."""
        override = self._costs.prices.get(model)
        if override is not None:
            return _linear(override[0], override[1], prompt_tokens, completion_tokens)
        if price_provider is None:
            return None
        return self._library_price(price_provider, model, prompt_tokens, completion_tokens)

    def reference(self) -> tuple[str | None, str] | None:
        """The (price provider, model) local requests are compared to, or None when none is
        configured and there is no cloud provider to take one from."""
        if self._costs.compare_to:
            provider, sep, model = self._costs.compare_to.partition(":")
            return (provider or None, model) if sep else (None, provider)
        return self._default_reference

    def reference_label(self) -> str | None:
        """The reference as "provider:model" (or just the model), for reports."""
        ref = self.reference()
        if ref is None:
            return None
        return f"{ref[0]}:{ref[1]}" if ref[0] else ref[1]

    def avoided(self, prompt_tokens: int, completion_tokens: int) -> Decimal | None:
        """What the reference cloud model would have charged for a local request's tokens."""
        ref = self.reference()
        if ref is None:
            return None
        provider, model = ref
        override = self._costs.prices.get(model)
        if override is not None:
            return _linear(override[0], override[1], prompt_tokens, completion_tokens)
        # The user named this model as the comparison, so letting genai-prices find its
        # provider from the name (when "provider:" is left out) is what they asked for.
        return self._library_price(provider, model, prompt_tokens, completion_tokens)

    def _library_price(
        self, provider: str | None, model: str, prompt_tokens: int, completion_tokens: int
    ) -> Decimal | None:
        key = (provider, model)
        try:
            resolved = self._cache[key]
        except KeyError:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()  # model names come from clients: keep the cache bounded
            resolved = self._cache[key] = _resolve(provider, model)
        if resolved is None:
            return None
        if resolved.fast:
            prices = resolved.model.get_prices(datetime.now(UTC))
            return _token_price(prices, prompt_tokens, completion_tokens)
        usage = Usage(input_tokens=prompt_tokens, output_tokens=completion_tokens)
        return calc_price(usage, model_ref=model, provider_id=resolved.provider.id).total_price


def _resolve(provider: str | None, model: str) -> _Resolved | None:
    try:
        found = calc_price(
            Usage(input_tokens=1, output_tokens=1), model_ref=model, provider_id=provider
        )
    except LookupError:
        return None
    variants = (
        [found.model.prices]
        if isinstance(found.model.prices, ModelPrice)
        else [c.prices for c in found.model.prices]
    )
    fast = all(_fast_formula_holds(p) for p in variants)
    return _Resolved(found.model, found.provider, fast)


def _fast_formula_holds(prices: ModelPrice) -> bool:
    keys = {k for k, v in vars(prices).items() if v is not None and not k.startswith("_")}
    if "input_mtok" not in keys or "output_mtok" not in keys:
        return False
    if keys & _PER_CALL_KEYS or not all(k.endswith(_TOKEN_ONLY_SUFFIXES) for k in keys):
        return False
    for prompt, completion in _PROBES:
        usage = Usage(input_tokens=prompt, output_tokens=completion)
        if prices.calc_price(usage)["total_price"] != _token_price(prices, prompt, completion):
            return False
    return True


def _token_price(prices: ModelPrice, prompt_tokens: int, completion_tokens: int) -> Decimal:
    # The same operations in the same order as genai-prices (rate * count / per, summed from
    # zero), so the Decimal result is identical, not just close.
    rates = vars(prices)
    total = Decimal(0)
    total += _rate(rates["input_mtok"], prompt_tokens) * Decimal(prompt_tokens) / MTOK
    total += _rate(rates["output_mtok"], prompt_tokens) * Decimal(completion_tokens) / MTOK
    return total


def _rate(rate: Rate, prompt_tokens: int) -> Decimal:
    if isinstance(rate, TieredPrices):
        for tier in reversed(rate.tiers):  # sorted ascending by genai-prices
            if prompt_tokens > tier.start:
                return tier.price
        return rate.base
    return rate


def _linear(
    input_per_mtok: Decimal, output_per_mtok: Decimal, prompt_tokens: int, completion_tokens: int
) -> Decimal:
    return (
        input_per_mtok * Decimal(prompt_tokens) + output_per_mtok * Decimal(completion_tokens)
    ) / MTOK
