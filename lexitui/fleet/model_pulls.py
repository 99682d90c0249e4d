"""Pulling a model onto a lexitui host from another lexitui.

The host's gateway answers ``POST /lexitui/v1/models/pull`` (``{"model": "REPO:QUANT"}``, the
spec ``lexitui pull`` takes) behind its key with ``ModelPulls``: the spec is resolved as
``lexitui pull`` resolves it and the download is queued with the host's own download manager, so
the answer (202, the download's id and status) comes at once and the download goes on there.
``GET /lexitui/v1/downloads`` lists the host's downloads so that the asking side can follow them.
The edition's checks in the download manager apply: a refusal is the gateway's 403.
"""

from __future__ import annotations

from typing import Any, Protocol

from lexitui.discovery.errors import ModelNotFoundError, RegistryError
from lexitui.discovery.huggingface import HuggingFaceRegistry
from lexitui.domain.downloads import ModelDownload
from lexitui.downloads.errors import DownloadError
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.target import parse_target, resolve_hub_target, url_target
from lexitui.fleet.host_settings import HostSpec
from lexitui.fleet.model_orders import OrderRefused, call_host
from lexitui.store.download_queue import DownloadRequestError

PULL_PATH = "/lexitui/v1/models/pull"
DOWNLOADS_PATH = "/lexitui/v1/downloads"
PULL_TIMEOUT_S = 60.0  # the host asks the Hub about the repo before it answers
HISTORY = 20  # finished downloads listed beside the running ones


def download_row(download: ModelDownload) -> dict[str, Any]:
    return {
        "id": download.id,
        "model": f"{download.model.id}:{download.variant.variant_id}",
        "status": download.status.value,
        "progress": round(download.progress_percent, 1),
        "downloaded_bytes": download.downloaded_bytes,
        "total_bytes": download.total_bytes,
        "error": download.error,
    }


class PullSource(Protocol):
    """What the gateway needs for pull orders (``ModelPulls`` provides it)."""

    async def pull(self, spec: str) -> dict[str, Any]: ...

    async def downloads(self) -> list[dict[str, Any]]: ...


class ModelPulls:
    """What the host's gateway does for a pull order and a downloads listing."""

    def __init__(self, manager: DownloadManager, hub: HuggingFaceRegistry) -> None:
        self._manager = manager
        self._hub = hub

    async def pull(self, spec: str) -> dict[str, Any]:
        try:
            target = parse_target(spec)
        except DownloadError as exc:
            raise OrderRefused(400, str(exc)) from None
        try:
            if target.url is not None:
                model, variant = url_target(target.url)
            else:
                model, variant = await resolve_hub_target(target, self._hub)
        except ModelNotFoundError as exc:
            raise OrderRefused(404, str(exc)) from None
        except RegistryError as exc:
            raise OrderRefused(502, f"the Hub did not answer: {exc}") from None
        except DownloadError as exc:  # no such repo, or no such quant in it
            raise OrderRefused(404, str(exc)) from None
        try:
            download = await self._manager.start_download(
                model, variant, require_size=variant.size_bytes > 0
            )
        except (DownloadRequestError, DownloadError) as exc:
            raise OrderRefused(409, str(exc)) from None
        return download_row(download)

    async def downloads(self) -> list[dict[str, Any]]:
        running = await self._manager.get_downloads()
        finished = await self._manager.get_history(HISTORY)
        return [download_row(d) for d in running + finished]


async def send_pull(spec: HostSpec, model: str) -> dict[str, Any]:
    """Ask the lexitui host ``spec`` to pull ``model`` (REPO:QUANT); the queued download."""
    _status, body = await call_host(spec, "POST", PULL_PATH, PULL_TIMEOUT_S, json={"model": model})
    return body if isinstance(body, dict) else {}


async def host_downloads(spec: HostSpec) -> list[dict[str, Any]]:
    """The lexitui host's downloads, running ones first."""
    _status, body = await call_host(spec, "GET", DOWNLOADS_PATH, PULL_TIMEOUT_S)
    rows = body.get("downloads") if isinstance(body, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
