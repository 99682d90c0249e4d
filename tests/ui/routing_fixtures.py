"""Routing set-ups for the screen tests: a configured fake cloud provider and fixed records.

The cloud provider points at 127.0.0.1:9 (the discard port): the router and the screens only
read its settings, and nothing in these tests sends a request.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lexitui.domain.language_model import TaskType
from lexitui.domain.routing import RoutedRequestRecord, RoutingStrategy
from tests.home_config import write_test_config

# A fixed "now" for pictures: records sit a few minutes before it, inside every period.
NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
LOCAL_MODEL = "smollm2-135m-instruct-q4_1"
_ids = itertools.count()

CONFIG = """
[routing]
daily_budget_usd = {daily}
monthly_budget_usd = 50.0

[runtime]
load_on_demand = false  # no model loaded: the local model is unavailable, requests fall back

[providers.openai]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "gpt-4o-mini"
"""


def configure_cloud(home: Path, monkeypatch: pytest.MonkeyPatch, daily: float = 1.0) -> None:
    """A ``[providers.openai]`` table with a key in the environment, and cloud budgets."""
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(config, CONFIG.format(daily=daily))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-sent")


def local_record(
    at: datetime, *, avoided: str = "0.02", electricity: str = "0.005"
) -> RoutedRequestRecord:
    return RoutedRequestRecord(
        request_id=f"local-{next(_ids)}",
        provider_id="local",
        model_id=LOCAL_MODEL,
        is_local=True,
        strategy=RoutingStrategy.PREFER_LOCAL,
        reason="prefer local: the local model is loaded",
        prompt_tokens=24,
        completion_tokens=96,
        latency_ms=812.0,
        avoided_usd=Decimal(avoided),
        electricity_usd=Decimal(electricity),
        source="gateway",
        created_at=at,
    )


def cloud_record(
    at: datetime, *, cost: str | None = "0.03", success: bool = True
) -> RoutedRequestRecord:
    return RoutedRequestRecord(
        request_id=f"cloud-{next(_ids)}",
        provider_id="openai",
        model_id="gpt-4o-mini",
        is_local=False,
        strategy=RoutingStrategy.PREFER_LOCAL,
        reason="Used cloud (openai) due to: local model unavailable: no model is loaded",
        task=TaskType.CODE_GENERATION,
        was_fallback=True,
        success=success,
        error=None if success else "openai: connection refused",
        prompt_tokens=310,
        completion_tokens=120,
        latency_ms=1430.0,
        cost_usd=None if cost is None else Decimal(cost),
        source="gateway",
        created_at=at,
    )


def fixed_records(now: datetime = NOON) -> list[RoutedRequestRecord]:
    """Two local requests and a priced cloud fallback, oldest first."""
    return [
        local_record(now - timedelta(minutes=30)),
        cloud_record(now - timedelta(minutes=20)),
        local_record(now - timedelta(minutes=10)),
    ]
