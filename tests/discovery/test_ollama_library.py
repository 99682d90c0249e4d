"""The Ollama library registry against a fake registry that speaks the distribution API."""

from __future__ import annotations

import hashlib
import json
import socket

import httpx
import pytest

from lexitui.discovery.errors import (
    InvalidModelIdError,
    ModelNotFoundError,
    RateLimitedError,
    RegistryError,
    RegistryOfflineError,
    RegistryUnavailableError,
)
from lexitui.discovery.ollama_errors import BadRegistryAnswerError, RegistryAccessDeniedError
from lexitui.discovery.ollama_library import OllamaLibraryRegistry
from lexitui.domain.enums import ModelFormat, ModelRegistryType, QuantizationType
from lexitui.store.search_cache import RegistryCache
from tests.fakes.ollama_registry import WEIGHTS, FakeRegistry


def hex_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- resolving a name -------------------------------------------------------------------------


async def test_get_model_maps_manifest_and_config(
    library: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    model = await library.resolve("llama3.2:3b")

    assert model.id == "llama3.2:3b"
    assert model.name == "llama3.2"
    assert model.registry is ModelRegistryType.OLLAMA_LIBRARY
    assert model.architecture == "llama"  # model_family, not the config's "amd64"
    assert model.parameter_count == "3.2B"
    assert model.license == "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT"
    assert model.author is None  # the official library
    assert model.homepage == "https://ollama.com/library/llama3.2"
    assert model.tags[:2] == ("3b", "gguf")
    (variant,) = model.variants
    assert model.recommended_variant == variant
    assert variant.format is ModelFormat.GGUF
    assert variant.quantization is QuantizationType.Q4_K_M
    assert variant.size_bytes == len(WEIGHTS)
    assert variant.sha256 == hex_of(WEIGHTS)
    assert variant.filename == f"sha256-{hex_of(WEIGHTS)}"
    assert variant.download_url == f"{fake.url}/v2/library/llama3.2/blobs/sha256:{hex_of(WEIGHTS)}"
    # The manifest asked for the way Ollama asks, and the weights were never downloaded.
    assert ("GET", "/v2/library/llama3.2/manifests/3b") in fake.requests
    assert not any(hex_of(WEIGHTS) in path for _, path in fake.requests)


async def test_download_url_redirects_to_storage_and_serves_the_weights(
    library: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    (variant,) = await library.get_variants("llama3.2:3b")
    assert variant.download_url is not None
    async with httpx.AsyncClient(follow_redirects=True) as client:
        response = await client.get(variant.download_url)
    assert response.history[0].status_code == 307
    assert str(response.url).startswith(fake.cdn_url)
    assert hex_of(response.content) == variant.sha256


async def test_other_namespaces_and_defaults(library: OllamaLibraryRegistry) -> None:
    model = await library.resolve("someuser/tiny:q8")
    assert (model.id, model.author, model.parameter_count) == (
        "someuser/tiny:q8",
        "someuser",
        "135M",
    )
    assert model.license is None  # no license layer: nothing invented
    assert model.variants[0].quantization is QuantizationType.Q8_0
    same = await library.get_model("registry.ollama.ai/someuser/tiny:q8")
    assert same == model


async def test_unknown_quantization_is_kept_as_a_label(
    library: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    projector = (("projector", b"vision projector"),)
    fake.add_model(
        "library/odd", "latest", weights=b"GGUF", file_type="ZQ9_9", extra_layers=projector
    )
    model = await library.resolve("odd")
    (variant,) = model.variants
    assert (variant.quantization, variant.quantization_label) == (None, "ZQ9_9")
    assert "projector" in model.tags  # the weights alone are not all a vision model loads


async def test_model_formats_come_from_the_config(
    library: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    fake.add_model("library/st", "latest", weights=b"st", model_format="safetensors")
    fake.add_model("library/what", "latest", weights=b"??", model_format="mystery")
    (variant,) = await library.get_variants("st")
    assert variant.format is ModelFormat.SAFE_TENSORS
    with pytest.raises(BadRegistryAnswerError, match="mystery"):
        await library.get_model("what")


# -- errors -----------------------------------------------------------------------------------


async def test_missing_tag_is_none_or_an_error_naming_it(library: OllamaLibraryRegistry) -> None:
    assert await library.get_model("llama3.2:70b") is None  # as the Protocol has it
    with pytest.raises(ModelNotFoundError, match=r"llama3\.2:70b"):
        await library.get_variants("llama3.2:70b")


@pytest.mark.parametrize(
    ("status", "headers", "error", "words"),
    [
        (503, {}, RegistryUnavailableError, "HTTP 503"),
        (500, {}, RegistryUnavailableError, "HTTP 500"),
        (429, {"Retry-After": "7"}, RateLimitedError, "retry after 7 s"),
        (401, {"WWW-Authenticate": 'Bearer realm="x"'}, RegistryAccessDeniedError, "public"),
        (403, {}, RegistryAccessDeniedError, "HTTP 403"),
    ],
)
async def test_registry_failures_are_one_line_registry_errors(
    library: OllamaLibraryRegistry,
    fake: FakeRegistry,
    status: int,
    headers: dict[str, str],
    error: type[RegistryError],
    words: str,
) -> None:
    fake.fail_next = (status, headers)
    with pytest.raises(error) as caught:
        await library.get_model("llama3.2:3b")
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_unreachable_registry(cache: RegistryCache) -> None:
    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    library = OllamaLibraryRegistry(cache, base_url=f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(RegistryOfflineError, match="cannot be reached"):
            await library.get_model("llama3.2:3b")
    finally:
        await library.aclose()


def manifest_with(layers: list[dict[str, object]], config_digest: str) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": config_digest,
                "size": 10,
            },
            "layers": layers,
        }
    ).encode()


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "A" * 64,  # upper case
        "sha256:" + "a" * 63,  # short
        "sha256:../../../etc/passwd",
        "md5:" + "a" * 32,
        12345,
    ],
)
async def test_bad_layer_digests_are_rejected(
    library: OllamaLibraryRegistry, fake: FakeRegistry, digest: object
) -> None:
    good = "sha256:" + "b" * 64
    layer = {"mediaType": "application/vnd.ollama.image.model", "digest": digest, "size": 5}
    fake.add_raw_manifest("library/evil", "latest", manifest_with([layer], good))
    with pytest.raises(BadRegistryAnswerError, match="digest"):
        await library.get_model("evil")


