"""Where Ollama listens, from ``OLLAMA_HOST``, read the way the Ollama CLI reads it.

Accepted forms: unset (``http://127.0.0.1:11434``), ``host``, ``host:port``, ``:port``,
``[::1]:port``, ``http://host``, ``https://host:port/prefix``. Without a scheme the default port
is 11434; with ``http://`` or ``https://`` it is 80 or 443. An invalid port falls back to the
default. ``0.0.0.0`` and ``::`` are *listen* addresses (all interfaces): a client connects to
loopback instead, which is what the server is reachable on.
"""

from __future__ import annotations

import ipaddress

from lexitui.backends.errors import InvalidBackendConfig

OLLAMA_PORT = 11434
OLLAMA_DEFAULT_URL = f"http://127.0.0.1:{OLLAMA_PORT}"
_LISTEN_ALL = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def _split(hostport: str, default_port: int) -> tuple[str, str]:
    if hostport.startswith("["):  # [v6] or [v6]:port
        host, _, rest = hostport[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else str(default_port)
    if hostport.count(":") == 1:
        host, _, port = hostport.partition(":")
        return host, port
    return hostport, str(default_port)  # a bare name, IPv4 or unbracketed IPv6


def ollama_base_url(value: str | None) -> str:
    text = (value or "").strip()
    scheme, sep, rest = text.partition("://")
    default_port = OLLAMA_PORT
    if not sep:
        scheme, rest = "http", text
    elif scheme in ("http", "https"):
        default_port = 80 if scheme == "http" else 443
    else:
        raise InvalidBackendConfig(f"OLLAMA_HOST: unsupported scheme {scheme!r} (use http/https)")
    hostport, slash, path = rest.partition("/")
    host, port_text = _split(hostport, default_port)
    host = _LISTEN_ALL.get(host, host) or "127.0.0.1"
    port = int(port_text) if port_text.isdigit() and 0 < int(port_text) <= 65535 else default_port
    try:
        shown = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        shown = host
    suffix = f"/{path.rstrip('/')}" if slash and path.strip("/") else ""
    return f"{scheme}://{shown}:{port}{suffix}"
