"""The fallback rules, the attempt history, cooldowns during an outage, and the promise that
fallback happens only before the first token (never duplicated text)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from lexitui.domain.language_model import LanguageModelRequest, TaskType
from lexitui.domain.routing import FallbackConfig, FallbackOptions
from lexitui.routing.cooldowns import Cooldowns
from lexitui.routing.errors import AllProvidersFailed, FailureKind, ProviderError
from lexitui.routing.fallback import FallbackManager, Trace
from tests.routing.scripted import ScriptedProvider

F = FailureKind
ASK = LanguageModelRequest(prompt="hi")


def manager(*providers: ScriptedProvider, config: FallbackConfig | None = None) -> FallbackManager:
    return FallbackManager(Cooldowns(config or FallbackConfig()), lambda: providers)


async def run(
    fm: FallbackManager, *chain: ScriptedProvider, **kw: object
) -> tuple[str, Trace, list[tuple[str, str, str]]]:
    trace, events = Trace(), []
    text = ""
    async for chunk in fm.stream(
        ASK,
        [(p, p.model) for p in chain],
        trace,
        kw.get("options", FallbackOptions(initial_timeout=timedelta(seconds=2))),  # type: ignore[arg-type]
        on_fallback=lambda a, b, why: events.append((a, b, why)),
    ):
        text += chunk.text
    return text, trace, events


async def test_local_unavailable_falls_back_to_cloud_and_keeps_the_history() -> None:
    local = ScriptedProvider("local", is_local=True, fail=F.UNAVAILABLE)
    cloud = ScriptedProvider("openai", words=("from", "cloud"))
    text, trace, events = await run(manager(local, cloud), local, cloud)
    assert text == "from cloud "
    assert [(a.provider_id, a.success, a.kind) for a in trace.attempts] == [
        ("local", False, "unavailable"),
        ("openai", True, None),
    ]
    assert events == [("local", "openai", "unavailable: scripted")]


async def test_a_timeout_retries_once_with_a_longer_timeout_then_falls_back() -> None:
    slow = ScriptedProvider("local", is_local=True, first_delay_s=0.3)
    cloud = ScriptedProvider("openai")
    options = FallbackOptions(initial_timeout=timedelta(seconds=0.1), timeout_multiplier=2)
    text, trace, _ = await run(manager(slow, cloud), slow, cloud, options=options)
    assert [a.provider_id for a in trace.attempts] == ["local", "local", "openai"]
    assert trace.attempts[1].duration > trace.attempts[0].duration  # 0.2 s the second time
    assert text == "hello there "
    no_retry = FallbackOptions(initial_timeout=timedelta(seconds=0.1), retry_on_timeout=False)
    _, trace, _ = await run(manager(slow, cloud), slow, cloud, options=no_retry)
    assert [a.provider_id for a in trace.attempts] == ["local", "openai"]


async def test_a_cloud_rate_limit_tries_local_next() -> None:
    cloud_a = ScriptedProvider("a", fail=F.RATE_LIMITED, retry_after_s=20)
    cloud_b, local = ScriptedProvider("b"), ScriptedProvider("local", is_local=True)
    fm = manager(cloud_a, cloud_b, local)
    _, trace, _ = await run(fm, cloud_a, cloud_b, local)
    assert [a.provider_id for a in trace.attempts] == ["a", "local"]
    assert fm._cooldowns.blocked("a") is not None  # retry-after is honoured


async def test_a_rate_limited_last_provider_is_retried_after_its_retry_after() -> None:
    cloud = ScriptedProvider("a", fail=F.RATE_LIMITED, fail_times=1, retry_after_s=0.2)
    started = time.perf_counter()
    text, trace, _ = await run(manager(cloud), cloud)
    assert time.perf_counter() - started >= 0.2
    assert text == "hello there " and len(trace.attempts) == 2


async def test_quota_exceeded_forces_local_and_skips_other_clouds() -> None:
    a = ScriptedProvider("a", fail=F.QUOTA_EXCEEDED)
    b, local = ScriptedProvider("b"), ScriptedProvider("local", is_local=True)
    _, trace, _ = await run(manager(a, b, local), a, b, local)
    assert [x.provider_id for x in trace.attempts] == ["a", "local"]
    with pytest.raises(ProviderError) as caught:  # no local to force: a's own error, a 429
        await run(manager(a, b), a, b)
    assert caught.value.kind == F.QUOTA_EXCEEDED and b.calls == 0
    local_down = ScriptedProvider("local", is_local=True, fail=F.UNAVAILABLE)
    with pytest.raises(AllProvidersFailed, match="a: scripted; local: scripted"):
        await run(manager(a, local_down), a, local_down)


async def test_a_bad_request_stops_at_once() -> None:
    a, b = ScriptedProvider("a", fail=F.BAD_REQUEST), ScriptedProvider("b")
    with pytest.raises(ProviderError) as caught:
        await run(manager(a, b), a, b)
    assert caught.value.kind == F.BAD_REQUEST and b.calls == 0


async def test_after_the_first_token_a_failure_ends_the_stream_without_fallback() -> None:
    breaking = ScriptedProvider(
        "local", is_local=True, words=("one", "two", "three"), break_after=2
    )
    cloud = ScriptedProvider("openai")
    seen = ""
    with pytest.raises(ProviderError) as caught:
        async for chunk in manager(breaking, cloud).stream(
            ASK, [(breaking, "m"), (cloud, "m")], Trace()
        ):
            seen += chunk.text
    assert caught.value.kind == F.STREAM_BROKEN
    assert "broke off after it started" in str(caught.value)
    assert seen == "one two " and cloud.calls == 0  # nothing re-sent, nothing duplicated
    assert breaking.closed == 1


async def test_server_errors_retry_only_when_asked() -> None:
    flaky = ScriptedProvider("a", fail=F.SERVER_ERROR, fail_times=1)
    with pytest.raises(ProviderError) as caught:
        await run(manager(flaky), flaky)
    assert caught.value.kind == F.SERVER_ERROR
    flaky.calls = 0
    text, trace, _ = await run(manager(flaky), flaky, options=FallbackOptions(retry_on_error=True))
    assert text == "hello there " and len(trace.attempts) == 2


async def test_cooldown_during_an_outage_of_100_requests() -> None:
    dead = ScriptedProvider("dead", fail=F.UNAVAILABLE)
    alive = ScriptedProvider("alive")
    config = FallbackConfig(allowed_fails=3, cooldown=timedelta(seconds=60))
    fm = manager(dead, alive, config=config)
    cooldowns = fm._cooldowns
    for _ in range(100):
        chain = [p for p in (dead, alive) if cooldowns.blocked(p.provider_id) is None]
        text, _, _ = await run(fm, *chain)
        assert text == "hello there "
    assert dead.calls <= config.allowed_fails + 1
    assert dead.calls == 3


async def test_failing_again_after_a_cooldown_doubles_it() -> None:
    clock = [0.0]
    cooldowns = Cooldowns(
        FallbackConfig(allowed_fails=2, cooldown=timedelta(seconds=10)), lambda: clock[0]
    )
    cooldowns.failure("x")
    assert cooldowns.blocked("x") is None
    cooldowns.failure("x")
    assert "10 s" in (cooldowns.blocked("x") or "")
    clock[0] = 11
    cooldowns.begin("x")  # the probe
    assert "probe" in (cooldowns.blocked("x") or "")
    cooldowns.failure("x")
    assert "20 s" in (cooldowns.blocked("x") or "")
    clock[0] = 32
    cooldowns.begin("x")
    cooldowns.success("x")
    assert cooldowns.blocked("x") is None


async def test_execute_with_fallback_and_the_chain_per_task() -> None:
    a = ScriptedProvider("a", fail=F.UNAVAILABLE)
    local = ScriptedProvider("local", is_local=True)
    fm = manager(a, local, config=FallbackConfig(chains={TaskType.CHAT: ("a", "local")}))
    result = await fm.execute_with_fallback(
        lambda provider, model: provider.generate(ASK), [(a, "m"), (local, "m")]
    )
    assert result.success and result.final_provider == "local" and result.attempts == 2
    assert result.value is not None and result.value.text == "hello there "
    assert [p.provider_id for p in await fm.get_fallback_chain(TaskType.CHAT)] == ["a", "local"]
    assert [p.provider_id for p in await fm.get_fallback_chain(TaskType.ANALYSIS)] == ["local", "a"]


async def test_concurrent_requests_during_an_outage_stay_within_the_limit() -> None:
    import asyncio

    dead = ScriptedProvider("dead", fail=F.UNAVAILABLE, first_delay_s=0.05)
    alive = ScriptedProvider("alive")
    config = FallbackConfig(allowed_fails=3, cooldown=timedelta(seconds=60))
    fm = manager(dead, alive, config=config)
    await run(fm, dead, alive)  # the outage starts: one failure seen
    results = await asyncio.gather(*(run(fm, dead, alive) for _ in range(20)))
    assert all(text == "hello there " for text, _, _ in results)
    assert dead.calls <= config.allowed_fails + 1


async def test_a_cancelled_probe_does_not_leave_the_provider_blocked() -> None:
    import asyncio

    clock = [0.0]
    cooldowns = Cooldowns(
        FallbackConfig(allowed_fails=1, cooldown=timedelta(seconds=10)), lambda: clock[0]
    )
    slow = ScriptedProvider("slow", first_delay_s=5)
    fm = FallbackManager(cooldowns, lambda: (slow,))
    cooldowns.failure("slow")
    clock[0] = 11  # cooldown over: the next request is the probe
    task = asyncio.ensure_future(run(fm, slow))
    await asyncio.sleep(0.05)
    assert "probe" in (cooldowns.blocked("slow") or "")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cooldowns.blocked("slow") is None
    assert slow.closed == 1


async def test_a_single_providers_rate_limit_keeps_its_kind() -> None:
    limited = ScriptedProvider("a", fail=F.RATE_LIMITED, retry_after_s=30)
    with pytest.raises(ProviderError) as caught:
        await run(manager(limited), limited)
    assert caught.value.kind == F.RATE_LIMITED and caught.value.retry_after_s == 30