async def test_cloud_manifest_without_weights_is_refused(
    library: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    config = fake.add_blob(b'{"model_format":"gguf","remote_host":"https://ollama.com"}')
    fake.add_raw_manifest("library/big", "cloud", manifest_with([], config["digest"]))
    with pytest.raises(BadRegistryAnswerError, match="no model weights"):
        await library.get_model("big:cloud")


async def test_corrupted_config_blob_fails_verification(
    library: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    manifest = fake.add_model("library/bent", "latest", weights=b"GGUF bent")
    fake.blobs[manifest["config"]["digest"]] = b'{"model_family":"evil"}'
    with pytest.raises(BadRegistryAnswerError, match="failed verification") as caught:
        await library.get_model("bent")
    assert "Signature" not in str(caught.value)  # the signed storage URL is a credential (K2)


async def test_manifest_must_match_its_content_digest(
    library: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    fake.manifest_headers = {"Docker-Content-Digest": "sha256:" + "0" * 64}
    with pytest.raises(BadRegistryAnswerError, match="does not match its digest"):
        await library.get_model("llama3.2:3b")
    fake.manifest_headers = {"Docker-Content-Digest": "sha256:nothex"}
    with pytest.raises(BadRegistryAnswerError, match="digest"):
        await library.get_model("llama3.2:3b")


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("file:///etc/passwd", "insecure redirect"),
        ("", "without a Location"),
        ("SELF", "too many redirects"),
    ],
)
async def test_unsafe_or_looping_blob_redirects_are_refused(
    library: OllamaLibraryRegistry, fake: FakeRegistry, location: str, words: str
) -> None:
    manifest = fake.add_model("library/loop", "latest", weights=b"GGUF loop")
    config_digest = manifest["config"]["digest"]
    own = f"{fake.url}/v2/library/loop/blobs/{config_digest}"
    fake.blob_location = own if location == "SELF" else location
    with pytest.raises(BadRegistryAnswerError, match=words):
        await library.get_model("loop")


async def test_oversized_and_garbled_manifests(
    library: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    fake.add_raw_manifest("library/huge", "latest", b"{" + b" " * (1 << 20) + b"}")
    fake.add_raw_manifest("library/html", "latest", b"<html>not json</html>")
    with pytest.raises(BadRegistryAnswerError, match="over"):
        await library.get_model("huge")
    with pytest.raises(BadRegistryAnswerError, match="not JSON"):
        await library.get_model("html")


@pytest.mark.parametrize(
    "name",
    ["", "../etc/passwd", "llama3.2:../x", "a/b/c/d", "llama 3", "llama3.2:", ":3b", "a..b"],
)
async def test_malformed_names_are_refused_before_any_request(
    library: OllamaLibraryRegistry, fake: FakeRegistry, name: str
) -> None:
    with pytest.raises(InvalidModelIdError):
        await library.get_model(name)
    assert fake.requests == []


async def test_other_registries_are_refused_with_the_reason(
    library: OllamaLibraryRegistry,
) -> None:
    with pytest.raises(InvalidModelIdError, match="Hugging Face"):
        await library.get_model("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M")


async def test_rate_limit_message_fits_ollama(
    library: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    fake.fail_next = (429, {})
    with pytest.raises(RateLimitedError) as caught:
        await library.get_model("llama3.2:3b")
    assert "retry later" in str(caught.value) and "HF_TOKEN" not in str(caught.value)
