"""Probing a host: its health, latency, load and models, from what its kind of server offers.

A lexitui host answers ``/lexitui/v1/status`` (with its gateway key); llama-server and vLLM
publish Prometheus ``/metrics`` (requests processing and waiting, KV-cache use) and list models
at ``/v1/models``; Ollama lists its loaded models at ``/api/ps``. A host that does not answer
within the timeout, refuses the key or answers garbage is down, with the reason in one line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import httpx

from lexitui.fleet.host_settings import LEXITUI, LLAMA_SERVER, OLLAMA, HostSpec
from lexitui.fleet.host_state import HostEngine, HostGpu, HostState, down
from lexitui.fleet.metrics_text import engine_load

PROBE_TIMEOUT_S = 2.0
STATUS_PATH = "/lexitui/v1/status"


async def probe_all(
    specs: Sequence[HostSpec], timeout_s: float = PROBE_TIMEOUT_S
) -> list[HostState]:
    """Every host probed at once, in the given order."""
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        return list(await asyncio.gather(*(probe(spec, client, timeout_s) for spec in specs)))


async def probe(spec: HostSpec, client: httpx.AsyncClient, timeout_s: float) -> HostState:
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout_s):
            state = await _probe(spec, client)
    except TimeoutError:
        return down(spec.name, spec.kind, spec.url, f"no answer within {timeout_s:g} s")
    except httpx.ConnectError:
        return down(spec.name, spec.kind, spec.url, "connection refused or host unreachable")
    except httpx.HTTPError as exc:
        return down(spec.name, spec.kind, spec.url, f"{type(exc).__name__}")
    except _Refused as exc:
        return down(spec.name, spec.kind, spec.url, str(exc))
    latency = (time.monotonic() - started) * 1000
    return HostState(**{**vars(state), "latency_ms": latency})


class _Refused(Exception):
    """The host answered, but not as a healthy one."""


async def _probe(spec: HostSpec, client: httpx.AsyncClient) -> HostState:
    headers = {"Authorization": f"Bearer {key}"} if (key := spec.key()) else {}
    if spec.kind == LEXITUI:
        return _from_status(spec, await _get_json(spec, client, STATUS_PATH, headers))
    if spec.kind == OLLAMA:
        data = await _get_json(spec, client, "/api/ps", headers)
        names = tuple(str(m.get("name")) for m in data.get("models") or () if isinstance(m, dict))
        return HostState(spec.name, spec.kind, spec.url, True, models=names, loaded=names)
    metrics = await _get(spec, client, "/metrics", headers)
    running, waiting, kv = engine_load(metrics.text, llama=spec.kind == LLAMA_SERVER)
    listed = await _get_json(spec, client, "/v1/models", headers)
    names = tuple(str(m.get("id")) for m in listed.get("data") or () if isinstance(m, dict))
    return HostState(
        spec.name, spec.kind, spec.url, True, running=running, waiting=waiting, kv_used=kv,
        models=names, loaded=names,
    )  # fmt: skip


async def _get(
    spec: HostSpec, client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> httpx.Response:
    response = await client.get(spec.url + path, headers=headers)
    if response.status_code == 401:
        where = f"set {spec.key_env}" if spec.key_env else "add it with --key-env VAR"
        raise _Refused(f"its key was refused or is missing ({where})")
    if response.status_code != 200:
        raise _Refused(f"{path} answered HTTP {response.status_code}")
    return response


async def _get_json(
    spec: HostSpec, client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> dict[str, Any]:
    response = await _get(spec, client, path, headers)
    try:
        data = response.json()
    except ValueError:
        raise _Refused(f"{path} did not answer JSON") from None
    if not isinstance(data, dict):
        raise _Refused(f"{path} did not answer a JSON object")
    return data


def _from_status(spec: HostSpec, data: dict[str, Any]) -> HostState:
    try:
        hardware = data["hardware"]
        models = data["models"]
        requests = data["requests"]
        gpus = tuple(
            HostGpu(
                str(g["name"]),
                g.get("utilization_percent"),
                _used(g.get("vram_total_bytes"), g.get("vram_free_bytes")),
                g.get("vram_total_bytes"),
                g.get("temperature_c"),
            )
            for g in hardware.get("gpus") or ()
        )
        engines = tuple(
            HostEngine(
                str(e["model"]),
                str(e.get("backend") or ""),
                str(e.get("status") or ""),
                e.get("gpu_layers"),
                e.get("cpu_layers"),
                int(e.get("active_requests") or 0),
                int(e.get("total_requests") or 0),
            )
            for e in data.get("engines") or ()
        )
        total = int(hardware["ram_total_bytes"])
        loaded = tuple(str(m) for m in models.get("loaded") or ())
        installed = tuple(str(m) for m in models.get("installed") or ())
        return HostState(
            spec.name,
            spec.kind,
            spec.url,
            True,
            running=int(requests["running"]),
            waiting=int(requests["waiting"]),
            kv_used=(data.get("kv_cache") or {}).get("used_ratio"),
            models=tuple(dict.fromkeys((*loaded, *installed))),
            loaded=loaded,
            gpus=gpus,
            engines=engines,
            cpu_percent=hardware.get("cpu_percent"),
            ram_used_bytes=total - int(hardware["ram_available_bytes"]),
            ram_total_bytes=total,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _Refused("its status answer is not lexitui's") from None


def _used(total: object, free: object) -> int | None:
    if isinstance(total, int) and isinstance(free, int):
        return total - free
    return None
