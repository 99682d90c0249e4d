"""What an HTTP status means for a download, as one typed error; URLs shown without queries."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from lexitui.downloads.errors import (
    AccessDeniedError,
    DownloadError,
    RemoteNotFoundError,
    TransientError,
    UrlExpiredError,
)

MAX_RETRY_AFTER_S = 30.0


def shown_url(url: str) -> str:
    """The URL without query, fragment or userinfo: signed URLs keep credentials there (K2)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after", "")
    return min(float(value), MAX_RETRY_AFTER_S) if value.strip().isdigit() else None


class RetryLater(TransientError):
    def __init__(self, message: str, delay_s: float | None) -> None:
        super().__init__(message)
        self.delay_s = delay_s


def check_status(status: int, url: str, origin_url: str, headers: Mapping[str, str]) -> None:
    """Raise the error a non-success status stands for; 2xx (and 416, the caller's) pass."""
    if 200 <= status < 300 or status == 416:
        return
    shown = shown_url(url)
    same_host = urlsplit(url).netloc == urlsplit(origin_url).netloc
    if status == 403 and not same_host:
        # S3/CloudFront answer 403 for an expired signature (and for a missing key).
        raise UrlExpiredError(f"{shown}: the signed download link was refused (403)")
    if status in (401, 403):
        raise AccessDeniedError(
            f"HTTP {status} for {shown}: the model may be gated (accept its license on its page) "
            "or need a token (set HF_TOKEN)"
        )
    if status == 404:
        raise RemoteNotFoundError(f"HTTP 404: {shown} not found")
    if status in (408, 425, 429) or status >= 500:
        raise RetryLater(f"HTTP {status} from {shown}", retry_after(headers))
    raise DownloadError(f"HTTP {status} from {shown}")
