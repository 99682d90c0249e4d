"""``lexitui search --registry ollama`` and ``show --registry ollama`` run as a user would,
against a fake ollama.com named in the config."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest_asyncio

from lexitui.config import Paths
from tests.discovery.test_discovery_cli import _one_line_error, lexitui
from tests.fakes.ollama_site import FakeOllamaSite, page
from tests.home_config import write_test_config


@pytest_asyncio.fixture
async def site(paths: Paths) -> AsyncIterator[FakeOllamaSite]:
    async with FakeOllamaSite() as fake:
        write_test_config(paths.config_file, f'[ollama_library]\nurl = "{fake.url}"\n')
        yield fake


async def test_search_lists_the_librarys_results(site: FakeOllamaSite) -> None:
    result = lexitui("search", "--registry", "ollama", "llama")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.strip().splitlines()
    assert [r.split()[1] for r in rows] == ["llama3.1", "llama3.2", "llama3.2-vision"]
    first = rows[0]
    for words in ("8b, 70b, 405b", "104,300,000 pulls", "tools", "updated 2024-12-03"):
        assert words in first, first
    assert site.requests == ["/search?q=llama"]


async def test_no_query_is_the_popular_list_and_json_has_every_field(
    site: FakeOllamaSite,
) -> None:
    result = lexitui("search", "--registry", "ollama", "--limit", "2", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert [m["id"] for m in found["models"]] == ["deepseek-r1", "llama3.2"]
    first = found["models"][0]
    assert first["downloads"] == 75_200_000 and first["registry"] == "ollama_library"
    assert "size:671b" in first["tags"] and "capability:thinking" in first["tags"]
    assert first["fit"] is not None  # rated at its smallest size


def _age_the_cache(paths: Paths, hours: float) -> None:
    """Make every stored answer ``hours`` older, as if fetched that long ago."""
    with contextlib.closing(sqlite3.connect(paths.database)) as db:
        rows = db.execute("SELECT key, fetched_at FROM registry_cache").fetchall()
        for key, fetched in rows:
            older = datetime.fromisoformat(fetched) - timedelta(hours=hours)
            db.execute(
                "UPDATE registry_cache SET fetched_at = ? WHERE key = ?",
                (older.isoformat(timespec="microseconds"), key),
            )
        db.commit()


async def test_offline_search_is_one_line_then_the_cache_with_its_age(
    site: FakeOllamaSite, paths: Paths
) -> None:
    site.down = True
    _one_line_error(lexitui("search", "--registry", "ollama", "llama"))
    site.down = False
    assert lexitui("search", "--registry", "ollama", "llama").returncode == 0
    _age_the_cache(paths, 2)
    site.down = True
    cached = lexitui("search", "--registry", "ollama", "llama")
    assert cached.returncode == 0, cached.stderr
    lines = cached.stdout.splitlines()
    assert lines[0] == "(offline: results from the cache, 120 min old)"
    assert "llama3.1" in lines[1]


async def test_a_changed_site_is_one_line(site: FakeOllamaSite) -> None:
    site.searches[("llama", 1)] = page("search_changed.html")
    line = _one_line_error(lexitui("search", "--registry", "ollama", "llama"))
    assert "ollama.com's search page changed: no models found in it" in line


async def test_hostile_text_never_reaches_the_terminal_raw(site: FakeOllamaSite) -> None:
    site.searches[("evil", 1)] = page("search_hostile.html")
    result = lexitui("search", "--registry", "ollama", "evil")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "etc/passwd" not in result.stdout


async def test_show_lists_the_tags_with_their_fit(site: FakeOllamaSite) -> None:
    result = lexitui("show", "--registry", "ollama", "llama3.2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("llama3.2  (Ollama library)\n")
    assert "Meta's Llama 3.2 goes small" in result.stdout
    assert "1b, 3b" in result.stdout and "51,400,000 pulls" in result.stdout
    for label in ("3b-instruct-fp16", "1b-instruct-q4_K_M", "6.0 GiB"):
        assert label in result.stdout, result.stdout
