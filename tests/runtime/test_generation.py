"""Generation on the real engine: every sampling parameter reaches llama.cpp (as its own
``/slots`` report shows), structured output, grammars, stop sequences and cancellation."""

from __future__ import annotations

import asyncio
import json
import math

import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import (
    InvalidRequest,
    LocalEmbeddingRequest,
    LocalFormatType,
    LocalGenerationRequest,
    LocalResponseFormat,
)
from lexitui.runtime.errors import GenerationError
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from tests.waiting import until_answered

pytestmark = pytest.mark.engine
SMALL = ModelLoadOptions(context_length=1024, threads=1, embedding=True)


def chat(text: str) -> tuple[LocalChatMessage, ...]:
    return (LocalChatMessage(ChatRole.USER, text),)


async def slot_params(services: Services) -> dict[str, float]:
    client = services.runtime.engine().client
    assert client is not None
    slots = (await client.get("/slots")).json()
    return dict(slots[0]["params"])


@pytest.mark.usefixtures("engine_kind")
async def test_every_sampling_parameter_reaches_the_engine(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    request = LocalGenerationRequest(
        messages=chat("Name a fruit."),
        max_tokens=7,
        temperature=0.33,
        top_p=0.81,
        top_k=17,
        repetition_penalty=1.23,
        frequency_penalty=0.12,
        presence_penalty=0.21,
        seed=4242,
        min_p=0.07,
        typical_p=0.93,
        mirostat=2,
        mirostat_tau=4.5,
        mirostat_eta=0.15,
    )
    await services.runtime.generate(request)
    params = await slot_params(services)
    expected = {
        "n_predict": 7,
        "temperature": 0.33,
        "top_p": 0.81,
        "top_k": 17,
        "repeat_penalty": 1.23,
        "frequency_penalty": 0.12,
        "presence_penalty": 0.21,
        "seed": 4242,
        "min_p": 0.07,
        "typical_p": 0.93,
        "mirostat": 2,
        "mirostat_tau": 4.5,
        "mirostat_eta": 0.15,
    }
    for name, value in expected.items():
        assert math.isclose(float(params[name]), value, rel_tol=1e-6), (name, params[name])


async def test_stop_sequence_ends_the_answer(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    request = LocalGenerationRequest(
        prompt="1, 2, 3, 4,", temperature=0, max_tokens=30, stop_sequences=("7",)
    )
    result = await services.runtime.generate(request)
    assert "6" in result.text and "7" not in result.text, result.text
    assert result.finish_reason == "stop"


async def test_system_prompt_leads_the_conversation(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    plain = LocalGenerationRequest(messages=chat("Hi"), max_tokens=2)
    system = "You are a terse assistant who answers in one word."
    with_system = LocalGenerationRequest(messages=chat("Hi"), max_tokens=2, system_prompt=system)
    base = (await services.runtime.generate(plain)).usage.prompt_tokens
    led = (await services.runtime.generate(with_system)).usage.prompt_tokens
    # SmolLM2's template adds its own default system line when none is given; ours replaces it.
    assert led != base
    tokens = (
        await services.runtime.engine().client.post(  # type: ignore[union-attr]
            "/tokenize", json={"content": system}
        )
    ).json()["tokens"]
    assert led >= len(tokens)


@pytest.mark.usefixtures("engine_kind")
async def test_json_schema_output_parses_and_matches(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    request = LocalGenerationRequest(
        messages=chat("Describe a person as JSON."),
        max_tokens=80,
        temperature=0,
        format=LocalResponseFormat(LocalFormatType.JSON_SCHEMA, json.dumps(schema)),
    )
    value = json.loads((await services.runtime.generate(request)).text)
    assert set(value) == {"name", "age"} and isinstance(value["age"], int)


async def test_json_mode_gives_an_object(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    request = LocalGenerationRequest(
        messages=chat("Give me a JSON object about a cat."),
        max_tokens=60,
        temperature=0,
        format=LocalResponseFormat(LocalFormatType.JSON),
    )
    result = await services.runtime.generate(request)
    if result.finish_reason == "length":
        assert result.text.lstrip().startswith("{")
    else:
        assert isinstance(json.loads(result.text), dict)


async def test_gbnf_grammar_constrains_a_bare_prompt(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    grammar = 'root ::= ("red" | "green" | "blue") " " [0-9] [0-9]'
    for seed in (1, 2, 3):
        request = LocalGenerationRequest(
            prompt="My favourite colour and number:", grammar=grammar, seed=seed, max_tokens=10
        )
        text = (await services.runtime.generate(request)).text
        colour, _, number = text.partition(" ")
        assert colour in {"red", "green", "blue"} and number.isdigit() and len(number) == 2


@pytest.mark.usefixtures("engine_kind")
async def test_chunks_count_tokens_and_end_with_the_result(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    chunks = [
        c
        async for c in services.runtime.stream(
            # A long answer asked for, sampled greedily: it is cut at 6 tokens, never ends first.
            LocalGenerationRequest(
                messages=chat("Write a long story about the sea."),
                max_tokens=6,
                temperature=0,
                seed=1,
            )
        )
    ]
    text_chunks = [c for c in chunks if c.text]
    assert [c.token_index for c in text_chunks] == list(range(len(text_chunks)))
    final = chunks[-1]
    assert final.is_complete and final.result is not None and final.finish_reason == "length"
    assert final.result.text == "".join(c.text for c in text_chunks)
    assert final.result.usage.total_tokens == final.result.usage.prompt_tokens + 6


@pytest.mark.usefixtures("engine_kind")
async def test_cancelling_a_stream_frees_the_slot(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    # Greedy: the story runs to the 500-token limit, so it is still streaming when cancelled.
    long = LocalGenerationRequest(
        messages=chat("Write a very long story."), max_tokens=500, temperature=0, seed=1
    )

    streaming = asyncio.Event()

    async def consume() -> None:
        async for _ in services.runtime.stream(long):
            streaming.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(streaming.wait(), 60)  # tokens are flowing: cancel mid-answer
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert services.runtime.active_requests == 0
    client = services.runtime.engine().client
    assert client is not None

    log = services.runtime.log_path(STARTER_ID)

    async def slot_free() -> bool:
        return not (await client.get("/slots")).json()[0]["is_processing"]

    # The engine notices the closed connection and frees the slot on its own time; its log
    # says the task was cancelled, not run to the 500-token limit.
    await until_answered(slot_free, 30)
    await until_answered(lambda: asyncio.to_thread(lambda: "cancel task" in log.read_text()), 10)
    # The engine serves the next request at once.
    quick = LocalGenerationRequest(messages=chat("Hi"), max_tokens=2)
    result = await asyncio.wait_for(services.runtime.generate(quick), 30)
    assert result.usage.completion_tokens == 2


@pytest.mark.usefixtures("engine_kind")
async def test_embeddings_have_the_model_dimension_and_unit_norm(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    result = await services.runtime.embed(LocalEmbeddingRequest(("a cat", "a dog", "tax law")))
    assert result.dimensions == 576 and len(result.embeddings) == 3
    for vector in result.embeddings:
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-6)
    raw = await services.runtime.embed(LocalEmbeddingRequest(("a cat",), normalize=False))
    norm = math.sqrt(sum(x * x for x in raw.embeddings[0]))
    assert not math.isclose(norm, 1.0, rel_tol=1e-3)
    # Same direction either way.
    cosine = sum(a * b for a, b in zip(raw.embeddings[0], result.embeddings[0], strict=True))
    assert math.isclose(cosine / norm, 1.0, rel_tol=1e-4)


async def test_embeddings_need_a_model_loaded_with_them(services: Services) -> None:
    await services.runtime.load(STARTER_ID, ModelLoadOptions(context_length=512, threads=1))
    with pytest.raises(GenerationError, match="without embeddings"):
        await services.runtime.embed(LocalEmbeddingRequest(("x",)))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "prompt or chat messages"),
        ({"prompt": "x", "temperature": -1.0}, "temperature"),
        ({"prompt": "x", "top_p": 1.5}, "top-p"),
        ({"prompt": "x", "mirostat": 3}, "mirostat"),
        ({"prompt": "x", "max_tokens": 0}, "max tokens"),
        (
            {"messages": (LocalChatMessage(ChatRole.USER, "what is this?", ("aGVsbG8=",)),)},
            "cannot read images",
        ),
        (
            {"prompt": "x", "format": LocalResponseFormat(LocalFormatType.JSON_SCHEMA, "{bad")},
            "not valid JSON",
        ),
        (
            {
                "prompt": "x",
                "grammar": "root ::= x",
                "format": LocalResponseFormat(LocalFormatType.JSON),
            },
            "either a grammar",
        ),
    ],
)
def test_bad_requests_are_refused_before_sending(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        LocalGenerationRequest(**fields).validate()  # type: ignore[arg-type]
