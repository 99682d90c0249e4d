"""The context manager on the real engine: context use grows, clear, truncate, and KV-cache
snapshots saved to disk, listed in the store and restored (only into the model that made them)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.runtime.errors import GenerationError, SnapshotError
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

pytestmark = pytest.mark.engine
SMALL = ModelLoadOptions(context_length=1024, threads=1, embedding=True)


def turn(history: list[LocalChatMessage], text: str) -> LocalGenerationRequest:
    history.append(LocalChatMessage(ChatRole.USER, text))
    return LocalGenerationRequest(messages=tuple(history), max_tokens=12, temperature=0, seed=1)


@pytest.mark.usefixtures("engine_kind")
async def test_context_use_grows_with_the_conversation(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    empty = services.context.status()
    assert (empty.max_context_size, empty.used_tokens, empty.kv_cache_bytes) == (1024, 0, 0)
    history: list[LocalChatMessage] = []
    first = await services.runtime.generate(turn(history, "Hello there."))
    history.append(LocalChatMessage(ChatRole.ASSISTANT, first.text))
    after_one = services.context.status()
    # What the slot holds: the prompt and the answer but its last token (sampled, not cached).
    assert after_one.used_tokens == first.usage.prompt_tokens + first.usage.completion_tokens - 1
    await services.runtime.generate(turn(history, "And how are you?"))
    after_two = services.context.status()
    assert after_two.used_tokens > after_one.used_tokens
    assert after_two.kv_cache_bytes > after_one.kv_cache_bytes > 0
    assert 0 < after_two.usage_percent < 100
    assert after_two.available_tokens == 1024 - after_two.used_tokens


@pytest.mark.usefixtures("engine_kind")
async def test_snapshot_save_clear_restore_round_trip(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    history: list[LocalChatMessage] = []
    await services.runtime.generate(turn(history, "Remember the word pineapple."))
    before = services.context.status()
    snapshot = await services.context.save_snapshot(label="pineapple")
    assert snapshot.token_count == before.used_tokens and snapshot.size_bytes > 0
    file = services.context.folder / snapshot.file_name
    assert file.is_file() and file.stat().st_size >= snapshot.size_bytes
    assert [s.id for s in await services.context.list_snapshots(STARTER_ID)] == [snapshot.id]

    await services.context.clear()
    assert services.context.status().used_tokens == 0
    restored = await services.context.restore_snapshot(snapshot)
    assert restored.used_tokens == before.used_tokens
    # The engine reuses the restored cache: the shared prompt prefix is not evaluated again,
    # where after a clear it all is.
    follow_up = turn(history, "Which word?")
    assert (await services.runtime.generate(follow_up)).usage.cached_tokens > 20
    await services.context.clear()
    assert (await services.runtime.generate(follow_up)).usage.cached_tokens == 0

    await services.context.delete_snapshot(snapshot)
    assert not file.exists() and await services.context.list_snapshots() == []


@pytest.mark.usefixtures("engine_kind")
async def test_truncate_keeps_the_first_tokens(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    await services.runtime.generate(turn([], "Tell me about the moon."))
    status = await services.context.truncate(10)
    assert status.used_tokens == 10
    # The engine agrees: saving now writes exactly ten tokens.
    snapshot = await services.context.save_snapshot()
    assert snapshot.token_count == 10
    assert (await services.context.truncate(0)).used_tokens == 0


async def test_a_snapshot_restores_only_into_its_own_model(
    services: Services, starter_path: Path
) -> None:
    await services.registry.add(
        "other", "Other", starter_path, source="test", registered_by_path=True
    )
    await services.runtime.load(STARTER_ID, SMALL)
    await services.runtime.generate(turn([], "Hi"))
    snapshot = await services.context.save_snapshot()
    other = await services.runtime.load("other", SMALL)
    with pytest.raises(SnapshotError, match="cannot use it"):
        await services.context.restore_snapshot(snapshot, other.id)


async def test_tampered_or_missing_snapshot_files_are_refused(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    await services.runtime.generate(turn([], "Hi"))
    snapshot = await services.context.save_snapshot()
    with pytest.raises(SnapshotError, match="refusing"):
        await services.context.restore_snapshot(replace(snapshot, file_name="../../etc/passwd"))
    (services.context.folder / snapshot.file_name).unlink()
    with pytest.raises(SnapshotError, match="missing"):
        await services.context.restore_snapshot(snapshot)
    with pytest.raises(SnapshotError, match="no snapshot"):
        await services.context.get_snapshot("nope")


async def test_a_restored_context_can_be_truncated(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    await services.runtime.generate(turn([], "Tell me about the sun."))
    snapshot = await services.context.save_snapshot()
    await services.context.clear()
    await services.context.restore_snapshot(snapshot)
    assert (await services.context.truncate(12)).used_tokens == 12
    assert (await services.context.save_snapshot()).token_count == 12
    # Without the token list saved beside it, a restored context says it cannot be cut.
    (services.context.folder / f"{snapshot.id}.tokens.json").unlink()
    await services.context.restore_snapshot(snapshot)
    with pytest.raises(GenerationError, match="tokens are unknown"):
        await services.context.truncate(5)
    await services.context.delete_snapshot(snapshot)
    assert not any(services.context.folder.glob(f"{snapshot.id}*"))
