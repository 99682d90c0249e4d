"""A fake Ollama model registry (``registry.ollama.ai``) speaking the distribution API, for tests.

What it serves, as Ollama's own client expects it (``server/images.go``, ``server/download.go``):

- ``GET|HEAD /v2/{namespace}/{model}/manifests/{tag}``: the image manifest v2 JSON with
  ``Content-Type: application/vnd.docker.distribution.manifest.v2+json`` and
  ``Docker-Content-Digest: sha256:<hex of the body>``; 404 with a distribution error body
  (``{"errors": [{"code": "MANIFEST_UNKNOWN", ...}]}``) for an unknown name or tag.
- ``GET /v2/{namespace}/{model}/blobs/sha256:<hex>``: ``307 Temporary Redirect`` to a second
  server on another port (the "CDN", like the real registry's signed storage URLs), which
  answers the bytes with ``Content-Length`` and an ``ETag``. ``download.go`` accepts exactly
  that 307 before reading from the ``Location``.

No tag listing and no search: Ollama's client never calls either, and no public documentation
says the real registry answers them, so a request for them gets the same 404 as any unknown path.

Knobs: ``fail_next`` (status, headers) answers the next registry request with that status;
``requests`` records every ``(method, path)``; ``add_raw_manifest`` serves any bytes as a
manifest (bad digests, bad JSON); ``blobs`` can be edited to serve corrupted content;
``manifest_headers`` overrides manifest response headers (a wrong ``Docker-Content-Digest``);
``blob_location`` replaces every blob redirect's ``Location`` (unsafe or looping redirects).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from tests.fakes.ollama_http import Request, Response, ThreadedServer, json_response

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER = "application/vnd.ollama.image."
# Stand-ins for GGUF weights: the registry client never downloads them, only their size/digest.
WEIGHTS = b"GGUF" + bytes(range(256)) * 16
TINY_WEIGHTS = b"GGUF" + b"\x01" * 1000
_MANIFEST = re.compile(r"/v2/([^/]+/[^/]+)/manifests/([^/]+)")
_BLOB = re.compile(r"/v2/([^/]+/[^/]+)/blobs/(sha256:[0-9a-f]{64})")
_CDN_BLOB = re.compile(r"/blobs/sha256-([0-9a-f]{64})")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def distribution_error(status: int, code: str, message: str) -> Response:
    """The OCI distribution spec's error body."""
    return json_response(status, {"errors": [{"code": code, "message": message, "detail": {}}]})


@dataclass
class FakeRegistry:
    manifests: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (ns/model, tag)
    blobs: dict[str, bytes] = field(default_factory=dict)  # "sha256:<hex>" -> content
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_next: tuple[int, dict[str, str]] | None = None
    manifest_headers: dict[str, str] = field(default_factory=dict)
    blob_location: str | None = None
    url: str = ""
    cdn_url: str = ""

    def __post_init__(self) -> None:
        self._server = ThreadedServer(self._registry)
        self._cdn = ThreadedServer(self._serve_cdn)

    async def __aenter__(self) -> FakeRegistry:
        self.cdn_url = f"http://127.0.0.1:{await self._cdn.start()}"
        self.url = f"http://127.0.0.1:{await self._server.start()}"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._server.stop()
        await self._cdn.stop()

    # -- content ------------------------------------------------------------------------------

    def add_blob(self, data: bytes) -> dict[str, Any]:
        digest = digest_of(data)
        self.blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    def add_model(
        self,
        repository: str,
        tag: str,
        *,
        weights: bytes,
        family: str = "llama",
        model_type: str = "3.2B",
        file_type: str = "Q4_K_M",
        model_format: str = "gguf",
        license_text: str | None = "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nRelease: 2024-09-25\n",
        extra_layers: tuple[tuple[str, bytes], ...] = (),
    ) -> dict[str, Any]:
        """Store a model the way ``ollama push`` lays it out; return the manifest as JSON."""
        config = {
            "model_format": model_format,
            "model_family": family,
            "model_families": [family],
            "model_type": model_type,
            "file_type": file_type,
            "architecture": "amd64",  # the OCI platform, not the model's architecture
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": []},
        }
        layers = [{"mediaType": LAYER + "model", **self.add_blob(weights)}]
        texts = [("template", b"{{ .Prompt }}"), ("params", b'{"stop":["<|eot_id|>"]}')]
        if license_text is not None:
            texts.insert(0, ("license", license_text.encode()))
        for kind, data in (*texts, *extra_layers):
            layers.append({"mediaType": LAYER + kind, **self.add_blob(data)})
        config_blob = json.dumps(config).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, **self.add_blob(config_blob)},
            "layers": layers,
        }
        self.add_raw_manifest(repository, tag, json.dumps(manifest).encode())
        return manifest

    def add_raw_manifest(self, repository: str, tag: str, body: bytes) -> None:
        self.manifests[(repository, tag)] = body

    def manifest_requests(self) -> int:
        return sum(1 for _, path in self.requests if "/manifests/" in path)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _registry(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        if self.fail_next is not None:
            (status, headers), self.fail_next = self.fail_next, None
            response = distribution_error(status, "UNAVAILABLE", "fake registry failure")
            response.headers.update(headers)
            return response
        if request.method not in ("GET", "HEAD"):
            return distribution_error(405, "UNSUPPORTED", "method not allowed")
        if request.path == "/v2/":
            return json_response(200, {})
        if match := _MANIFEST.fullmatch(request.path):
            body = self.manifests.get((match.group(1), match.group(2)))
            if body is None:
                return distribution_error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            headers = {"Docker-Content-Digest": digest_of(body), **self.manifest_headers}
            return Response(200, body, content_type=MANIFEST_TYPE, headers=headers)
        if (match := _BLOB.fullmatch(request.path)) and match.group(2) in self.blobs:
            # A signed, expiring storage URL on another host, as the real registry answers.
            hex_digest = match.group(2).removeprefix("sha256:")
            location = (
                f"{self.cdn_url}/blobs/sha256-{hex_digest}?X-Amz-Expires=3600&X-Amz-Signature=abc"
            )
            if self.blob_location is not None:
                location = self.blob_location
            return Response(307, content_type=None, headers={"Location": location})
        if _BLOB.fullmatch(request.path):
            return distribution_error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        return distribution_error(404, "NOT_FOUND", "not found")

    async def _serve_cdn(self, request: Request) -> Response:
        self.requests.append((request.method, "cdn:" + request.path))
        match = _CDN_BLOB.fullmatch(request.path)
        data = self.blobs.get("sha256:" + match.group(1)) if match else None
        if data is None:
            return Response(404, b"NoSuchKey", content_type="text/plain")
        etag = f'"{hashlib.md5(data).hexdigest()}"'
        return Response(200, data, content_type="application/octet-stream", headers={"ETag": etag})


def add_sample_models(registry: FakeRegistry) -> None:
    """``llama3.2:3b`` (official, Q4_K_M, with a license) and ``someuser/tiny:q8`` (no license)."""
    registry.add_model("library/llama3.2", "3b", weights=WEIGHTS)
    registry.add_model(
        "someuser/tiny",
        "q8",
        weights=TINY_WEIGHTS,
        family="qwen2",
        model_type="135M",
        file_type="Q8_0",
        license_text=None,
    )
