"""A key written into a provider's ``base_url`` (Azure-style ``?api-key=``, ``user:pass@``)
is masked in every place a URL is shown: ``lexitui providers`` (plain and ``--json``), the rows
the screens read, and the provider's repr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lexitui.config import Paths
from lexitui.routing.cloud_factory import build_cloud_provider, key_status
from lexitui.routing.keys import KeyStore, redact_url
from lexitui.routing.settings import RoutingSettings
from tests.home_config import write_test_config

URL_KEY = "sk-in-the-url-0123456789"
PASSWORD = "hunter2-password"
CONFIG = f"""
[providers.azure]
kind = "openai_compatible"
base_url = "https://example.test/openai?api-key={URL_KEY}&api-version=2024-06-01"
model = "gpt-4o-mini"

[providers.proxy]
kind = "openai_compatible"
base_url = "http://me:{PASSWORD}@127.0.0.1:9/v1?{URL_KEY}"
model = "gpt-4o-mini"
"""


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        (
            f"https://h.test/v1?api-key={URL_KEY}&api-version=1",
            "https://h.test/v1?api-key=***&api-version=***",
        ),
        (f"http://me:{PASSWORD}@127.0.0.1:8080/v1", "http://me:***@127.0.0.1:8080/v1"),
        (f"https://h.test/v1?{URL_KEY}", "https://h.test/v1?***"),
        (f"http://[::1]:9/v1?code={URL_KEY}#{URL_KEY}", "http://[::1]:9/v1?code=***#***"),
        (f"http://h.test:99999/?key={URL_KEY}", "***"),  # unparseable: nothing of it shown
    ],
)
def test_redact_url_masks_passwords_and_query_values(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_providers_never_print_a_key_from_a_base_url(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, CONFIG)
    outputs = []
    for args in (["providers", "--json"], ["providers"]):
        result = subprocess.run(
            [sys.executable, "-m", "lexitui", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ),
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    rows = {r["id"]: r for r in json.loads(outputs[0])["providers"]}
    assert rows["azure"]["base_url"] == ("https://example.test/openai?api-key=***&api-version=***")
    assert rows["proxy"]["base_url"] == "http://me:***@127.0.0.1:9/v1?***"
    for output in outputs:
        assert URL_KEY not in output and PASSWORD not in output


def test_key_rows_and_reprs_mask_the_url(paths: Paths) -> None:
    settings = RoutingSettings.from_config(
        {
            "providers": {
                "azure": {
                    "kind": "openai_compatible",
                    "base_url": f"https://h.test/v1?api-key={URL_KEY}",
                    "model": "m",
                }
            }
        }
    )
    keys = KeyStore(paths.config_dir, environ={})
    [azure] = settings.providers
    assert URL_KEY not in repr(key_status(azure, keys))
    assert URL_KEY not in repr(build_cloud_provider(azure, keys))
