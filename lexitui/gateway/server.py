"""``Gateway``: the OpenAI-compatible endpoints on an HTTP server, with the key rule applied.

The rule: on loopback (127.0.0.0/8, ::1, ``localhost``) a key is optional, since only this
machine can connect; bound to anything else, the gateway refuses to start without one, because
it spends cloud budget and local compute on behalf of whoever reaches the port.
"""

from __future__ import annotations

import ipaddress

from lexitui.gateway.errors import GatewayConfigError
from lexitui.gateway.http import MAX_BODY, HttpServer
from lexitui.gateway.http_read import HEAD_TIMEOUT_S
from lexitui.gateway.routes import GatewayRouter, OpenAiRoutes
from lexitui.routing.settings import GatewaySettings


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def check_binding(settings: GatewaySettings, api_key: str | None) -> None:
    """Raise ``GatewayConfigError`` when ``settings.host`` is reachable from other machines and
    no key is set; the message names the variable to set, never a key."""
    if not api_key and not is_loopback(settings.host):
        raise GatewayConfigError(
            f"refusing to serve on {settings.host} without an API key: set "
            f"{settings.api_key_env}, or bind to 127.0.0.1"
        )
    if not 0 <= settings.port < 65536:
        raise GatewayConfigError(f"gateway port must be 0-65535, not {settings.port}")


class Gateway:
    """``start()`` binds (port 0 picks a free one) and returns the address it got."""

    def __init__(
        self,
        router: GatewayRouter,
        settings: GatewaySettings | None = None,
        api_key: str | None = None,
        *,
        max_body_bytes: int = MAX_BODY,
        head_timeout: float = HEAD_TIMEOUT_S,
    ) -> None:
        self.settings = settings or GatewaySettings()
        self._api_key = api_key or None
        routes = OpenAiRoutes(router, self._api_key)
        self._server = HttpServer(
            routes,
            max_body=max_body_bytes,
            admit=routes.admit,
            max_connections=self.settings.max_connections,
            head_timeout=head_timeout,
        )
        self.address: tuple[str, int] | None = None

    async def start(self) -> tuple[str, int]:
        check_binding(self.settings, self._api_key)
        self.address = await self._server.start(self.settings.host, self.settings.port)
        return self.address

    async def serve_forever(self) -> None:
        await self._server.serve_forever()

    async def stop(self) -> None:
        await self._server.stop()
        self.address = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, what an OpenAI client takes as ``base_url``."""
        if self.address is None:
            raise RuntimeError("the gateway is not started")
        host, port = self.address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"
