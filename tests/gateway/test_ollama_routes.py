"""The Ollama routes over real HTTP in front of a deterministic router: NDJSON streams (byte
for byte against the OpenAI side's server-sent events), Ollama's error shape and statuses, the
probe paths, the key rule, and every request going to the router with the ``ollama`` source."""

from __future__ import annotations

import json

import httpx

from lexitui.routing.errors import FailureKind, ProviderError, UnknownModel
from tests.gateway.conftest import PIECES, PROMPT_TOKENS, FakeRouter, start_gateway

ASK = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}


def root(base_url: str) -> str:
    return base_url.removesuffix("/v1")


async def test_one_port_serves_ndjson_for_ollama_and_sse_for_openai() -> None:
    router = FakeRouter()
    async with start_gateway(router) as gateway, httpx.AsyncClient() as client:
        ollama = await client.post(f"{root(gateway.base_url)}/api/chat", json=ASK)
        openai = await client.post(
            f"{gateway.base_url}/chat/completions", json={**ASK, "stream": True}
        )
    assert ollama.status_code == 200 and openai.status_code == 200
    assert ollama.headers["content-type"] == "application/x-ndjson"
    assert openai.headers["content-type"].startswith("text/event-stream")
    # NDJSON: one compact JSON object a line, no "data:" framing, no [DONE].
    raw = ollama.content
    assert raw.endswith(b"\n") and b"data:" not in raw and b"[DONE]" not in raw
    lines = [json.loads(text) for text in raw.split(b"\n")[:-1]]
    assert [x["message"]["content"] for x in lines[:-1]] == list(PIECES)
    assert all(x["done"] is False and x["model"] == "fake-model" for x in lines[:-1])
    last = lines[-1]
    assert last["done"] is True and last["done_reason"] == "stop"
    assert last["message"] == {"role": "assistant", "content": ""}
    assert last["prompt_eval_count"] == PROMPT_TOKENS and last["eval_count"] == len(PIECES)
    assert last["created_at"].endswith("Z") and last["total_duration"] > 0
    # SSE: "data: {...}" events separated by blank lines, ending with [DONE].
    assert openai.content.startswith(b"data: {") and openai.content.endswith(b"data: [DONE]\n\n")
    assert router.sources == ["ollama", "gateway"]


async def test_stream_false_is_one_json_object() -> None:
    router = FakeRouter()
    async with start_gateway(router) as gateway, httpx.AsyncClient() as client:
        answer = await client.post(
            f"{root(gateway.base_url)}/api/generate",
            json={"model": "fake-model", "prompt": "hi", "stream": False},
        )
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["response"] == "".join(PIECES) and body["done"] is True
    assert body["done_reason"] == "stop" and body["eval_count"] == len(PIECES)


async def test_unknown_model_is_a_404_in_ollamas_shape() -> None:
    async with start_gateway(FakeRouter()) as gateway, httpx.AsyncClient() as client:
        for path, body in (
            ("/api/chat", {**ASK, "model": "nope"}),
            ("/api/generate", {"model": "nope", "prompt": "hi"}),
            ("/api/embed", {"model": "nope", "input": "hi"}),
            ("/api/show", {"model": "nope"}),
        ):
            answer = await client.post(f"{root(gateway.base_url)}{path}", json=body)
            assert answer.status_code == 404, path
            assert answer.json() == {"error": "model 'nope' not found"}


async def test_router_failures_keep_their_status_in_ollamas_shape() -> None:
    cases = (
        (UnknownModel("gone"), 404, "model 'gone' not found"),
        (ProviderError("local", FailureKind.BAD_REQUEST, "no such", status=404), 404, None),
        (ProviderError("local", FailureKind.RATE_LIMITED, "slow down"), 429, None),
    )
    for failure, status, message in cases:
        async with start_gateway(FakeRouter(fail=failure)) as gateway, httpx.AsyncClient() as c:
            answer = await c.post(f"{root(gateway.base_url)}/api/chat", json=ASK)
        assert answer.status_code == status
        body = answer.json()
        assert set(body) == {"error"} and isinstance(body["error"], str)
        if message:
            assert body["error"] == message
    assert (await _post_raw(b"{not json")).status_code == 400


