"""The router's choice among hosts serving one model: the least loaded (requests in line, then
KV cache in use, then fewest sent), the others behind it as fallbacks; a down or stale host is
left out with its reason."""

from __future__ import annotations

import time
from typing import cast

from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.domain.routing import FallbackConfig, RoutingConfig
from lexitui.fleet.host_provider import HostProvider
from lexitui.fleet.host_settings import HostSpec
from lexitui.fleet.host_state import HostState
from lexitui.routing.cooldowns import Cooldowns
from lexitui.routing.host_choice import HostLoad, least_loaded_first, spread_over
from lexitui.routing.provider import LanguageModelProvider
from lexitui.routing.router import LlmRouter

MODEL = "smollm2"


def test_fewest_in_line_first_then_kv_use_then_fewest_sent() -> None:
    loads = {
        "busy": HostLoad(3, 0.1, 0),
        "full-cache": HostLoad(1, 0.9, 0),
        "light": HostLoad(1, 0.2, 5),
        "light-fresh": HostLoad(1, 0.2, 2),
        "idle": HostLoad(0, None, 9),
    }
    names = list(loads)
    ordered = least_loaded_first(names, [loads[n] for n in names])
    assert ordered == ["idle", "light-fresh", "light", "full-cache", "busy"]


def host(name: str, *, running: int = 0, waiting: int = 0, healthy: bool = True) -> HostProvider:
    provider = HostProvider(HostSpec(name, f"http://127.0.0.1:1/{name}"))
    provider.observe(
        HostState(
            name, "lexitui", provider.spec.url, healthy, "ready" if healthy else "refused",
            running=running, waiting=waiting, models=(MODEL,), loaded=(MODEL,),
        )
    )  # fmt: skip
    return provider


def plan(providers: list[HostProvider], model: str | None = MODEL) -> list[str]:
    router = LlmRouter(lambda: providers, RoutingConfig(), Cooldowns(FallbackConfig()))
    request = LanguageModelRequest(messages=(Message("user", "hi"),), model=model)
    return [p.provider_id for p, _model in router.plan(request).chain]


def test_a_model_several_hosts_serve_goes_to_the_least_loaded_with_the_rest_behind() -> None:
    hosts = [host("a", running=2), host("b", waiting=1), host("c", running=4)]
    assert plan(hosts) == ["b", "a", "c"]
    assert plan(hosts, model=None) == ["b", "a", "c"]


def test_a_down_or_stale_host_is_left_out() -> None:
    stale = host("stale")
    ago = time.monotonic() - 60
    stale.observe(HostState("stale", "lexitui", "u", True, checked_at=ago, models=(MODEL,)))
    down = host("down")
    down.observe(HostState("down", "lexitui", "u", False, "connection refused"))
    hosts = [down, stale, host("up", running=3)]
    router = LlmRouter(lambda: hosts, RoutingConfig(), Cooldowns(FallbackConfig()))
    request = LanguageModelRequest(messages=(Message("user", "hi"),), model=MODEL)
    result = router.plan(request)
    assert [p.provider_id for p, _m in result.chain] == ["up"]
    assert result.skipped["down"] == "host down is down: connection refused"
    assert result.skipped["stale"].startswith("host stale is stale: no answer for")


class ThisMachine:
    """The front's own local provider, as far as the choice reads it."""

    provider_id = "local"
    is_local = True

    def __init__(self, loaded: bool) -> None:
        self.loaded = loaded

    def has_loaded(self, name: str) -> bool:
        return self.loaded

    def known_models(self) -> tuple[str, ...]:
        return (MODEL,)


def test_hosts_go_first_unless_this_machine_has_the_model_loaded() -> None:
    hosts = [host("a"), host("b")]
    idle = cast(LanguageModelProvider, ThisMachine(loaded=False))
    assert spread_over([idle, *hosts], "local", MODEL) == {"a", "b"}
    busy = cast(LanguageModelProvider, ThisMachine(loaded=True))
    assert spread_over([busy, *hosts], "local", MODEL) == set()
    assert spread_over([*hosts], "a", "another-model") == set()
