"""``lexitui remote start|status|stop``: run a long-lived command on another machine over SSH (an
RPC worker, a Ray node) and stop it later, from this one.

    lexitui remote start --name gpu2-rpc --ssh me@gpu2 --identity ~/.ssh/id_ed25519 \\
        --rpc-worker 192.168.1.11:50052
    lexitui remote start --name gpu2-ray --ssh me@gpu2 --identity KEY -- ray start --block \\
        --address=192.168.1.10:6379
    lexitui remote status [--json] · lexitui remote stop gpu2-rpc

The system's ``ssh`` runs it, with the key given and host keys checked against lexitui's own
known_hosts file (``--trust-new-host`` records a new host's key once; a changed key is always
refused). What was started is recorded under lexitui's data folder by name: its host, pid and
start time, so ``stop`` finds that very process again. Errors are one line, exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from lexitui.config import Paths
from lexitui.engine.ssh_runner import RemoteProcess, SshError, SshRunner, SshTarget

RPC_WORKER_PROGRAM = "ggml-rpc-server"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("remote", help="start and stop commands on hosts over SSH")
    sub = parser.add_subparsers(dest="remote_command", metavar="SUBCOMMAND", required=True)
    start = sub.add_parser("start", help="start a command on a host, in the background")
    # A name option, not a positional: a positional before the command would end argparse's
    # reading of positionals early and leave the command after -- unread.
    start.add_argument("--name", required=True, help="what to call it here (1-32 of a-z 0-9 - _)")
    start.add_argument("--ssh", required=True, metavar="[USER@]HOST[:PORT]")
    start.add_argument("--identity", required=True, metavar="FILE", help="the SSH private key")
    start.add_argument(
        "--trust-new-host",
        action="store_true",
        help="record the host's key if it is not known yet (check its fingerprint first)",
    )
    start.add_argument(
        "--rpc-worker",
        metavar="ADDRESS:PORT",
        help=f"run llama.cpp's {RPC_WORKER_PROGRAM} there, listening on this private address",
    )
    start.add_argument(
        "--rpc-program",
        default=RPC_WORKER_PROGRAM,
        metavar="PATH",
        help="where the worker program is on that host (default: found on its PATH)",
    )
    start.add_argument("command", nargs="*", help="the command (after --)")
    start.set_defaults(func=cmd_start)

    status = sub.add_parser("status", help="what was started, and whether it still runs")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    stop = sub.add_parser("stop", help="stop what `remote start` started (SIGTERM, then SIGKILL)")
    stop.add_argument("name")
    stop.set_defaults(func=cmd_stop)


def known_hosts(paths: Paths) -> Path:
    return paths.config_dir / "ssh" / "known_hosts"


def records_dir(paths: Paths) -> Path:
    return paths.data_dir / "remote"


def _fail(message: object) -> int:
    print(f"lexitui remote: {message}", file=sys.stderr)
    return 1


def _command(args: argparse.Namespace) -> list[str]:
    command = args.command[1:] if args.command[:1] == ["--"] else list(args.command)
    if args.rpc_worker:
        from lexitui.engine.rpc_address import check_private, parse_endpoint

        if command:
            raise SshError("give --rpc-worker or a command, not both")
        endpoint = parse_endpoint(args.rpc_worker)
        check_private(endpoint.host)  # llama.cpp's RPC has no authentication
        return [args.rpc_program, "--host", endpoint.host, "--port", str(endpoint.port)]
    if not command:
        raise SshError("no command: give one after --, or --rpc-worker ADDRESS:PORT")
    return command


async def cmd_start(args: argparse.Namespace) -> int:
    from lexitui.engine.rpc_address import RpcAddressError

    paths = Paths.from_env()
    record = records_dir(paths) / f"{args.name}.json"
    try:
        if record.exists():
            raise SshError(f"{args.name} is already started: `lexitui remote stop {args.name}`")
        runner = SshRunner(
            SshTarget.parse(args.ssh),
            Path(args.identity).expanduser(),
            known_hosts(paths),
            trust_new_host=args.trust_new_host,
        )
        process = await asyncio.to_thread(runner.start, args.name, _command(args))
    except (SshError, RpcAddressError) as exc:
        return _fail(exc)
    save_record(paths, process, runner)
    print(f"started {process.name} on {process.target}: pid {process.pid}, log ~/{process.log}")
    return 0


async def cmd_status(args: argparse.Namespace) -> int:
    rows = []
    for path in sorted(records_dir(Paths.from_env()).glob("*.json")):
        try:
            process, runner = load_record(path)
            state = "running" if await asyncio.to_thread(runner.is_running, process) else "gone"
        except SshError as exc:
            state = f"unknown ({exc})"
        rows.append({**process.to_json(), "state": state})
    if args.json:
        print(json.dumps(rows, indent=2))
    for row in [] if args.json else rows:
        print(f"{row['name']}  {row['target']}  pid {row['pid']}  {row['state']}")
    return 0


async def cmd_stop(args: argparse.Namespace) -> int:
    path = records_dir(Paths.from_env()) / f"{args.name}.json"
    if not path.is_file():
        return _fail(f"nothing called {args.name!r} was started (see `lexitui remote status`)")
    try:
        process, runner = load_record(path)
        outcome = await asyncio.to_thread(runner.stop, process)
    except SshError as exc:
        return _fail(exc)  # the record stays: the process may still run
    path.unlink()
    said = {"gone": "had already ended", "killed": "killed after SIGTERM"}.get(outcome, "stopped")
    print(f"{process.name} on {process.target}: {said}")
    return 0


def save_record(paths: Paths, process: RemoteProcess, runner: SshRunner) -> None:
    """What `stop` needs to find the process again, named after it."""
    data = {**process.to_json(), "identity": str(runner.identity)}
    save(records_dir(paths) / f"{process.name}.json", data)


def load_record(path: Path) -> tuple[RemoteProcess, SshRunner]:
    try:
        data = json.loads(path.read_text())
        process = RemoteProcess.from_json(data)
        identity = Path(data["identity"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SshError(f"the record {path.name} cannot be read ({exc})") from None
    target = SshTarget.parse(process.target)
    return process, SshRunner(target, identity, known_hosts(Paths.from_env()))


def save(path: Path, data: dict[str, object]) -> None:
    """Written whole or not at all: a crash never leaves half a record of a running process."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(data, indent=2))
    os.replace(temp, path)
