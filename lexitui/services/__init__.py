"""The composition root: ``Services`` builds every area's service and runs their lifecycle; the
modules beside it assemble the areas that are built on first use (routing, storage, downloads,
discovery). Only the app, the commands and the gateway import this package."""

from lexitui.services.container import Services

__all__ = ["Services"]
