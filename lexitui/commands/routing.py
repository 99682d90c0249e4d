"""``lexitui route``, ``providers`` and ``savings``: routing without the TUI.

``route PROMPT`` sends one request through the router (``--dry-run`` only decides) and says who
answered and why; ``providers`` lists the local runtime and the configured cloud providers with
where their keys come from; ``savings`` reports what running locally saved over a period.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from lexitui.domain.inference import InvalidRequest
from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.domain.routing import RoutingOptions, RoutingStrategy
from lexitui.routing.money import share_of, usd
from lexitui.routing.record_watch import RecordWatch
from lexitui.routing.records_json import to_json
from lexitui.routing.service import RoutingService
from lexitui.routing.status import budget_status, provider_rows
from lexitui.services import Services

PERIOD = re.compile(r"^(\d+)([hdwm])$")
UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    route = sub.add_parser("route", help="send a prompt through the router (local or cloud)")
    route.add_argument("prompt")
    route.add_argument("--task", type=TaskType, choices=list(TaskType), default=TaskType.CHAT)
    route.add_argument("--strategy", type=RoutingStrategy, choices=list(RoutingStrategy))
    route.add_argument("--dry-run", action="store_true", help="decide, do not send")
    route.add_argument("--model", help="a model or provider:model to ask for")
    route.add_argument("--load", metavar="MODEL", help="load this installed model locally first")
    route.add_argument("--max-tokens", type=int, default=256)
    route.add_argument("--agent", help="the agent this request is for (its overrides apply)")
    route.add_argument("--workflow", help="the workflow this request is for")
    route.add_argument("--json", action="store_true")
    route.set_defaults(func=cmd_route)

    providers = sub.add_parser("providers", help="the local runtime and cloud providers")
    providers.add_argument("--json", action="store_true")
    providers.add_argument(
        "--set-key", metavar="PROVIDER", help="store an API key for PROVIDER (read from stdin)"
    )
    providers.add_argument("--delete-key", metavar="PROVIDER", help="forget a stored API key")
    providers.set_defaults(func=cmd_providers)

    savings = sub.add_parser("savings", help="what local inference saved against the cloud")
    savings.add_argument("--period", default="7d", help="e.g. 24h, 7d, 4w, 1m (default 7d)")
    savings.add_argument("--json", action="store_true")
    savings.set_defaults(func=cmd_savings)


@asynccontextmanager
async def started_routing() -> AsyncIterator[tuple[Services, RoutingService]]:
    """The services, started, with the routing service ready (its budgets read)."""
    services = Services.build()
    await services.start()
    try:
        await services.routing.start()
        yield services, services.routing
    finally:
        await services.stop()


def parse_period(text: str) -> timedelta:
    match = PERIOD.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise InvalidRequest(f"period {text!r}: use a number and h, d, w or m (e.g. 7d)")
    count, unit = int(match.group(1)), match.group(2)
    return timedelta(days=30 * count) if unit == "m" else UNITS[unit] * count


async def cmd_route(args: argparse.Namespace) -> int:
    if args.max_tokens < 1:
        raise InvalidRequest("--max-tokens must be 1 or more")
    request = LanguageModelRequest(
        messages=(Message("user", args.prompt),),
        model=args.model,
        max_tokens=args.max_tokens,
        task=args.task,
        agent_id=args.agent,
        workflow_id=args.workflow,
    )
    options = RoutingOptions(strategy=args.strategy)
    async with started_routing() as (services, routing):
        if args.load:
            await services.runtime.load(args.load)
        if args.dry_run:
            routed = await routing.route(request, options)
            if args.json:
                print(
                    json.dumps(
                        {
                            "decision": to_json(routed.decision),
                            "fallbacks": list(routed.fallbacks),
                            "task": routed.task.value,
                        },
                        indent=2,
                    )
                )
            else:
                _print_decision(
                    routed.decision.provider_id,
                    routed.model_id,
                    routed.decision.reason,
                    routed.fallbacks,
                )
                print(f"task:     {routed.task.value}")
            return 0
        text = ""
        with RecordWatch(routing.records) as watch:  # this request's record, whoever else sends
            answer = routing.stream(
                request, options=options, source="cli", request_id=watch.request_id
            )
            async for chunk in answer:
                if not args.json:
                    sys.stdout.write(chunk.text)
                    sys.stdout.flush()
                text += chunk.text
        record = watch.record
        assert record is not None, "a finished request is always recorded"
        if args.json:
            print(json.dumps({"text": text, "record": to_json(record)}, indent=2))
        else:
            saved = f"local (saved {usd(record.avoided_usd)})"
            cost = saved if record.is_local else usd(record.cost_usd)
            print(
                f"\n[{record.provider_id} {record.model_id}] {record.reason}; "
                f"{record.completion_tokens} tokens, {record.latency_ms:.0f} ms, {cost}",
                file=sys.stderr,
            )
        return 0


def _print_decision(provider: str, model: str, reason: str, fallbacks: tuple[str, ...]) -> None:
    print(f"provider: {provider}")
    print(f"model:    {model or '-'}")
    print(f"reason:   {reason}")
    print(f"fallback: {', '.join(fallbacks) or 'none'}")


async def cmd_providers(args: argparse.Namespace) -> int:
    async with started_routing() as (_, routing):
        assert routing.keys is not None
        if args.set_key:
            routing.settings.provider(args.set_key)  # a clear error for an unknown provider
            key = (
                getpass.getpass(f"API key for {args.set_key}: ")
                if sys.stdin.isatty()
                else sys.stdin.readline().strip()
            )
            if not key:
                raise InvalidRequest("no key given")
            routing.keys.set(args.set_key, key)
            print(f"stored the key for {args.set_key} (the environment variable still wins)")
            return 0
        if args.delete_key:
            found = routing.keys.delete(args.delete_key)
            print(f"{'forgot' if found else 'no stored key for'} {args.delete_key}")
            return 0
        rows = provider_rows(routing)
        budgets = budget_status(routing)
        if args.json:
            print(json.dumps({"providers": to_json(rows), "budgets": to_json(budgets)}, indent=2))
            return 0
        print(f"{'PROVIDER':<12} {'KIND':<18} {'MODEL':<28} {'KEY':<22} STATUS")
        for r in rows:
            status = r.cooling or (r.reason if not r.available else "ready")
            print(f"{r.id:<12} {r.kind:<18} {r.model or '-':<28} {r.key_source:<22} {status}")
        day = usd(budgets.daily_limit, unknown="no limit")
        month = usd(budgets.monthly_limit, unknown="no limit")
        print(
            f"budget: today {usd(budgets.daily_spent)} of {day}, "
            f"this month {usd(budgets.monthly_spent)} of {month}"
        )
        return 0


async def cmd_savings(args: argparse.Namespace) -> int:
    period = parse_period(args.period)
    async with started_routing() as (_, routing):
        reference = routing.recorder.prices.reference_label()
        report = await routing.reports.savings(period)
        if args.json:
            print(json.dumps(to_json(report), indent=2))
            return 0
        priced_as = reference or "no reference model: set [costs] compare_to"
        print(f"Savings over {args.period} (local requests priced as {priced_as}):")
        tokens = report.local_tokens_generated
        print(f"  local requests        {report.local_requests} ({tokens} tokens)")
        print(f"  cloud cost avoided    {usd(report.estimated_cloud_cost_avoided)}")
        print(f"  actual cloud cost     {usd(report.actual_cloud_cost)}")
        if report.unpriced_cloud_requests:
            print(f"  unpriced cloud calls  {report.unpriced_cloud_requests} (price unknown)")
        print(f"  local electricity     {usd(report.estimated_local_electricity_cost)}")
        print(
            f"  net savings           {usd(report.net_savings)}{share_of(report.savings_percent)}"
        )
        for m in report.by_model:
            print(
                f"    {m.model_id}: {m.requests} requests, {m.tokens_generated} tokens, "
                f"saved {usd(m.estimated_savings)}"
            )
        return 0
