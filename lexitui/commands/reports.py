"""``lexitui recommend`` and ``lexitui usage``: the cost and performance optimizer from the shell.

``recommend PROMPT --goal G`` ranks the providers that could answer now (cost estimate, expected
latency, quality) with the rationale and the alternatives; ``usage`` reports requests and tokens
per model and day and, where the edition allows detailed analytics, cost and latency per provider
and task and the routing mix, over a period.
"""

from __future__ import annotations

import argparse
import json

from lexitui.commands.routing import parse_period, started_routing
from lexitui.domain.inference import InvalidRequest
from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.domain.routing import OptimizationGoal, RoutingStats, UsageAnalytics
from lexitui.editions.tiers import Action
from lexitui.routing.money import usd
from lexitui.routing.records_json import to_json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    recommend = sub.add_parser("recommend", help="the best provider for a prompt, and why")
    recommend.add_argument("prompt")
    recommend.add_argument(
        "--goal",
        type=OptimizationGoal,
        choices=list(OptimizationGoal),
        default=OptimizationGoal.BALANCE_ALL,
    )
    recommend.add_argument("--task", type=TaskType, choices=list(TaskType), default=TaskType.CHAT)
    recommend.add_argument("--max-tokens", type=int, default=256)
    recommend.add_argument("--json", action="store_true")
    recommend.set_defaults(func=cmd_recommend)

    usage = sub.add_parser("usage", help="routed requests, tokens, cost and latency per provider")
    usage.add_argument("--period", default="7d", help="e.g. 24h, 7d, 4w, 1m (default 7d)")
    usage.add_argument(
        "--requests", type=int, metavar="N", help="also list the N newest requests, one a line"
    )
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(func=cmd_usage)


async def cmd_recommend(args: argparse.Namespace) -> int:
    request = LanguageModelRequest(
        messages=(Message("user", args.prompt),), max_tokens=args.max_tokens, task=args.task
    )
    async with started_routing() as (_, routing):
        assert routing.optimizer is not None
        best = await routing.optimizer.get_recommendation(request, args.goal)
        costs = await routing.optimizer.estimate_costs(request)
        if args.json:
            print(json.dumps({"recommendation": to_json(best), "costs": to_json(costs)}, indent=2))
            return 0
        print(f"{best.provider_id} {best.model_id}  (score {best.score:.2f}, {args.goal.value})")
        print(f"  {best.rationale}")
        for alt in best.alternatives:
            print(f"  then {alt.provider_id} {alt.model_id} ({alt.score:.2f}): {alt.rationale}")
        print("estimated cost per provider:")
        for c in costs:
            kind = "electricity" if c.is_local else "price"
            print(
                f"  {c.provider_id:<12} {c.model_id or '-':<28} {usd(c.estimated_cost)} "
                f"({kind}; ~{c.estimated_input_tokens} in, {c.estimated_output_tokens} out)"
            )
        return 0


async def cmd_usage(args: argparse.Namespace) -> int:
    """Requests and tokens per model and day (basic analytics); with detailed analytics, the
    routing mix, cost and latency per provider, task and source as well."""
    period = parse_period(args.period)
    if args.requests is not None and args.requests < 1:
        raise InvalidRequest("--requests must be 1 or more")
    async with started_routing() as (_, routing):
        days = await routing.reports.by_day_and_model(period)
        detailed = routing.reports.allows(Action.DETAILED_ANALYTICS)
        stats = await routing.get_stats(period) if detailed else None
        analytics = await routing.reports.analytics(period) if detailed else None
        # Asked for by name: refused below detailed analytics, never left out silently.
        recent = await routing.reports.recent(args.requests) if args.requests else None
        if args.json:
            out: dict[str, object] = {"by_day": to_json(days)}
            if stats is not None:
                out.update(stats=to_json(stats), analytics=to_json(analytics))
            if recent is not None:
                out["requests"] = to_json(recent)
            print(json.dumps(out, indent=2))
            return 0
        requests = sum(d.requests for d in days)
        tokens = sum(d.prompt_tokens + d.completion_tokens for d in days)
        print(f"Over {args.period}: {requests} requests, {tokens} tokens")
        for d in days:
            print(
                f"  {d.day}  {d.model_id or '-':<32} {d.requests:>6} requests "
                f"{d.prompt_tokens:>9} in {d.completion_tokens:>9} out"
            )
        if stats is not None and analytics is not None:
            _print_details(stats, analytics)
        for r in recent or ():
            cost = usd(r.cost_usd, unknown="-") if not r.is_local else "local"
            said = "" if r.success else f"  failed: {r.error}"
            print(
                f"  {r.created_at:%Y-%m-%d %H:%M:%S}  {r.source:<8} {r.provider_id:<10} "
                f"{r.model_id or '-':<28} {r.prompt_tokens:>6} in {r.completion_tokens:>6} out "
                f"{r.latency_ms:>8.0f} ms  {cost}{said}"
            )
        return 0


def _print_details(stats: RoutingStats, analytics: UsageAnalytics) -> None:
    print(
        f"routing: {stats.total_requests} requests "
        f"({stats.local_requests} local, {stats.cloud_requests} cloud, "
        f"{stats.fallback_requests} after a fallback, {stats.failed_requests} failed)"
    )
    print(
        f"cloud cost {usd(stats.total_cloud_cost)}; "
        f"local saved {usd(stats.estimated_local_savings)}"
    )
    for provider, count in sorted(analytics.requests_by_provider.items()):
        tokens = analytics.tokens_by_provider.get(provider, 0)
        cost = analytics.cost_by_provider.get(provider)
        latency = analytics.average_latency_ms_by_provider.get(provider)
        shown = "-" if latency is None else f"{latency:.0f} ms"
        print(
            f"  {provider:<12} {count:>6} requests {tokens:>9} tokens  "
            f"{usd(cost, unknown='-'):>10}  avg {shown}"
        )
    for task, count in sorted(analytics.requests_by_task.items()):
        print(f"  task {task}: {count}")
    for source, count in sorted(analytics.requests_by_source.items()):
        print(f"  from {source}: {count}")
