"""Where llama.cpp RPC workers listen, and the rule that keeps them off public networks.

llama.cpp's RPC protocol has no authentication and no encryption: whoever reaches a worker's port
can run computations on it and read what it holds. So a worker binds, and a head connects, only
to loopback or private addresses (RFC 1918, IPv6 unique-local, link-local); a public address (or
0.0.0.0, which listens on every interface, public ones included) is refused with one line. A host
name counts by every address it resolves to.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

DEFAULT_PORT = 50052  # ggml-rpc-server's own default


class RpcAddressError(ValueError):
    """An endpoint that cannot be used: malformed, unresolvable or public."""


@dataclass(frozen=True)
class RpcEndpoint:
    host: str
    port: int

    def __str__(self) -> str:
        # llama.cpp splits an endpoint at its last colon; an IPv6 host goes in brackets.
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_endpoint(text: str) -> RpcEndpoint:
    """``HOST:PORT`` (``[V6]:PORT`` for IPv6) into an endpoint; the address is not checked."""
    host, sep, port_text = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise RpcAddressError(f"{text.strip()!r} is not HOST:PORT (e.g. 192.168.1.10:50052)")
    return RpcEndpoint(host, int(port_text))


def parse_endpoints(text: str) -> tuple[RpcEndpoint, ...]:
    """A comma-separated list of workers, each checked to be on a private network."""
    endpoints = tuple(parse_endpoint(part) for part in text.split(",") if part.strip())
    if not endpoints:
        raise RpcAddressError("no RPC worker named: give HOST:PORT[,HOST:PORT...]")
    if len(set(endpoints)) != len(endpoints):
        raise RpcAddressError(f"a worker is named twice in {text!r}")
    for endpoint in endpoints:
        check_private(endpoint.host)
    return endpoints


def check_private(host: str) -> None:
    """Raise ``RpcAddressError`` unless every address of ``host`` is loopback or private."""
    try:
        found = {
            str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        }
    except (OSError, UnicodeError) as exc:
        raise RpcAddressError(f"cannot resolve the RPC host {host!r}: {exc}") from None
    for address in sorted(found):
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_unspecified:
            raise RpcAddressError(
                f"{host} listens on every interface, public ones included: llama.cpp's RPC has "
                "no authentication, so bind a worker to loopback or one private address"
            )
        if not (ip.is_loopback or ip.is_private or ip.is_link_local):
            raise RpcAddressError(
                f"{host} ({ip}) is a public address: llama.cpp's RPC has no authentication or "
                "encryption, so workers run on loopback or a private network only"
            )
