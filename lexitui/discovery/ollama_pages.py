"""ollama.com's public library pages, read as data: the search page and a model's tags page.

There is no JSON search API for the Ollama library; the website's HTML is what exists. Pages are
read through ``html_tree`` by what the site marks for its own tests: a result is an element
carrying ``x-test-model``, inside it ``x-test-search-response-title``, ``x-test-capability``,
``x-test-size``, ``x-test-pull-count``, ``x-test-tag-count`` and ``x-test-updated`` (whose
parent's ``title`` holds the absolute date). A model's identity is its link
(``/library/NAME``), checked against the Ollama name allowlist, so the name pulled is the
name the site links to. A page without those markers falls back to the list items that link
to ``/library/NAME`` and to the labels beside the figures ("55.7M Pulls"), so a markup change
that keeps the content still reads.

A page with neither is a changed site, said in one ``RegistryError`` line, never a crash and
never an empty list passed off as "no models". Every text from a page goes through
``clean_text`` before it leaves this module (T1): the site is outside, whatever it sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from lexitui.discovery.errors import RegistryError
from lexitui.discovery.html_tree import Element, parse_html
from lexitui.discovery.ollama_names import InvalidModelName, parse_ollama_name
from lexitui.domain.text import clean_text

_SCALE = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
_COUNT = re.compile(r"(\d+(?:[.,]\d+)*)\s*([KMB]?)", re.IGNORECASE)
# ollama.com prints sizes as Ollama does, in powers of 1000 ("4.1GB", "274MB").
_BYTES = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?(TB|GB|MB|KB)\b")
_DIGEST = re.compile(r"\b([0-9a-f]{12})\b")
_CONTEXT = re.compile(r"\b(\d+(?:\.\d+)?[KM])\s+context", re.IGNORECASE)
_AGO = re.compile(r"(\d+|an?)\s+(minute|hour|day|week|month|year)s?\s+ago", re.IGNORECASE)
_AGO_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}
_PULLS_LABEL = re.compile(r"([\d.,]+\s*[KMB]?)\s*(?:Pulls|Downloads)\b", re.IGNORECASE)
_TAGS_LABEL = re.compile(r"(\d+)\s*Tags\b", re.IGNORECASE)
_UPDATED_LABEL = re.compile(r"Updated\s+(.{1,40}?\bago|yesterday)", re.IGNORECASE)
_NO_MODELS = re.compile(r"\bno models\b", re.IGNORECASE)
_DATE_FORMATS = ("%b %d, %Y %I:%M %p UTC", "%b %d, %Y")
MAX_CARDS = 500
MAX_TAGS = 1000


class LibraryPageChangedError(RegistryError):
    """The page no longer has the structure lexitui reads: nothing is made up from it."""


@dataclass(frozen=True)
class LibraryCard:
    """One model as the library lists it."""

    name: str  # what ``ollama pull`` takes: "llama3.2", "someuser/model"
    description: str = ""
    capabilities: tuple[str, ...] = ()  # "tools", "vision", "thinking", "embedding", ...
    sizes: tuple[str, ...] = ()  # "1b", "8x22b", as the page prints them
    pulls: int | None = None
    tag_count: int | None = None
    updated: str | None = None  # "3 weeks ago", as shown
    updated_at: datetime | None = None


@dataclass(frozen=True)
class SearchPage:
    cards: tuple[LibraryCard, ...]
    has_more: bool = False


@dataclass(frozen=True)
class LibraryTag:
    """One ``name:tag`` on a model's tags page."""

    tag: str
    size_bytes: int
    digest: str | None = None  # the 12 hex digits the page shows
    context: str | None = None  # "128K"


@dataclass(frozen=True)
class TagsPage:
    card: LibraryCard
    tags: tuple[LibraryTag, ...]


# -- small readers -------------------------------------------------------------------------


def _text(element: Element | None, limit: int = 300) -> str:
    return clean_text(element.text(), limit) if element is not None else ""


