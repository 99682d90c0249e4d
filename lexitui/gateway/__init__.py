"""``lexitui serve``: an OpenAI-compatible HTTP gateway in front of the router.

Any OpenAI client (the official SDKs, LangChain, curl) can then use local models and the
configured cloud providers through one endpoint, with routing, fallback and cost tracking.
"""

from lexitui.gateway.errors import ApiError, GatewayConfigError
from lexitui.gateway.routes import GatewayRouter
from lexitui.gateway.server import Gateway, check_binding, is_loopback

__all__ = [
    "ApiError",
    "Gateway",
    "GatewayConfigError",
    "GatewayRouter",
    "check_binding",
    "is_loopback",
]
