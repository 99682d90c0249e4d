"""One money formatter for the CLI and the screens: significant digits, unknown as a word, no
negative zero; and the reports that use it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lexitui.config import Paths
from lexitui.routing.money import share_of, usd
from lexitui.store import Store
from lexitui.store.routed_requests import RoutedRequestRows
from lexitui.ui.routing import format as routing_format
from tests.routing.cost_support import record


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0", "$0"),
        ("-0", "$0"),
        ("-0.000000", "$0"),
        ("0.000002", "$0.000002"),
        ("0.0000023456", "$0.00000235"),
        ("0.0012345", "$0.00123"),
        ("0.05", "$0.05"),
        ("0.0390", "$0.039"),
        ("0.12345", "$0.123"),
        ("1.005", "$1.01"),
        ("1234.5", "$1,234.50"),
        ("-0.0045", "-$0.0045"),
        ("-2.5", "-$2.50"),
        ("0.0000001", "<$0.000001"),
        ("-0.0000001", "-<$0.000001"),
    ],
)
def test_amounts_keep_their_significant_digits(amount: str, shown: str) -> None:
    assert usd(Decimal(amount)) == shown


def test_unknown_stays_a_word() -> None:
    assert usd(None) == "unknown"
    assert usd(None, unknown="no limit") == "no limit"
    assert usd(Decimal("NaN")) == "unknown"


def test_a_total_that_only_needs_cents_says_less_than_a_cent() -> None:
    assert usd(Decimal("0.004"), smallest=Decimal("0.01")) == "<$0.01"
    assert usd(Decimal("0.25"), smallest=Decimal("0.01")) == "$0.25"


def test_a_share_is_never_negative_zero_nor_made_up() -> None:
    assert share_of(75.0) == " (75%)"
    assert share_of(-0.3) == " (0%)"
    assert share_of(None) == ""


def test_the_screens_use_the_same_formatter() -> None:
    assert routing_format.usd is usd


def lexitui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


async def test_usage_and_savings_never_print_a_negative_zero_or_an_invented_saving(
    paths: Paths,
) -> None:
    # Local answers with no reference price and a sliver of electricity: the shape that printed
    # "local saved $-0." and "net savings $-0. (0%)" under "cloud cost avoided unknown".
    paths.ensure()
    store = Store(paths.database)
    await store.open()
    try:
        rows = RoutedRequestRows(store)
        now = datetime.now(UTC)
        for electricity in ("0.0000001", "0.0000004"):
            await rows.add(
                record(
                    "local",
                    "smollm2",
                    local=True,
                    avoided=None,
                    electricity=Decimal(electricity),
                    at=now,
                )
            )
        await rows.add(record("openai", cost=Decimal("0.000002"), at=now))
    finally:
        await store.close()
    usage = lexitui("usage")
    savings = lexitui("savings")
    assert usage.returncode == 0 and savings.returncode == 0, usage.stderr + savings.stderr
    for out in (usage.stdout, savings.stdout):
        assert "$-" not in out and "$0." not in out.replace("$0.0", "")
    assert "cloud cost $0.000002; local saved unknown" in usage.stdout
    lines = {line.strip().split("  ")[0]: line for line in savings.stdout.splitlines()}
    assert lines["cloud cost avoided"].split()[-1] == "unknown"
    assert lines["net savings"].split()[-1] == "unknown"
    assert lines["local electricity"].split()[-1] == "<$0.000001"  # not "$0."
