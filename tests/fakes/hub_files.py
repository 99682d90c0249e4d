"""Serving file bytes as the Hub's CDN does: Range (one range), If-Range, 206/416, ETag,
``Accept-Ranges: bytes`` and a real Content-Length; and the signed URLs that point there.

A signed URL carries ``Expires`` (epoch seconds) and a ``Signature`` over path and expiry made
with the fake's current key, as CloudFront's do: past its expiry, or after the key changed
(``FakeHub.expire_cdn_urls``), the CDN answers 403 ``AccessDenied`` in S3's XML.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import quote, urlencode

from tests.fakes.hub_http import HubRequest, file_stream
from tests.fakes.hub_records import HubFile
from tests.fakes.ollama_http import Response

BINARY = "binary/octet-stream"
KEY_PAIR_ID = "KFAKEHUB0CDN1"
ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>"
)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def cdn_path(repo_id: str, sha256: str) -> str:
    digest = hashlib.sha256(repo_id.encode()).hexdigest()
    return f"/repos/{digest[:2]}/{digest[2:4]}/{digest}/{sha256}"


def sign(key: bytes, path: str, expires: int) -> str:
    return hmac.new(key, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()[:40]


def signed_query(key: bytes, path: str, filename: str, expires: int) -> str:
    disposition = f"inline; filename*=UTF-8''{quote(filename, safe='')}; filename=\"{filename}\";"
    return urlencode(
        {
            "response-content-disposition": disposition,
            "Expires": str(expires),
            "Signature": sign(key, path, expires),
            "Key-Pair-Id": KEY_PAIR_ID,
        }
    )


def signature_valid(request: HubRequest, key: bytes, now: float) -> bool:
    expires, signature = request.param("Expires"), request.param("Signature")
    if not expires or not expires.isdigit() or not signature:
        return False
    if int(expires) < now:
        return False
    return hmac.compare_digest(signature, sign(key, request.raw_path, int(expires)))


def access_denied() -> Response:
    return Response(403, ACCESS_DENIED, content_type="application/xml")


def serve_bytes(request: HubRequest, f: HubFile, etag: str, headers: dict[str, str]) -> Response:
    """200 with the whole file, 206 with the one range asked for, or 416 past its end."""
    size = f.size
    base = {"Accept-Ranges": "bytes", "ETag": etag, **headers}
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted and if_range is not None and if_range != etag:
        wanted = None  # the client's partial is of another version: send it all again
    span = _parse_range(wanted, size) if wanted else None
    if span == "unsatisfiable":
        return Response(
            416, content_type=None, headers={**base, "Content-Range": f"bytes */{size}"}
        )
    if isinstance(span, tuple):
        start, end = span
        base["Content-Range"] = f"bytes {start}-{end}/{size}"
        status = 206
    else:
        start, end, status = 0, size - 1, 200
    base["Content-Length"] = str(end - start + 1)
    stream = file_stream(f.body, start, end) if end >= start else None
    return Response(status, content_type=BINARY, stream=stream, headers=base)


def _parse_range(value: str, size: int) -> tuple[int, int] | str | None:
    """``bytes=a-b``, ``bytes=a-`` or ``bytes=-n``; a malformed or multi-range header is ignored
    (the whole file is sent), as S3 does."""
    match = _RANGE.match(value.strip())
    if not match or (not match[1] and not match[2]):
        return None
    if not match[1]:
        suffix = int(match[2])
        return (max(size - suffix, 0), size - 1) if suffix else "unsatisfiable"
    start = int(match[1])
    end = min(int(match[2]), size - 1) if match[2] else size - 1
    if start >= size:
        return "unsatisfiable"
    return None if end < start else (start, end)