def parse_count(text: str) -> int | None:
    """ "55.7M" -> 55_700_000, "1,234" -> 1234, "22" -> 22; None when it is not a count."""
    match = _COUNT.fullmatch(text.strip())
    if not match:
        return None
    number, unit = match.group(1), match.group(2).upper()
    if unit == "":
        number = number.replace(",", "")
    try:
        return round(float(number.replace(",", ".") if unit else number) * _SCALE[unit])
    except ValueError:
        return None


def parse_size(text: str) -> int | None:
    match = _SIZE.search(text)
    return round(float(match.group(1)) * _BYTES[match.group(2)]) if match else None


def _updated_at(title: str, shown: str | None, now: datetime) -> datetime | None:
    """The absolute date in the element's ``title``, else one from "3 weeks ago" (approximate)."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(title.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    match = _AGO.search(shown or "")
    if match is None:
        return None
    count = 1 if match.group(1).lower() in ("a", "an") else int(match.group(1))
    return now - timedelta(days=count * _AGO_DAYS[match.group(2).lower()])


def _model_name(href: str) -> str | None:
    """``/library/llama3.2`` -> ``llama3.2``; ``/someuser/model`` -> ``someuser/model``; a
    link to anything else (or a name outside the allowlist) -> None."""
    path = href.split("?", 1)[0].split("#", 1)[0]
    for prefix in ("https://ollama.com", "https://www.ollama.com"):
        path = path.removeprefix(prefix)
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2 or ":" in parts[1]:
        return None
    text = parts[1] if parts[0] == "library" else "/".join(parts)
    try:
        parse_ollama_name(text)
    except InvalidModelName:
        return None
    return text


def _first_link(card: Element) -> str | None:
    for link in card.find_all(lambda e: e.tag == "a" and e.has("href")):
        name = _model_name(link.get("href"))
        if name is not None:
            return name
    return None


def _marked(card: Element, attribute: str, limit: int = 40) -> tuple[str, ...]:
    found = (_text(e, limit) for e in card.with_attribute(attribute))
    return tuple(dict.fromkeys(t for t in found if t))


def _description(card: Element) -> str:
    """The first paragraph that is not the line of figures (pulls, tags, updated)."""
    figures = ("x-test-pull-count", "x-test-tag-count", "x-test-updated")
    for p in card.find_all(lambda e: e.tag == "p"):
        if not any(p.with_attribute(a) for a in figures) and p.text():
            return _text(p, 500)
    return ""


def _read_card(card: Element, name: str, now: datetime) -> LibraryCard:
    flat = card.text()
    pull = card.find(lambda e: e.has("x-test-pull-count"))
    pulls_text = pull.text() if pull else _label(_PULLS_LABEL, flat)
    tags = card.find(lambda e: e.has("x-test-tag-count"))
    tags_text = tags.text() if tags else _label(_TAGS_LABEL, flat)
    updated = card.find(lambda e: e.has("x-test-updated"))
    shown = clean_text(updated.text(), 40) if updated else _label(_UPDATED_LABEL, flat)
    title = ""
    if updated is not None:
        title = updated.get("title") or (updated.parent.get("title") if updated.parent else "")
    return LibraryCard(
        name=name,
        description=_description(card),
        capabilities=tuple(c.lower() for c in _marked(card, "x-test-capability")),
        sizes=tuple(s.lower() for s in _marked(card, "x-test-size")),
        pulls=parse_count(pulls_text) if pulls_text else None,
        tag_count=parse_count(tags_text) if tags_text else None,
        updated=shown or None,
        updated_at=_updated_at(title, shown, now),
    )


def _label(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return clean_text(match.group(1), 40) if match else ""


# -- the search page -----------------------------------------------------------------------


def _cards(root: Element) -> list[Element]:
    marked = root.with_attribute("x-test-model")
    if marked:
        return marked
    # No test markers: the list items that link to a library model.
    items = root.find_all(lambda e: e.tag == "li")
    return [li for li in items if any(_library_link(a) for a in li.iter())]


def _library_link(element: Element) -> bool:
    return element.tag == "a" and element.get("href").startswith("/library/")


def parse_search_page(html: str, *, now: datetime | None = None) -> SearchPage:
    """The models on one search page (``/search?q=…``; without ``q``, the popular list).

    Raises ``LibraryPageChangedError`` when the page lists no model and does not say it found
    none: a changed page must not read as "no such model".
    """
    root = parse_html(html)
    now = now or datetime.now(UTC)
    cards: dict[str, LibraryCard] = {}
    for element in _cards(root)[:MAX_CARDS]:
        name = _first_link(element)
        if name is None:
            title = element.find(lambda e: e.has("x-test-search-response-title"))
            name = _model_name(f"/library/{title.text()}") if title is not None else None
        if name is not None and name.casefold() not in cards:
            cards[name.casefold()] = _read_card(element, name, now)
    if not cards and not _says_none(root):
        raise LibraryPageChangedError("ollama.com's search page changed: no models found in it")
    more = root.find(lambda e: "page=" in e.get("hx-get") or "page=" in e.get("href"))
    return SearchPage(tuple(cards.values()), has_more=bool(cards) and more is not None)


def _says_none(root: Element) -> bool:
    """The site's own "No models found" (a search without results), in the page's body."""
    body = root.find(lambda e: e.tag in ("main", "body")) or root
    return bool(_NO_MODELS.search(body.text()))


# -- a model's tags page -------------------------------------------------------------------


def _tag_of(href: str, name: str) -> str | None:
    """``/library/llama3.2:3b`` -> ``3b`` when the link is to ``name``'s tag."""
    path = href.split("?", 1)[0].split("#", 1)[0]
    base = name if "/" in name else f"library/{name}"
    prefix = f"/{base}:"
    if not path.casefold().startswith(prefix.casefold()):
        return None
    tag = path[len(prefix) :]
    try:
        parse_ollama_name(f"{name}:{tag}")
    except InvalidModelName:
        return None
    return tag


