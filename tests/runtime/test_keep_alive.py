"""Keep-alive values as Ollama writes them, in requests and in ``[runtime] keep_alive``."""

from __future__ import annotations

import pytest

from lexitui.config import ConfigError
from lexitui.domain.inference import InvalidRequest
from lexitui.runtime.keep_alive import describe_keep_alive, parse_keep_alive
from lexitui.runtime.settings import RuntimeSettings


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("30s", 30.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        (" 10m ", 600.0),
        ("0", 0.0),
        ("0s", 0.0),
        (0, 0.0),
        (45, 45.0),
        (2.5, 2.5),
        ("120", 120.0),
        (-1, None),
        ("-1", None),
        ("-5m", None),
        (10**12, None),  # longer than anyone waits: forever
    ],
)
def test_durations_and_numbers(value: object, seconds: float | None) -> None:
    assert parse_keep_alive(value) == seconds


@pytest.mark.parametrize(
    "value", ["soon", "", "5x", "m5", "5m3", "--5m", "1h 30m", True, None, [5], float("nan")]
)
def test_anything_else_is_a_clear_error(value: object) -> None:
    with pytest.raises(InvalidRequest, match=r"^keep_alive .* is not a duration: use seconds"):
        parse_keep_alive(value)


def test_a_very_long_value_is_cut_in_the_error() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_keep_alive("x" * 500)
    assert len(str(caught.value)) < 250


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "forever"), (0.0, "0s"), (1.0, "1s"), (300.0, "5m"), (5400.0, "1h30m"), (0.5, "0.5s")],
)
def test_descriptions(seconds: float | None, shown: str) -> None:
    assert describe_keep_alive(seconds) == shown


def test_the_config_default_and_forms() -> None:
    assert RuntimeSettings.from_config({}).keep_alive_s == 300.0
    assert RuntimeSettings.from_config({"runtime": {"keep_alive": "1h"}}).keep_alive_s == 3600.0
    assert RuntimeSettings.from_config({"runtime": {"keep_alive": -1}}).keep_alive_s is None
    assert RuntimeSettings.from_config({}).load_on_demand is True
    off = RuntimeSettings.from_config({"runtime": {"load_on_demand": False}})
    assert off.load_on_demand is False


def test_a_bad_config_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^\[runtime\] keep_alive 'later' is not a duration"):
        RuntimeSettings.from_config({"runtime": {"keep_alive": "later"}})
