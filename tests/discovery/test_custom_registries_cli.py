"""``lexitui search``/``show`` with ``[registries.NAME]``, run as a user runs them: results
labelled with their registry, one that is down named on stderr, a bad table one error line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from lexitui.config import Paths
from tests.fakes.hub_repos_served import tiny_fixture_gguf
from tests.fakes.hub_server import GRANTED_TOKEN, FakeHub
from tests.home_config import closed_url, write_test_config

TINY = "lexitui-fixtures/tiny-random-llama-GGUF"


def lexitui(*args: str) -> subprocess.CompletedProcess[str]:
    # The fake Hubs answer from their own threads, so a blocking subprocess call is fine here.
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


@pytest_asyncio.fixture
async def corp(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeHub]:
    monkeypatch.setenv("CORP_TOKEN", GRANTED_TOKEN)
    async with FakeHub(repos=[tiny_fixture_gguf()]) as fake:
        write_test_config(
            paths.config_file,
            f"""
[registries.corp]
kind = "huggingface"
url = "{fake.base_url}"
token_env = "CORP_TOKEN"

[registries.down]
kind = "huggingface"
url = "{closed_url()}"
""",
        )
        yield fake


async def test_search_json_labels_each_result_and_names_the_one_down(
    hub: FakeHub, corp: FakeHub
) -> None:
    result = lexitui("search", "tiny-random", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    labels = sorted((m["registry_name"], m["id"]) for m in found["models"])
    assert labels == [("Hugging Face", TINY), ("corp", TINY)]
    assert all(m["fit"] for m in found["models"])
    (gone,) = found["unavailable"]
    assert gone["registry"] == "down" and "cannot be reached" in gone["reason"]
    assert GRANTED_TOKEN not in result.stdout + result.stderr


async def test_search_text_has_a_registry_column_and_a_line_for_the_one_down(
    hub: FakeHub, corp: FakeHub
) -> None:
    result = lexitui("search", "tiny-random")
    assert result.returncode == 0, result.stderr
    rows = sorted(line.split()[1] for line in result.stdout.strip().splitlines())
    assert rows == ["Hugging", "corp"]  # "Hugging Face", then the configured one
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lexitui: down unavailable: ") and "cannot be reached" in line


async def test_show_asks_the_registry_named(hub: FakeHub, corp: FakeHub) -> None:
    result = lexitui("show", TINY, "--registry", "corp", "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["model"]["registry_name"] == "corp"
    urls = [v["variant"]["download_url"] for v in shown["variants"]]
    assert urls and all(u.startswith(corp.base_url) for u in urls)
    assert corp.hub_calls(f"/api/models/{TINY}")


async def test_show_names_the_built_in_registries_as_before(hub: FakeHub, corp: FakeHub) -> None:
    result = lexitui("show", TINY, "--registry", "huggingface", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model"]["registry_name"] == "Hugging Face"
    assert not corp.hub_calls(f"/api/models/{TINY}")


async def test_show_of_an_unknown_registry_is_one_line(hub: FakeHub, corp: FakeHub) -> None:
    result = lexitui("show", TINY, "--registry", "nosuch")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no registry named 'nosuch'" in lines[0], result.stderr


async def test_a_bad_registry_table_is_one_error_line(hub: FakeHub, paths: Paths) -> None:
    write_test_config(
        paths.config_file, '[registries.corp]\nkind = "huggingface"\nurl = "http://127.0.0.1:0"\n'
    )
    result = lexitui("search", "tiny-random")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lexitui: ") and "[registries.corp] url has port 0" in line


async def test_fit_over_a_search_opens_each_result_on_its_own_registry(
    hub: FakeHub, corp: FakeHub
) -> None:
    result = lexitui("fit", "--search", "tiny-random", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["model"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {TINY, f"corp:{TINY}"}
    assert all(row["verdict"] != "error" for row in rows.values()), rows
    # corp's row was read from corp, not from the Hub under the same repo id.
    assert corp.hub_calls(f"/api/models/{TINY}")
    assert "down unavailable" in result.stderr
