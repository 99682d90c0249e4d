"""A small, forgiving element tree built with the standard library's ``html.parser``.

Web pages are read by their structure (an element carrying an attribute, the text under it),
never by patterns over raw markup, so a reordered attribute, an added class or a line break
does not change what is read. Real pages are not well-formed: an end tag with no open element
of its name is ignored, and one that closes an outer element closes the inner ones too, as a
browser would. The tree is bounded (depth, element count): a hostile page cannot make it grow
past what a real one needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements that never have content, so they are never pushed as open.
VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# Their text is code, not content: dropped.
SKIPPED = frozenset(("script", "style", "template", "svg"))
MAX_DEPTH = 256
MAX_ELEMENTS = 200_000


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = None

    def has(self, attribute: str) -> bool:
        return attribute in self.attrs

    def get(self, attribute: str) -> str:
        return self.attrs.get(attribute) or ""

    def iter(self) -> Iterator[Element]:
        """This element and every element under it, in document order."""
        stack: list[Element] = [self]
        while stack:
            element = stack.pop()
            yield element
            stack.extend(reversed([c for c in element.children if isinstance(c, Element)]))

    def find_all(self, match: Callable[[Element], bool]) -> list[Element]:
        return [e for e in self.iter() if match(e)]

    def find(self, match: Callable[[Element], bool]) -> Element | None:
        return next((e for e in self.iter() if match(e)), None)

    def with_attribute(self, attribute: str) -> list[Element]:
        return self.find_all(lambda e: e.has(attribute))

    def text(self) -> str:
        """The text under this element, whitespace runs folded to one space."""
        parts: list[str] = []
        stack: list[Element | str] = [self]
        while stack:
            node = stack.pop()
            if isinstance(node, str):
                parts.append(node)
            else:
                stack.extend(reversed(node.children))
        return " ".join(" ".join(parts).split())


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self._open: list[Element] = [self.root]
        self._skipping = 0
        self._count = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping:
            self._skipping += tag in SKIPPED
            return
        if tag in SKIPPED:
            self._skipping = 1
            return
        if self._count >= MAX_ELEMENTS:
            return
        self._count += 1
        parent = self._open[-1]
        element = Element(tag, dict(attrs), parent=parent)
        parent.children.append(element)
        if tag not in VOID and len(self._open) < MAX_DEPTH:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping or tag in SKIPPED:
            return  # inside skipped code, or an empty <svg/>
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._open[-1].tag == tag and len(self._open) > 1:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            self._skipping -= tag in SKIPPED
            return
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self._open[-1].children.append(data)


def parse_html(text: str) -> Element:
    """The document's element tree; never raises on malformed markup."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root
