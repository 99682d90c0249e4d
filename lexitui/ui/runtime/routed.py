"""Where the Runtime chat sends its requests: through the router, like every other front end.

While a model is loaded, the chat asks that model (the request names it, which pins it to the
local provider: the chat stays a chat with the model the user picked). With none loaded (never,
or its engine died), the router decides: a configured cloud provider answers, and the chat says
which one, why (the decision's reason: the local model was unavailable, and why) and what it
cost. Either way the request is recorded with source ``tui``, so ``lexitui usage`` and the
Routing screen count it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lexitui.routing.money import usd
from lexitui.ui.runtime.format import shown

if TYPE_CHECKING:
    from lexitui.domain.routing import RoutedRequestRecord
    from lexitui.routing.service import RoutingService

SOURCE = "tui"  # how the chat's requests are recorded
ROUTED = "router"  # the speaker while the router picks (no model loaded), until one answers


def can_answer(service: RoutingService) -> bool:
    """Whether the chat sends with no model loaded: when a cloud provider could take it now.
    Without one, the chat asks the user to load a model rather than load one by itself."""
    return any(provider.available_now()[0] for provider in service.cloud)


def chat_placeholder(model: str | None, routed: bool) -> str:
    """What the empty input says: the model it talks to, or how to get an answer without one."""
    if model is not None:
        return f"Message {model} (Enter sends, Esc leaves the input)"
    if routed:
        return "No model loaded: Enter asks the router (it picks who answers), L loads one"
    return "Load a model (L), then type here and press Enter"


def answered_by(record: RoutedRequestRecord) -> str:
    """The answer's label: the model, and the provider when it was not the local one."""
    if record.is_local:
        return record.model_id or ROUTED
    return f"{record.provider_id} · {record.model_id}"


def route_note(record: RoutedRequestRecord) -> str | None:
    """Below an answer the local model did not give (or gave after a fallback): who answered,
    why, and what it cost; None for a plain local answer."""
    if record.is_local and not record.was_fallback:
        return None
    cost = "local" if record.is_local else f"cost {usd(record.cost_usd)}"
    who = f"{shown(record.provider_id, 40)} ({shown(record.model_id or '-', 60)})"
    return f"Answered by {who}: {shown(record.reason, 400)} · {cost}"
