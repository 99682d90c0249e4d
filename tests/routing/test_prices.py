"""Prices: genai-prices' own figures, config overrides first, and unknown never shown as $0."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage, calc_price

import lexitui.routing.prices as prices_module
from lexitui.routing.prices import PriceBook
from lexitui.routing.settings import CostSettings
from tests.routing.cost_support import NOON, open_rows, record

USAGES = [(0, 0), (1, 1), (1_234, 567), (250_000, 4_000)]


def library_price(provider: str, model: str, prompt: int, completion: int) -> Decimal:
    usage = Usage(input_tokens=prompt, output_tokens=completion)
    return calc_price(usage, model_ref=model, provider_id=provider).total_price


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-3-5-haiku-latest"),
        ("anthropic", "claude-sonnet-4-5"),  # tiered: over 200k input tokens all tokens cost more
        ("google", "gemini-2.5-pro"),
        ("deepseek", "deepseek-chat"),  # time-of-day prices
    ],
)
def test_price_is_exactly_what_genai_prices_says(provider: str, model: str) -> None:
    book = PriceBook(CostSettings())
    for prompt, completion in USAGES:
        assert book.price(provider, model, prompt, completion) == library_price(
            provider, model, prompt, completion
        )


def test_known_price_in_dollars() -> None:
    # gpt-4o-mini: $0.15 in, $0.60 out per million tokens.
    price = PriceBook(CostSettings()).price("openai", "gpt-4o-mini", 1_000_000, 1_000_000)
    assert price == Decimal("0.75")


def test_tier_applies_past_its_threshold() -> None:
    book = PriceBook(CostSettings())
    below = book.price("anthropic", "claude-sonnet-4-5", 200_000, 0)
    above = book.price("anthropic", "claude-sonnet-4-5", 200_001, 0)
    assert below is not None and above is not None
    assert above / 200_001 > below / 200_000 * Decimal("1.5")


def test_repeated_prices_do_not_call_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return calc_price(*args, **kwargs)

    monkeypatch.setattr(prices_module, "calc_price", counting)
    book = PriceBook(CostSettings())
    book.price("openai", "gpt-4o-mini", 10, 10)
    book.price("openai", "no-such-model", 10, 10)
    first = calls
    for n in range(200):
        book.price("openai", "gpt-4o-mini", n, n)
        book.price("openai", "no-such-model", n, n)
    assert calls == first  # resolved once per (provider, model), misses included


def test_override_wins_over_the_library() -> None:
    costs = CostSettings(prices={"gpt-4o-mini": (Decimal(1), Decimal(2))})
    book = PriceBook(costs)
    assert book.price("openai", "gpt-4o-mini", 1_000, 500) == Decimal("0.002")
    # An override also prices a model no provider publishes, even without a price provider.
    costs = CostSettings(prices={"my-model": (Decimal("0.5"), Decimal("1.5"))})
    assert PriceBook(costs).price(None, "my-model", 2_000_000, 0) == Decimal(1)


def test_unknown_is_none_never_zero() -> None:
    book = PriceBook(CostSettings())
    assert book.price("openai", "no-such-model", 100, 100) is None
    assert book.price("no-such-provider", "gpt-4o-mini", 100, 100) is None
    # No price provider (a self-hosted OpenAI-compatible server): no guess from the name.
    assert book.price(None, "gpt-4o-mini", 100, 100) is None


def test_reference_and_avoided_cost() -> None:
    configured = PriceBook(
        CostSettings(compare_to="anthropic:claude-3-5-haiku-latest"),
        default_reference=("openai", "gpt-4o-mini"),
    )
    assert configured.reference() == ("anthropic", "claude-3-5-haiku-latest")
    assert configured.reference_label() == "anthropic:claude-3-5-haiku-latest"
    assert configured.avoided(1_000, 500) == library_price(
        "anthropic", "claude-3-5-haiku-latest", 1_000, 500
    )

    defaulted = PriceBook(CostSettings(), default_reference=("openai", "gpt-4o-mini"))
    assert defaulted.reference() == ("openai", "gpt-4o-mini")
    assert defaulted.avoided(1_000, 500) == library_price("openai", "gpt-4o-mini", 1_000, 500)

    model_only = PriceBook(CostSettings(compare_to="gpt-4o-mini"))
    assert model_only.reference() == (None, "gpt-4o-mini")
    assert model_only.avoided(1_000, 500) == library_price("openai", "gpt-4o-mini", 1_000, 500)

    nothing = PriceBook(CostSettings())
    assert nothing.reference() is None
    assert nothing.avoided(1_000, 500) is None
    unknown = PriceBook(CostSettings(compare_to="openai:no-such-model"))
    assert unknown.avoided(1_000, 500) is None


async def test_unpriced_requests_show_as_unknown_not_free(tmp_path: Path) -> None:
    book = PriceBook(CostSettings())
    async with open_rows(tmp_path) as rows:
        known = book.price("openai", "gpt-4o-mini", 1_000, 500)
        await rows.add(record("openai", "gpt-4o-mini", cost=known))
        unknown = book.price("mystery", "mystery-1", 1_000, 500)
        await rows.add(record("mystery", "mystery-1", cost=unknown))
        savings = await rows.savings(timedelta(days=1), None, now=NOON)
        analytics = await rows.analytics(timedelta(days=1), now=NOON)
    assert unknown is None
    assert savings.unpriced_cloud_requests == 1
    assert savings.actual_cloud_cost == known
    assert analytics.requests_by_provider == {"openai": 1, "mystery": 1}
    assert analytics.cost_by_provider == {"openai": known}  # absent, not $0
