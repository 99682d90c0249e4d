"""``lexitui vllm deploy`` and ``lexitui vllm stop``: run a vLLM plan on its hosts over SSH.

    lexitui vllm deploy Qwen/Qwen2.5-72B-Instruct --host gpu1:8 --host gpu2:8 \\
        --ssh gpu1=me@gpu1 --ssh gpu2=me@gpu2 --identity ~/.ssh/id_ed25519
    lexitui vllm stop vllm-gpu1

The plan's commands are printed first (as ``vllm plan`` prints them) and run only once confirmed
(``--yes`` for scripts; without a terminal to ask on, nothing starts). Each command is started
with ``remote start``'s runner and record, in the plan's order (Ray head, workers, the server on
the head); the endpoint is then added as a vllm backend, so ``lexitui backends`` shows its load
from vLLM's /metrics. If a step fails, what was already started is stopped again: a deployment
is whole or absent. ``stop`` ends the processes in reverse order and removes the backend.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
from pathlib import Path

from lexitui.commands import remote
from lexitui.commands.vllm import add_plan_arguments, parse_host, render_plan
from lexitui.config import Paths
from lexitui.editions.refusals import EditionRefusal
from lexitui.editions.service import user_entitlements
from lexitui.editions.tiers import Action
from lexitui.engine.ssh_runner import SshError, SshRunner, SshTarget
from lexitui.engine.vllm_plan import VllmPlan, VllmPlanError, plan_vllm

NAME_LIMIT = 32  # what both remote processes and backends allow


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deploy = sub.add_parser("deploy", help="run the plan on its hosts over SSH, add the backend")
    add_plan_arguments(deploy)
    deploy.add_argument(
        "--ssh",
        action="append",
        required=True,
        metavar="NAME=[USER@]HOST[:PORT]",
        help="how to reach each host over SSH; one per --host",
    )
    deploy.add_argument("--identity", required=True, metavar="FILE", help="the SSH private key")
    deploy.add_argument(
        "--trust-new-host",
        action="store_true",
        help="record unknown hosts' keys (check their fingerprints first)",
    )
    deploy.add_argument("--yes", action="store_true", help="start without asking")
    deploy.set_defaults(func=cmd_deploy)
    stop = sub.add_parser("stop", help="stop a deployment's processes and remove its backend")
    stop.add_argument("name", help="the deployment (its backend's name, e.g. vllm-gpu1)")
    stop.set_defaults(func=cmd_stop)


def _fail(message: object) -> int:
    print(f"lexitui vllm: {message}", file=sys.stderr)
    return 1


def short_name(*parts: str) -> str:
    """A process or backend name from these parts: lowercase, a-z 0-9 -, at most 32 characters
    (a long one keeps a hash of the whole, so two long models stay apart)."""
    text = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")
    if len(text) <= NAME_LIMIT:
        return text
    digest = hashlib.sha1(text.encode()).hexdigest()[:6]
    return f"{text[: NAME_LIMIT - 7].rstrip('-')}-{digest}"


def ssh_targets(texts: list[str], plan: VllmPlan) -> dict[str, SshTarget]:
    targets: dict[str, SshTarget] = {}
    for text in texts:
        name, equals, target = text.partition("=")
        if not equals:
            raise SshError(f"{text!r} is not NAME=[USER@]HOST[:PORT] (e.g. gpu2=me@gpu2)")
        targets[name.strip()] = SshTarget.parse(target)
    hosts = {c.host for c in plan.commands}
    missing = sorted(hosts - targets.keys())
    if missing:
        raise SshError(f"no --ssh for {', '.join(missing)}: give NAME=[USER@]HOST for each host")
    return targets


def deployment_record(paths: Paths, name: str) -> Path:
    return paths.data_dir / "vllm" / f"{name}.json"


def confirmed(args: argparse.Namespace, count: int) -> bool | None:
    """True to go on; False when the user said no; None when there is no terminal to ask."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        return None
    answer = input(f"start these {count} command(s) over SSH? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


async def cmd_deploy(args: argparse.Namespace) -> int:
    paths = Paths.from_env()
    try:
        user_entitlements(paths).require(Action.MANAGED_ENGINE)
        hosts = [parse_host(h) for h in args.hosts]
        plan = plan_vllm(args.model, hosts, port=args.port, bind=args.bind,
                         ray_port=args.ray_port)  # fmt: skip
        targets = ssh_targets(args.ssh, plan)
    except (EditionRefusal, VllmPlanError, SshError) as exc:
        return _fail(exc)
    name = short_name("vllm", hosts[0].name)
    record = deployment_record(paths, name)
    if record.exists():
        return _fail(f"{name} is already deployed: `lexitui vllm stop {name}` first")
    print("\n".join(render_plan(plan)))
    answer = confirmed(args, len(plan.commands))
    if answer is None:
        return _fail("not starting without confirmation: run it in a terminal, or add --yes")
    if not answer:
        print("nothing started")
        return 1
    identity = Path(args.identity).expanduser()
    started: list[str] = []
    try:
        for index, command in enumerate(plan.commands):
            prefix = "vllm" if command.role == "vllm server" else "ray"
            label = short_name(prefix, args.model, command.host, str(index))
            if (remote.records_dir(paths) / f"{label}.json").exists():
                raise SshError(f"{label} is already started: `lexitui remote stop {label}`")
            runner = SshRunner(targets[command.host], identity, remote.known_hosts(paths),
                               trust_new_host=args.trust_new_host)  # fmt: skip
            process = await asyncio.to_thread(runner.start, label, list(command.argv))
            remote.save_record(paths, process, runner)
            started.append(label)
            print(f"started {label} ({command.role}) on {process.target}: pid {process.pid}")
        remote.save(record, {"backend": name, "processes": started, "endpoint": plan.endpoint})
        await _add_backend(paths, name, plan.endpoint)
    except Exception as exc:
        await _stop_all(paths, started)
        record.unlink(missing_ok=True)
        return _fail(f"{exc}; stopped what had started")
    print(f"added backend {name} at {plan.endpoint}")
    print(f"watch it: lexitui backends · stop it: lexitui vllm stop {name}")
    return 0


async def _add_backend(paths: Paths, name: str, endpoint: str) -> None:
    from lexitui.backends.manager import BackendManager

    entitlements = user_entitlements(paths)
    async with BackendManager(paths, entitlements=lambda: entitlements) as manager:
        manager.add_custom(name, endpoint, "vllm")


async def _stop_all(paths: Paths, names: list[str]) -> list[str]:
    """Stop these recorded processes, last started first; the problems, one line each."""
    problems = []
    for label in reversed(names):
        path = remote.records_dir(paths) / f"{label}.json"
        if not path.is_file():
            continue
        try:
            process, runner = remote.load_record(path)
            outcome = await asyncio.to_thread(runner.stop, process)
        except SshError as exc:
            problems.append(f"{label}: {exc}")
            continue
        path.unlink()
        print(f"{_said(outcome)} {label} on {process.target}")
    return problems


def _said(outcome: str) -> str:
    return {"gone": "had already ended:", "killed": "killed after SIGTERM:"}.get(outcome, "stopped")


async def cmd_stop(args: argparse.Namespace) -> int:
    from lexitui.backends.manager import BackendManager

    paths = Paths.from_env()
    record = deployment_record(paths, args.name)
    try:
        data = json.loads(record.read_text())
        names = [str(n) for n in data["processes"]]
    except FileNotFoundError:
        return _fail(f"nothing called {args.name!r} was deployed")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _fail(f"the record {record.name} cannot be read ({exc})")
    problems = await _stop_all(paths, names)
    if problems:  # the record stays: those processes may still run
        return _fail("; ".join(problems))
    async with BackendManager(paths) as manager:
        if args.name in {spec.name for spec in manager.settings.custom}:
            await manager.remove_custom(args.name)
            print(f"removed backend {args.name}")
    record.unlink()
    return 0
