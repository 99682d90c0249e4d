"""Events that matter later are written to the store; passing ones are not."""

from __future__ import annotations

import json

from lexitui.events import ModelDownloadProgress, ModelInstalled, ModelLoaded
from lexitui.services import Services


async def test_persisted_events_reach_the_store_in_order(services: Services) -> None:
    services.bus.publish(ModelInstalled(model_id="m1", path="/models/m1.gguf", size_bytes=10))
    services.bus.publish(ModelDownloadProgress(download_id="d", bytes_done=1, bytes_total=2))
    services.bus.publish(ModelLoaded(model_id="m1", backend="embedded", load_seconds=0.5))
    await services.recorder.stop()  # drains the queue

    rows = await services.store.fetch_all("SELECT kind, details FROM events ORDER BY id")
    kinds = [r[0] for r in rows]
    assert kinds == ["ModelInstalled", "ModelLoaded"]
    assert json.loads(rows[0][1]) == {"model_id": "m1", "path": "/models/m1.gguf", "size_bytes": 10}
