"""ollama.com's library pages read as data, against pages recorded in the site's structure."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from lexitui.discovery.errors import RegistryError
from lexitui.discovery.ollama_pages import (
    LibraryCard,
    LibraryPageChangedError,
    parse_count,
    parse_search_page,
    parse_tags_page,
)
from tests.fakes.ollama_site import page

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_popular_page_reads_every_figure() -> None:
    found = parse_search_page(page("search_popular.html"), now=NOW)
    assert [c.name for c in found.cards] == [
        "deepseek-r1",
        "llama3.2",
        "nomic-embed-text",
        "gemma3",
        "qwen3",
    ]
    assert found.has_more  # the marker that loads page 2
    first = found.cards[0]
    assert first.description.startswith("DeepSeek-R1 is a family of open reasoning models")
    assert first.capabilities == ("tools", "thinking")
    assert first.sizes == ("1.5b", "7b", "8b", "14b", "32b", "70b", "671b")
    assert (first.pulls, first.tag_count) == (75_200_000, 35)
    assert first.updated == "5 months ago"
    assert first.updated_at == datetime(2025, 7, 2, 6, 9, tzinfo=UTC)  # from the title
    llama = found.cards[1]
    assert llama.description == "Meta's Llama 3.2 goes small with 1B and 3B models."
    embed = found.cards[2]
    assert embed.sizes == () and embed.capabilities == ("embedding",)


def test_a_search_without_results_is_empty_not_an_error() -> None:
    found = parse_search_page(page("search_no_results.html"))
    assert found.cards == () and not found.has_more


@pytest.mark.parametrize(
    "html",
    [
        page("search_changed.html"),
        "",
        "not a page at all",
        '{"models": [{"name": "llama3.2"}]}',
        page("search_popular.html")[:2500],  # cut before the first result
        "<div>" * 50_000 + "deep",
        "\x00\xff<li x-test-model><span>no link, no title</span></li>",
    ],
    ids=["redesigned", "empty", "text", "json", "truncated", "deep", "garbage"],
)
def test_a_page_without_results_in_it_says_the_site_changed(html: str) -> None:
    with pytest.raises(LibraryPageChangedError) as caught:
        parse_search_page(html)
    assert str(caught.value) == "ollama.com's search page changed: no models found in it"
    assert isinstance(caught.value, RegistryError)


def test_attribute_order_and_new_attributes_do_not_matter() -> None:
    original = parse_search_page(page("search_llama.html"), now=NOW)
    reshuffled = (
        page("search_llama.html")
        .replace("<span x-test-pull-count>", '<span data-v="2" class="n" x-test-pull-count="">')
        .replace("<li x-test-model class=", '<li data-id="7" class="card" x-test-model="1" data-c=')
        .replace('<a href="/library/', '<a class="block" rel="next" href="/library/')
        .replace("\n", " ")
    )
    assert parse_search_page(reshuffled, now=NOW) == original


def test_results_without_test_markers_still_read_from_links_and_labels() -> None:
    found = parse_search_page(page("search_unmarked.html"), now=NOW)
    (card,) = found.cards
    assert card.name == "qwen3.5"
    assert card.description == "A capable & efficient model."
    assert (card.pulls, card.tag_count, card.updated) == (16_500_000, 64, "2 months ago")
    assert card.updated_at is not None and card.updated_at.year == 2026
    assert found.has_more


def _strings(card: LibraryCard) -> list[str]:
    values = dataclasses.asdict(card).values()
    return [v for v in values if isinstance(v, str)] + [
        s for v in values if isinstance(v, tuple) for s in v
    ]


def test_hostile_text_is_cleaned_and_bad_links_are_dropped() -> None:
    found = parse_search_page(page("search_hostile.html"))
    assert [c.name for c in found.cards] == ["evil", "tiny"]  # "../../etc/passwd" is no name
    evil = found.cards[0]
    for text in _strings(evil):
        assert text.isprintable(), repr(text)
    # Markup from the page is kept as text (the screen escapes it), control bytes made visible.
    assert "[bold red]with markup[/]" in evil.description
    assert "\\x1b[31m" in evil.description


def test_tags_page_lists_each_tag_with_its_size() -> None:
    found = parse_tags_page(page("tags_llama3.2.html"), "llama3.2", now=NOW)
    assert found.card.name == "llama3.2"
    assert found.card.description == "Meta's Llama 3.2 goes small with 1B and 3B models."
    assert found.card.pulls == 51_400_000
    sizes = {t.tag: t.size_bytes for t in found.tags}
    assert sizes == {
        "latest": 2_000_000_000,
        "1b": 1_300_000_000,
        "3b": 2_000_000_000,
        "1b-instruct-q8_0": 1_300_000_000,
        "3b-instruct-fp16": 6_400_000_000,
        "1b-instruct-q4_K_M": 808_000_000,
    }  # the cloud tag has no weights, so no size: left out
    latest = found.tags[0]
    assert (latest.digest, latest.context) == ("a80c4f17acd5", "128K")


def test_a_tags_page_for_another_model_or_without_rows_is_a_changed_page() -> None:
    with pytest.raises(LibraryPageChangedError, match="page for gemma3 changed"):
        parse_tags_page(page("tags_llama3.2.html"), "gemma3")
    with pytest.raises(LibraryPageChangedError, match="no tags with a size"):
        parse_tags_page(page("search_popular.html"), "llama3.2")


@pytest.mark.parametrize(
    ("text", "count"),
    [("55.7M", 55_700_000), ("386.8K", 386_800), ("1,234", 1234), ("22", 22), ("2B", 2 * 10**9)],
)
def test_counts_read_as_the_site_prints_them(text: str, count: int) -> None:
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["", "many", "1.2.3Q", "-5"])
def test_what_is_not_a_count_is_none(text: str) -> None:
    assert parse_count(text) is None
