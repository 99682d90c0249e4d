"""One download in full: its error, where it comes from, its bytes and attempts, and what to do.

The Downloads table has room for a status word only; a failure's reason can be a whole sentence
(a URL, a status code, a hint), so the highlighted download is described below the table and
Enter opens the same text in a dialog. The advice follows the failure's kind: a refused Hub
request needs a token, a full disk needs space, a vanished file needs another variant.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.http_status import shown_url
from lexitui.downloads.records import DownloadProgressEvent
from lexitui.ui.text import markup_safe

TOKEN_HELP = (
    "set HF_TOKEN to a Hugging Face token of an account that accepted the model's license "
    "(or put it in the config as `token` under [huggingface]), then press t to retry"
)
# What AccessDeniedError and the registry's gated errors say: the Hub refused the request.
REFUSED = ("HTTP 401", "HTTP 403", "gated")
NO_SPACE = ("disk full", "no space", "free space")


def needs_token(error: str) -> bool:
    return any(word.lower() in error.lower() for word in REFUSED)


def advice(download: ModelDownload, *, has_token: bool) -> str:
    """What the user can do about the download as it stands."""
    status, error = download.status, download.error or ""
    if status is DownloadStatus.FAILED:
        if needs_token(error):
            if has_token:
                return (
                    "The Hub refused your token for this file: accept the model's license on "
                    "its page with that account (approval can take a while), or " + TOKEN_HELP + "."
                )
            return "This model needs a Hugging Face token: " + TOKEN_HELP + "."
        if any(word.lower() in error.lower() for word in NO_SPACE):
            return "Free some disk space (Models area: remove or clean up), then press t to retry."
        if "HTTP 404" in error:
            return "The file is no longer on the Hub: pick another variant in Discover (4)."
        return "Press t to retry; the bytes already on disk are kept where possible."
    if status is DownloadStatus.CANCELLED:
        return "Press t to download it again."
    if status is DownloadStatus.PAUSED:
        return "Press u to resume where it stopped, x to cancel."
    if status is DownloadStatus.COMPLETED:
        where = f" at {download.destination_path}" if download.destination_path else ""
        return f"Installed{where}: load it in the Runtime area."
    return "p pauses, x cancels, + and - change its priority."


def bytes_line(download: ModelDownload, live: DownloadProgressEvent | None) -> str:
    done = live.downloaded_bytes if live is not None else download.downloaded_bytes
    total = live.total_bytes if live is not None and live.total_bytes else download.total_bytes
    # Exact counts: this is where a user checks what is on disk against what the Hub lists.
    if total <= 0:
        return f"{done:,} so far (size unknown)"
    return f"{done:,} of {total:,} ({min(100.0, done / total * 100):.0f}%)"


def attempts_line(download: ModelDownload) -> str:
    options = download.options
    allowed = 1 + (options.max_retries if options.auto_retry_on_failure else 0)
    if download.started_at is None and download.retry_count == 0:
        return f"not started yet (up to {allowed})"
    return f"{download.retry_count + 1} of up to {allowed}"


def describe(
    download: ModelDownload, live: DownloadProgressEvent | None = None, *, has_token: bool
) -> str:
    """Rich markup (external text escaped) for one download, every line complete."""
    source = download.variant.download_url
    # What to do first: on a small terminal the pane may not show the end of a long error.
    lines = [
        f"[b]{markup_safe(download.model.id)}[/b] · {markup_safe(download.variant.filename)} · "
        f"{download.status.value}",
        f"[b]What to do:[/b] {markup_safe(advice(download, has_token=has_token), 600)}",
    ]
    running = live is not None and live.status is DownloadStatus.DOWNLOADING
    if running and live is not None and live.message and live.message != live.status.value:
        lines.append(f"Now: {markup_safe(live.message, 600)}")  # "retry 1 in 2 s: ..."
    if download.error:
        label = "Error" if download.status is DownloadStatus.FAILED else "Last error"
        lines.append(f"[red]{label}:[/] {markup_safe(download.error, 600)}")
    lines += [
        f"Bytes: {bytes_line(download, live)} · attempts: {attempts_line(download)}",
        f"Source: {markup_safe(shown_url(source)) if source else 'unknown'}",
    ]
    return "\n".join(lines)


class DownloadDetailsScreen(ModalScreen[None]):
    """The highlighted download described in full, over the table (Esc or Enter closes)."""

    DEFAULT_CSS = """
    DownloadDetailsScreen {
        align: center middle;
    }
    #download-details-box {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 90%;
        border: $frame $primary;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape,enter,q", "close", "Close", id="download_details.close"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="download-details-box"):
            yield Static(self._text, id="download-details-text")
            yield Static("[dim]Esc closes[/dim]")

    def action_close(self) -> None:
        self.dismiss(None)
