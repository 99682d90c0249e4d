"""``Fleet``: the configured hosts as providers, probed every ``interval_s`` in the background
so the router's view of each host's health and load stays fresh without any I/O of its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import httpx

from lexitui.fleet.host_provider import STALE_S, HostProvider
from lexitui.fleet.host_settings import HostSpec
from lexitui.fleet.host_state import HostState
from lexitui.fleet.probe import PROBE_TIMEOUT_S, probe

log = logging.getLogger(__name__)
INTERVAL_S = 1.0


class Fleet:
    def __init__(
        self,
        specs: Sequence[HostSpec],
        *,
        interval_s: float = INTERVAL_S,
        timeout_s: float = PROBE_TIMEOUT_S,
        stale_s: float = STALE_S,
    ) -> None:
        self.providers = [HostProvider(spec, stale_s=stale_s) for spec in specs]
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Probe every host once (so the first request sees them), then keep probing."""
        if self._task is not None or not self.providers:
            return
        self._client = httpx.AsyncClient(timeout=self._timeout_s)
        await self.refresh()
        self._task = asyncio.create_task(self._run(), name="fleet-probes")

    async def refresh(self) -> list[HostState]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s)
        client = self._client
        states = await asyncio.gather(
            *(probe(p.spec, client, self._timeout_s) for p in self.providers)
        )
        for provider, state in zip(self.providers, states, strict=True):
            was = provider.state
            if was is not None and was.healthy != state.healthy:
                health = "up" if state.healthy else f"down: {state.reason}"
                log.warning("host %s is %s", provider.spec.name, health)
            provider.observe(state)
        return list(states)

    def states(self) -> list[HostState]:
        return [p.state for p in self.providers if p.state is not None]

    async def _run(self) -> None:
        try:
            while True:
                await asyncio.sleep(self._interval_s)
                try:
                    await self.refresh()
                except Exception:  # a probe bug must not end the probing
                    log.exception("probing the hosts failed")
        finally:
            client, self._client = self._client, None
            if client is not None:
                await client.aclose()

    def stop(self) -> None:
        """Stop probing (the probe task closes its client as it ends); the providers are
        closed by their owner, the routing service."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
