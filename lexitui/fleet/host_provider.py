"""``HostProvider``: one host as a provider to the router, speaking OpenAI's API to its ``/v1``
with its key.

What it answers to and whether it can take a request come from the fleet's last probe of the
host (``observe``): a host that is down says why, and one not heard from for ``stale_s`` is
unhealthy too. Its load for the router (``host_load``) is the probe's requests in line or the
requests this provider has open now, whichever is more, since a probe lags behind a burst.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace

from lexitui.domain.language_model import (
    LanguageModel,
    LanguageModelChunk,
    LanguageModelRequest,
    LanguageModelResponse,
)
from lexitui.fleet.host_settings import HostSpec
from lexitui.fleet.host_state import HostState
from lexitui.routing.cloud_openai import OpenAIProvider
from lexitui.routing.host_choice import HostLoad
from lexitui.routing.settings import ProviderSettings

STALE_S = 5.0  # no answer from a host for this long: it is not sent requests


class HostProvider(OpenAIProvider):
    def __init__(self, spec: HostSpec, *, stale_s: float = STALE_S) -> None:
        settings = ProviderSettings(
            id=spec.name, kind="openai_compatible", base_url=spec.url + "/v1"
        )
        super().__init__(settings, spec.key())
        self.kind_name = "Host"
        self.spec = spec
        self.state: HostState | None = None  # the last probe's finding
        self._last_ok: float | None = None
        self._stale_s = stale_s
        self._open = 0  # requests sent and not yet answered
        self._sent = 0

    def observe(self, state: HostState) -> None:
        was = self.state
        if not state.healthy and was is not None and not state.models:
            # Down, it still serves what it served: requests for those models learn why not.
            state = replace(state, models=was.models, loaded=was.loaded)
        self.state = state
        if state.healthy:
            self._last_ok = state.checked_at

    # -- what the router reads (no I/O) ------------------------------------------------------

    @property
    def default_model(self) -> str | None:
        state = self.state
        if state is None or not state.healthy:
            return None
        return next(iter(state.loaded or state.models), None)

    def known_models(self) -> tuple[str, ...]:
        return self.state.models if self.state is not None else ()

    def available_now(self) -> tuple[bool, str]:
        state = self.state
        if state is None:
            return False, f"host {self.spec.name} has not been probed yet"
        if not state.healthy:
            return False, f"host {self.spec.name} is down: {state.reason}"
        silent = time.monotonic() - (self._last_ok or 0.0)
        if silent > self._stale_s:
            return False, f"host {self.spec.name} is stale: no answer for {silent:.0f} s"
        if not state.models:
            return False, f"host {self.spec.name} serves no model"
        return True, "ready"

    def host_load(self) -> HostLoad:
        state = self.state
        probed = state.running + state.waiting if state is not None else 0
        return HostLoad(max(probed, self._open), state.kv_used if state else None, self._sent)

    def in_flight(self) -> int:
        return self._open

    async def get_models(self) -> list[LanguageModel]:
        loaded = set(self.state.loaded) if self.state else set()
        return [
            LanguageModel(m, m, self.provider_id, False, is_loaded=m in loaded)
            for m in self.known_models()
        ]

    # -- requests, counted while open ---------------------------------------------------------

    async def generate(self, request: LanguageModelRequest) -> LanguageModelResponse:
        self._open += 1
        self._sent += 1
        try:
            return await super().generate(request)
        finally:
            self._open -= 1

    async def stream(self, request: LanguageModelRequest) -> AsyncIterator[LanguageModelChunk]:
        self._open += 1
        self._sent += 1
        try:
            async for chunk in super().stream(request):
                yield chunk
        finally:
            self._open -= 1
