"""``lexitui vllm plan MODEL --host NAME:GPUS[:MEMORY] ...``: the commands that serve a Hugging
Face model with vLLM on these hosts (one node with tensor parallelism, or several joined by Ray),
printed before anything runs. ``--json`` for scripts; a plan vLLM would refuse is one line on
stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lexitui.engine.vllm_plan import DEFAULT_PORT, RAY_PORT, VllmHost, VllmPlan, VllmPlanError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("vllm", help="plan a vLLM deployment over your GPU hosts")
    sub = parser.add_subparsers(dest="vllm_command", metavar="SUBCOMMAND", required=True)
    plan = sub.add_parser("plan", help="print the commands that serve MODEL on these hosts")
    add_plan_arguments(plan)
    plan.add_argument("--api-key-env", metavar="VAR", help="env var on the head holding the key")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(func=cmd_plan)
    from lexitui.commands.vllm_deploy import add_parsers  # it uses this module's plan printing

    add_parsers(sub)


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """What a plan is made of, for ``plan`` and ``deploy`` alike."""
    parser.add_argument("model", help="a Hugging Face model id, e.g. Qwen/Qwen2.5-72B-Instruct")
    parser.add_argument(
        "--host",
        dest="hosts",
        action="append",
        required=True,
        metavar="NAME:GPUS[:MEMORY]",
        help="a host, its GPU count and (optional) memory per GPU, e.g. gpu1:8:80G; "
        "the first is the head; repeat for each node",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="API port (%(default)s)")
    parser.add_argument("--bind", metavar="ADDRESS", help="listen on this address only")
    parser.add_argument("--ray-port", type=int, default=RAY_PORT, help="default %(default)s")


def parse_host(text: str) -> VllmHost:
    """``NAME:GPUS`` or ``NAME:GPUS:MEMORY`` (memory per GPU, e.g. 80G)."""
    from lexitui.downloads.units import parse_size

    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        raise VllmPlanError(f"{text.strip()!r} is not NAME:GPUS[:MEMORY] (e.g. gpu1:8:80G)")
    try:
        memory = parse_size(parts[2]) if len(parts) == 3 else None
    except ValueError as exc:
        raise VllmPlanError(f"{text.strip()!r}: {exc}") from None
    return VllmHost(parts[0], int(parts[1]), memory)


def plan_json(plan: VllmPlan) -> dict[str, Any]:
    return {
        "model": plan.model,
        "tensor_parallel_size": plan.tensor_parallel_size,
        "pipeline_parallel_size": plan.pipeline_parallel_size,
        "endpoint": plan.endpoint,
        "commands": [
            {"host": c.host, "role": c.role, "argv": list(c.argv), "command": c.text}
            for c in plan.commands
        ],
        "notes": list(plan.notes),
    }


def render_plan(plan: VllmPlan) -> list[str]:
    nodes = plan.pipeline_parallel_size
    lines = [
        f"{plan.model}: tensor parallel {plan.tensor_parallel_size} x pipeline parallel "
        f"{nodes} ({nodes} node{'s' if nodes > 1 else ''}); run in this order:"
    ]
    width = max(len(c.host) for c in plan.commands)
    lines += [f"  {c.host:<{width}}  $ {c.text}" for c in plan.commands]
    lines.append(f"then: lexitui backend add NAME {plan.endpoint} --type vllm")
    lines += [f"note: {note}" for note in plan.notes]
    return lines


async def cmd_plan(args: argparse.Namespace) -> int:
    from lexitui.engine.vllm_plan import plan_vllm

    try:
        plan = plan_vllm(
            args.model,
            [parse_host(h) for h in args.hosts],
            port=args.port,
            bind=args.bind,
            api_key_env=args.api_key_env,
            ray_port=args.ray_port,
        )
    except VllmPlanError as exc:
        print(f"lexitui vllm: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(plan_json(plan), indent=2))
    else:
        print("\n".join(render_plan(plan)))
    return 0
