"""Loading and unloading a model on a lexitui host from another lexitui.

The host's gateway answers ``POST /lexitui/v1/models/load`` and ``/unload`` (``{"model": ID}``)
behind its key with ``ModelOrders``, which uses the runtime as the host's own screens do. The
asking side sends them with ``send_order``. Pulling a model onto a host is an order of its own
(``fleet.model_pulls``): the host queues the download and answers at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from lexitui.engine.errors import EngineError
from lexitui.fleet.host_settings import HostSpec
from lexitui.runtime.errors import RuntimeErrorBase
from lexitui.runtime.manager import InferenceManager
from lexitui.store.installed_models import ModelNotFound

ORDERS_PATH = "/lexitui/v1/models/"
ORDERS = ("load", "unload")
ORDER_TIMEOUT_S = 600.0  # a large model takes minutes to load
OrderSource = Callable[[str, str], Awaitable[dict[str, Any]]]  # (order, model id) -> answer


class OrderRefused(Exception):
    """The host could not do the order: ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ModelOrders:
    def __init__(self, runtime: InferenceManager) -> None:
        self._runtime = runtime

    async def __call__(self, order: str, model_id: str) -> dict[str, Any]:
        runtime = self._runtime
        if order == "load":
            try:
                await runtime.load(model_id)
            except ModelNotFound:
                raise OrderRefused(404, f"{model_id} is not installed on this host") from None
            except (RuntimeErrorBase, EngineError) as exc:
                raise OrderRefused(409, f"{model_id} did not load: {exc}") from None
        else:
            engines = [e for e in runtime.loaded_models() if e.model.id == model_id]
            if not engines:
                raise OrderRefused(404, f"{model_id} is not loaded on this host")
            for engine in engines:
                await runtime.unload(engine.id, reason="unloaded by another lexitui")
        return {"model": model_id, "loaded": [e.model.id for e in runtime.loaded_models()]}


class OrderFailed(Exception):
    """The order did not reach the host, or the host refused it (the message says which)."""


async def call_host(
    spec: HostSpec, method: str, path: str, timeout_s: float, **kwargs: Any
) -> tuple[int, Any]:
    """One authenticated request to the lexitui host ``spec``: its status and JSON body, or
    ``OrderFailed`` with the host's own error message (or why it did not answer)."""
    headers = {"Authorization": f"Bearer {key}"} if (key := spec.key()) else {}
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            answer = await client.request(method, spec.url + path, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        raise OrderFailed(f"{spec.name} did not answer: {type(exc).__name__}") from None
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code not in (200, 202):
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        raise OrderFailed(f"{spec.name}: {message or f'HTTP {answer.status_code}'}")
    return answer.status_code, body


async def send_order(
    spec: HostSpec, order: str, model_id: str, timeout_s: float = ORDER_TIMEOUT_S
) -> list[str]:
    """Ask the lexitui host ``spec`` to load or unload ``model_id``; its loaded models after."""
    _status, body = await call_host(
        spec, "POST", ORDERS_PATH + order, timeout_s, json={"model": model_id}
    )
    loaded = body.get("loaded") if isinstance(body, dict) else None
    return [str(m) for m in loaded] if isinstance(loaded, list) else []
