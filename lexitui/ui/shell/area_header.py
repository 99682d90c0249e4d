"""The header of every area screen: its title, and a pill with the user's edition on the right.

The pill says "unmanaged" on a machine without a license authority, the tier and the licensee
("WriterPro · ann") on a managed one, or "Core · no license" when the license is missing or
refused; its tooltip (a click, or "License" in the command palette) gives the full reason. The
app learns the edition once the first frame is painted (``LexituiApp.edition``): until then the
pill is empty, never a guess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Header, Static

from lexitui.ui.text import markup_safe, plain

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.events import Click

    from lexitui.editions.entitlements import Entitlements


def edition_label(edition: Entitlements) -> str:
    """What the pill says: "unmanaged", "WriterPro · ann" or "Core · no license"."""
    if not edition.managed:
        return edition.shown_tier
    return f"{edition.shown_tier} · {edition.licensee or 'no license'}"


def edition_detail(edition: Entitlements) -> str:
    """The reason behind the tier, and when the license runs out."""
    expires = f"; expires {edition.expires.isoformat()}" if edition.expires else ""
    return f"{edition_label(edition)}: {edition.reason}{expires}"


class EditionPill(Static):
    DEFAULT_CSS = """
    EditionPill {
        dock: right;
        width: auto;
        padding: 0 1;
        background: $primary-muted;
        color: $text-primary;
    }
    EditionPill.-unlicensed {
        background: $warning-muted;
        color: $text-warning;
    }
    """

    def on_mount(self) -> None:
        from lexitui.ui.app import LexituiApp

        if isinstance(self.app, LexituiApp):
            self.watch(self.app, "edition", self.show)

    def show(self, edition: Entitlements | None) -> None:
        if edition is None:
            return
        self.update(plain(edition_label(edition), 60))
        self.tooltip = plain(edition_detail(edition), 400)
        self.set_class(edition.managed and edition.licensee is None, "-unlicensed")

    def on_click(self, event: Click) -> None:
        # The reason, for a terminal without tooltips (the palette's "License" shows it too).
        event.stop()  # the header would toggle its height
        from lexitui.ui.app import LexituiApp

        if isinstance(self.app, LexituiApp) and self.app.edition is not None:
            self.notify(markup_safe(edition_detail(self.app.edition), 600), timeout=12)


class AreaHeader(Header):
    """Textual's header with the edition pill where the (unused) clock would be."""

    DEFAULT_CSS = """
    AreaHeader HeaderClockSpace {
        display: none;
    }
    """

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield EditionPill(id="edition-pill")
