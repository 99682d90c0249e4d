"""``lexitui serve``: run the OpenAI- and Ollama-compatible gateway until Ctrl+C or SIGTERM.

``[gateway]`` in config.toml gives the defaults (host, port, the key's environment variable,
Ollama's port); ``--host``/``--port``/``--ollama-port`` override them. The Ollama API is served
on the main port and, unless it is off, on Ollama's port too: when a real Ollama holds that
port, one line says so and lexitui serves on its main port alone. The key rule is checked
before anything starts, so a missing key off loopback costs no model load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import replace

from lexitui.commands.runtime import load_options
from lexitui.commands.runtime_options import add_load_options
from lexitui.discovery.huggingface import HuggingFaceRegistry
from lexitui.fleet.model_orders import ModelOrders
from lexitui.fleet.model_pulls import ModelPulls
from lexitui.fleet.status_snapshot import StatusSnapshot
from lexitui.gateway.ollama_catalog import OllamaCatalog
from lexitui.gateway.server import Gateway, check_binding
from lexitui.routing.gateway_settings import GatewaySettings, ollama_port
from lexitui.routing.settings import RoutingSettings
from lexitui.runtime.engine_reload import EngineReloader
from lexitui.services import Services
from lexitui.services.downloads import hub_config_token
from lexitui.store.search_cache import RegistryCache


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve",
        help="serve OpenAI- and Ollama-compatible APIs (/v1, /api) in front of local and cloud "
        "models",
    )
    serve.add_argument("--host", help="address to listen on (default: [gateway] host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: [gateway] port, 8788; 0: any)")
    serve.add_argument(
        "--ollama-port",
        help="also serve the Ollama API on this port (default: [gateway] ollama_port, 11434; "
        "0: any; off: none)",
    )
    serve.add_argument("--model", help="installed model id to load before serving")
    add_load_options(serve)
    serve.set_defaults(func=cmd_serve)


def gateway_settings(services: Services, args: argparse.Namespace) -> GatewaySettings:
    settings = RoutingSettings.from_config(services.config).gateway
    if args.host is not None:
        settings = replace(settings, host=args.host)
    if args.port is not None:
        settings = replace(settings, port=args.port)
    if args.ollama_port is not None:
        settings = replace(settings, ollama_port=ollama_port(args.ollama_port, "--ollama-port"))
    return settings


async def cmd_serve(args: argparse.Namespace) -> int:
    services = Services.build()
    settings = gateway_settings(services, args)
    api_key = os.environ.get(settings.api_key_env) or None
    check_binding(settings, api_key, services.entitlements)  # before anything starts
    await services.start()
    # Nobody watches a server: a model whose engine dies is loaded again (see EngineReloader).
    reloader = EngineReloader(services.runtime)
    # Another lexitui may pull a model onto this machine: its downloads run here, and one a
    # previous run left unfinished goes on (services.stop() closes the manager).
    downloads = services.download_manager
    try:
        await downloads.start()
        # Memory running low while serving is logged (see ResourceSampling).
        services.watch_resources()
        if args.model:
            await services.runtime.load(args.model, load_options(args), backend=args.backend)
        # An Ollama client's load (a generate with no prompt) is a load on demand like any
        # other: shared with the requests waiting for it, and let go after its keep-alive.
        catalog = OllamaCatalog(
            services.runtime,
            services.registry,
            lambda model_id, keep_alive: services.routing.local.preload(model_id, keep_alive),
        )
        gateway = Gateway(
            services.routing,
            settings,
            api_key,
            catalog=catalog,
            entitlements=services.entitlements,
            status=StatusSnapshot(services.runtime, services.monitor, services.registry.list),
            orders=ModelOrders(services.runtime),
            pulls=ModelPulls(downloads, _hub(services)),
        )
        try:
            await gateway.start()
        except OSError as exc:  # port in use, address not on this machine
            where = f"{settings.host}:{settings.port}"
            print(f"lexitui: cannot listen on {where}: {exc}", file=sys.stderr)
            return 1
        try:
            with _stop_signals() as stopped:
                # Printed once the signals are ours: a supervisor that reads this line may
                # send SIGTERM at once, and it must stop us cleanly, not kill us.
                print(f"lexitui gateway on {gateway.base_url}", flush=True)
                await _listen_for_ollama_tools(gateway, settings)
                await stopped.wait()
        finally:
            await gateway.stop()
    finally:
        await reloader.close()
        await services.stop()
    return 0


def _hub(services: Services) -> HuggingFaceRegistry:
    return HuggingFaceRegistry(
        RegistryCache(services.store), token=hub_config_token(services.config)
    )


async def _listen_for_ollama_tools(gateway: Gateway, settings: GatewaySettings) -> None:
    """Serve on Ollama's port too; a port already taken (a real Ollama, most likely) is one
    line, and the main port serves on."""
    if settings.ollama_port is None:
        return
    try:
        host, port = await gateway.listen_also(settings.ollama_port)
    except OSError as exc:
        print(
            f"lexitui: Ollama API only on the main port: port {settings.ollama_port} is taken "
            f"({exc.strerror or exc})",
            flush=True,
        )
        return
    shown = f"[{host}]" if ":" in host else host
    print(f"lexitui Ollama API also on http://{shown}:{port}", flush=True)


@contextlib.contextmanager
def _stop_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM; both end the gateway the same clean way (services
    stop, engines shut down) instead of SIGTERM killing the process mid-write."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, non-main thread
            loop.add_signal_handler(sig, stopped.set)
            installed.append(sig)
    try:
        yield stopped
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
