"""``Gateway``: the OpenAI-compatible endpoints (``/v1``) and the Ollama-compatible ones
(``/api``, ``/``) on one HTTP server, with the key rule applied; ``listen_also`` serves the same
routes on a second port (Ollama's 11434, where Ollama tools look by default).

The rule: on loopback (127.0.0.0/8, ::1, ``localhost``) a key is optional, since only this
machine can connect; bound to anything else, the gateway refuses to start without one, because
it spends cloud budget and local compute on behalf of whoever reaches the port.
"""

from __future__ import annotations

import ipaddress

from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.fleet.model_orders import OrderSource
from lexitui.fleet.model_pulls import PullSource
from lexitui.gateway.errors import ApiError, GatewayConfigError
from lexitui.gateway.http import MAX_BODY, HttpRequest, HttpServer
from lexitui.gateway.http_read import HEAD_TIMEOUT_S
from lexitui.gateway.ollama_catalog import OllamaCatalog
from lexitui.gateway.ollama_routes import OPEN_PATHS, Answer, OllamaError, OllamaRoutes
from lexitui.gateway.routes import GatewayRouter, OpenAiRoutes, StatusSource
from lexitui.routing.gateway_settings import GatewaySettings


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def check_binding(
    settings: GatewaySettings, api_key: str | None, entitlements: Entitlements = OPEN
) -> None:
    """Raise ``NotEntitled`` when this user's edition has no local gateway (Core), and
    ``GatewayConfigError`` when ``settings.host`` is reachable from other machines and no key
    is set; the message names the variable to set, never a key."""
    entitlements.require(Action.SERVE)
    if not api_key and not is_loopback(settings.host):
        raise GatewayConfigError(
            f"refusing to serve on {settings.host} without an API key: set "
            f"{settings.api_key_env}, or bind to 127.0.0.1"
        )
    if not 0 <= settings.port < 65536:
        raise GatewayConfigError(f"gateway port must be 0-65535, not {settings.port}")


class FrontDoor:
    """Sends ``/api/*`` and ``/`` to the Ollama routes, the rest to the OpenAI ones. When a
    key is set it guards both APIs alike, except what Ollama clients probe before anything
    else (``/`` and ``/api/version``, which tell a stranger nothing); an Ollama client sends
    it as ``Authorization: Bearer KEY`` (the ``ollama`` library's ``headers``)."""

    def __init__(self, openai: OpenAiRoutes, ollama: OllamaRoutes) -> None:
        self._openai = openai
        self._ollama = ollama

    async def __call__(self, request: HttpRequest) -> Answer:
        if OllamaRoutes.serves(request.path):
            return await self._ollama(request)
        return await self._openai(request)

    def admit(self, path: str, headers: dict[str, str]) -> ApiError | None:
        if not OllamaRoutes.serves(path):
            return self._openai.admit(path, headers)
        if (path.rstrip("/") or "/") in OPEN_PATHS:
            return None
        refused = self._openai.admit(path, headers)
        if refused is None:
            return None
        return OllamaError(refused.status, "unauthorized", headers=refused.headers)


class Gateway:
    """``start()`` binds (port 0 picks a free one) and returns the address it got."""

    def __init__(
        self,
        router: GatewayRouter,
        settings: GatewaySettings | None = None,
        api_key: str | None = None,
        *,
        catalog: OllamaCatalog | None = None,
        max_body_bytes: int = MAX_BODY,
        head_timeout: float = HEAD_TIMEOUT_S,
        entitlements: Entitlements = OPEN,
        status: StatusSource | None = None,
        orders: OrderSource | None = None,
        pulls: PullSource | None = None,
    ) -> None:
        self.settings = settings or GatewaySettings()
        self._entitlements = entitlements
        self._api_key = api_key or None
        openai = OpenAiRoutes(router, self._api_key, status, orders, pulls)
        routes = FrontDoor(openai, OllamaRoutes(router, catalog))
        self._servers = [
            HttpServer(
                routes,
                max_body=max_body_bytes,
                admit=routes.admit,
                max_connections=self.settings.max_connections,
                head_timeout=head_timeout,
            )
            for _ in range(2)  # the main port, and Ollama's when asked to listen there too
        ]
        self._server = self._servers[0]
        self.address: tuple[str, int] | None = None
        self.ollama_address: tuple[str, int] | None = None

    async def start(self) -> tuple[str, int]:
        check_binding(self.settings, self._api_key, self._entitlements)
        self.address = await self._server.start(self.settings.host, self.settings.port)
        return self.address

    async def serve_forever(self) -> None:
        await self._server.serve_forever()

    async def listen_also(self, port: int) -> tuple[str, int]:
        """Serve the same routes on ``port`` too (same host); raises ``OSError`` when it is
        taken, for the caller to say so and carry on with the main port."""
        self.ollama_address = await self._servers[1].start(self.settings.host, port)
        return self.ollama_address

    async def stop(self) -> None:
        for server in reversed(self._servers):  # each restores the loop handler it replaced
            await server.stop()
        self.address = None
        self.ollama_address = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, what an OpenAI client takes as ``base_url``."""
        if self.address is None:
            raise RuntimeError("the gateway is not started")
        host, port = self.address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"
