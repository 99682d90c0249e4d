"""``lexitui host add NAME URL [--key-env VAR] [--kind K]``, ``lexitui host remove NAME`` and
``lexitui hosts [--json]``: the machines this lexitui sends requests to, and how each is now.

The config file holds a host's URL and the *name* of the variable with its key, never the key.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lexitui.config import ConfigError, Paths, load_config, save_config_section
from lexitui.fleet.host_settings import (
    KINDS,
    LEXITUI,
    check_host_name,
    host_spec,
    host_specs,
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    host = sub.add_parser("host", help="add or remove a host (another lexitui serve or engine)")
    actions = host.add_subparsers(dest="host_action", required=True)
    add = actions.add_parser("add", help="add a host: requests may go to it")
    add.add_argument("name", help="a short name for it (letters, digits, '.', '_', '-')")
    add.add_argument("url", help="its server's root, such as http://gpu1:8788")
    add.add_argument("--key-env", help="environment variable holding its gateway key")
    add.add_argument("--kind", choices=KINDS, default=LEXITUI, help="what serves there")
    add.set_defaults(func=run_add)
    remove = actions.add_parser("remove", help="remove a host")
    remove.add_argument("name")
    remove.set_defaults(func=run_remove)
    hosts = sub.add_parser("hosts", help="list the hosts with health, load and GPUs")
    hosts.add_argument("--json", action="store_true", help="machine-readable output")
    hosts.set_defaults(func=run_hosts)


def _fail(message: object) -> int:
    print(f"lexitui: {message}", file=sys.stderr)
    return 1


async def run_add(args: argparse.Namespace) -> int:
    paths = Paths.from_env()
    try:
        config = load_config(paths)
        existing = {spec.name: spec.as_table() for spec in host_specs(config)}
        name = check_host_name(args.name)
        if name in existing:
            raise ConfigError(f"a host named {name!r} already exists; remove it first")
        table: dict[str, Any] = {"url": args.url, "kind": args.kind}
        if args.key_env:
            table["key_env"] = args.key_env
        spec = host_spec(name, table)  # checked before anything is written
        save_config_section(paths, "hosts", {**existing, name: spec.as_table()})
    except ConfigError as exc:
        return _fail(exc)
    print(f"added host {spec.name} ({spec.kind}) at {spec.url}")
    return 0


async def run_remove(args: argparse.Namespace) -> int:
    paths = Paths.from_env()
    try:
        existing = {spec.name: spec.as_table() for spec in host_specs(load_config(paths))}
        if args.name not in existing:
            raise ConfigError(f"no host named {args.name!r}")
        del existing[args.name]
        save_config_section(paths, "hosts", existing)
    except ConfigError as exc:
        return _fail(exc)
    print(f"removed host {args.name}")
    return 0


async def run_hosts(args: argparse.Namespace) -> int:
    from lexitui.fleet.host_output import host_rows, render_hosts
    from lexitui.fleet.probe import probe_all

    try:
        specs = host_specs(load_config(Paths.from_env()))
    except ConfigError as exc:
        return _fail(exc)
    states = await probe_all(specs)
    if args.json:
        print(json.dumps(host_rows(states), indent=2))
    else:
        print(render_hosts(states))
    return 0
