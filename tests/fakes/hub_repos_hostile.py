"""Fake Hub repos whose every text field carries markup and terminal control sequences.

One has a hostile id (a listing shows it before any id check can refuse it); the other has a
well-formed id and a hostile card, license, architecture, tags and file names (those with C0
controls are refused as unsafe; the rest carry markup, C1 controls and bidi overrides), so its
details and variants reach the screen.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes.hub_records import HubRepo, listed_file
from tests.fakes.hub_repos import common_files

CARD_REPO = "evil-org/Hostile-Card-GGUF"


def hostile_id_repo(hostile: Callable[[str], str]) -> HubRepo:
    rid = f"evil-org/{hostile('HUBID')}"
    return HubRepo(
        rid,
        "2024-11-01T06:41:22.000Z",
        "2024-11-01T06:49:56.000Z",
        downloads=9_000_000,  # first in every sort
        likes=9_000,
        trending_score=9_000,
        tags=["gguf", "text-generation"],
        pipeline_tag="text-generation",
        library_name=None,
        card_data={},
        files=[listed_file(rid, "model.Q4_K_M.gguf", 100_000_000)],
        gguf={"total": 135_000_000, "architecture": "llama", "context_length": 2048},
    )


def hostile_card_repo(hostile: Callable[[str], str], hostile_name: Callable[[str], str]) -> HubRepo:
    card = {
        "license": hostile("LICENSE"),
        "description": hostile("DESCRIPTION"),
        "pipeline_tag": "text-generation",
    }
    files = common_files(card, "hostile")
    files += [
        listed_file(CARD_REPO, f"{hostile_name('FILE')}.Q4_K_M.gguf", 100_000_000),
        listed_file(CARD_REPO, f"model-{hostile_name('QUANT')}.gguf", 110_000_000),
        listed_file(CARD_REPO, f"{hostile('REFUSED')}.Q8_0.gguf", 120_000_000),  # never offered
    ]
    return HubRepo(
        CARD_REPO,
        "2024-11-01T06:41:22.000Z",
        "2024-11-01T06:49:56.000Z",
        downloads=8_000_000,
        likes=8_000,
        trending_score=8_000,
        tags=["gguf", "text-generation", hostile("TAG"), f"license:{hostile('LICENSE')}"],
        pipeline_tag="text-generation",
        library_name=None,
        card_data=card,
        files=files,
        gguf={"total": 135_000_000, "architecture": hostile("ARCH"), "context_length": 2048},
    )