def _row(link: Element, tag: str, name: str) -> Element | None:
    """The smallest element around ``link`` that shows a size and no other tag's link."""
    node = link.parent
    while node is not None and node.tag != "#document":
        others = {
            _tag_of(a.get("href"), name) for a in node.iter() if a.tag == "a" and a.has("href")
        }
        if others - {tag, None}:
            return None
        if _SIZE.search(node.text()):
            return node
        node = node.parent
    return None


def parse_tags_page(html: str, name: str, *, now: datetime | None = None) -> TagsPage:
    """``/library/NAME/tags``: the model's summary and each tag with its size.

    Tags without a size (cloud tags, which have no weights to pull) are left out.
    """
    root = parse_html(html)
    now = now or datetime.now(UTC)
    links = root.find_all(lambda e: e.tag == "a" and _tag_of(e.get("href"), name) is not None)
    tags: dict[str, LibraryTag] = {}
    for link in links[: MAX_TAGS * 4]:
        tag = _tag_of(link.get("href"), name) or ""
        if tag.casefold() in tags:
            continue
        row = _row(link, tag, name)
        size = parse_size(row.text()) if row is not None else None
        if row is None or size is None:
            continue
        text = row.text()
        digest = _DIGEST.search(text)
        context = _CONTEXT.search(text)
        tags[tag.casefold()] = LibraryTag(
            tag=clean_text(tag, 80),
            size_bytes=size,
            digest=digest.group(1) if digest else None,
            context=clean_text(context.group(1), 10) if context else None,
        )
    if not tags:
        raise LibraryPageChangedError(
            f"ollama.com's page for {clean_text(name, 80)} changed: no tags with a size in it"
        )
    header = root.find(lambda e: e.tag == "main") or root
    card = _read_card(header, name, now)
    summary = root.find(lambda e: e.get("id") == "summary-content")
    if summary is not None:
        card = replace(card, description=_text(summary, 500))
    return TagsPage(card, tuple(tags.values())[:MAX_TAGS])