async def _post_raw(content: bytes) -> httpx.Response:
    async with start_gateway(FakeRouter()) as gateway, httpx.AsyncClient() as client:
        answer = await client.post(f"{root(gateway.base_url)}/api/chat", content=content)
    assert set(answer.json()) == {"error"}
    return answer


async def test_a_failure_after_the_stream_started_is_a_last_error_line() -> None:
    router = FakeRouter(
        fail=ProviderError("local", FailureKind.STREAM_BROKEN, "engine died"), fail_after=2
    )
    async with start_gateway(router) as gateway, httpx.AsyncClient() as client:
        answer = await client.post(f"{root(gateway.base_url)}/api/chat", json=ASK)
    assert answer.status_code == 200
    lines = [json.loads(text) for text in answer.content.splitlines()]
    assert [x["message"]["content"] for x in lines[:-1]] == list(PIECES[:2])
    assert set(lines[-1]) == {"error"} and "engine died" in lines[-1]["error"]
    assert router.closed.is_set()


async def test_probes_answer_as_ollama_does() -> None:
    async with start_gateway(FakeRouter()) as gateway, httpx.AsyncClient() as client:
        base = root(gateway.base_url)
        got = await client.get(f"{base}/")
        head = await client.head(f"{base}/")
        version = await client.get(f"{base}/api/version")
        wrong = await client.get(f"{base}/api/chat")
        missing = await client.get(f"{base}/api/nothing")
    assert got.status_code == 200 and got.text == "Ollama is running"
    assert head.status_code == 200 and head.content == b""
    assert isinstance(version.json()["version"], str)
    assert wrong.status_code == 405 and set(wrong.json()) == {"error"}
    assert missing.status_code == 404 and set(missing.json()) == {"error"}


async def test_the_key_guards_the_ollama_api_but_not_its_probes() -> None:
    async with start_gateway(FakeRouter(), api_key="sekrit") as gateway:
        base = root(gateway.base_url)
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/")).status_code == 200
            assert (await client.get(f"{base}/api/version")).status_code == 200
            refused = await client.post(f"{base}/api/chat", json=ASK)
            tags = await client.get(f"{base}/api/tags")
            allowed = await client.post(
                f"{base}/api/chat", json=ASK, headers={"authorization": "Bearer sekrit"}
            )
    assert refused.status_code == 401 and refused.json() == {"error": "unauthorized"}
    assert tags.status_code == 401
    assert allowed.status_code == 200


async def test_embeddings_both_endpoints() -> None:
    router = FakeRouter()
    async with start_gateway(router) as gateway, httpx.AsyncClient() as client:
        base = root(gateway.base_url)
        embed = await client.post(
            f"{base}/api/embed", json={"model": "fake-model", "input": ["ab", "abc"]}
        )
        old = await client.post(
            f"{base}/api/embeddings", json={"model": "fake-model", "prompt": "ab"}
        )
        empty = await client.post(
            f"{base}/api/embeddings", json={"model": "fake-model", "prompt": ""}
        )
    assert embed.json()["embeddings"] == [[2.0, 0.5, -1.0], [3.0, 0.5, -1.0]]
    assert embed.json()["model"] == "fake-model"
    assert old.json() == {"embedding": [2.0, 0.5, -1.0]}
    assert empty.json() == {"embedding": []}


async def test_images_keep_alive_and_options_reach_the_router() -> None:
    router = FakeRouter()
    body = {
        "model": "fake-model",
        "messages": [{"role": "user", "content": "what is it?", "images": ["aGk="]}],
        "keep_alive": "10m",
        "options": {"num_predict": 3, "top_k": 4},
        "format": "json",
        "stream": False,
    }
    async with start_gateway(router) as gateway, httpx.AsyncClient() as client:
        answer = await client.post(f"{root(gateway.base_url)}/api/chat", json=body)
    assert answer.status_code == 200
    (request,) = router.requests
    assert request.messages[0].images == ("aGk=",)
    assert request.max_tokens == 3
    assert request.parameters == {
        "top_k": 4,
        "response_format": {"type": "json_object"},
        "keep_alive": "10m",
    }
    assert router.sources == ["ollama"]
