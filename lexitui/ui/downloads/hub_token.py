"""Whether a Hugging Face token is set, the way the downloader itself will find one.

The screens ask before they promise anything about a gated model: ``HF_TOKEN`` (read at the time
of asking, so one set later still counts), the config's ``[huggingface] token``, or a saved
``hf auth login``. The value itself is never handed to a screen.
"""

from __future__ import annotations

from typing import Any

from lexitui.discovery.hf_settings import resolve_token
from lexitui.services.downloads import hub_config_token


def hub_token_set(config: dict[str, Any]) -> bool:
    return resolve_token(hub_config_token(config)) is not None
