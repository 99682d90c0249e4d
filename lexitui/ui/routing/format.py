"""How the Routing area and the dashboard write routing figures: plain functions over records.

Money is never made up: a cloud request whose price is not known says "unknown", a local one
says what it avoided only when a reference price exists, and savings without a reference model
say so instead of showing $0.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import TYPE_CHECKING

from rich.text import Text

from lexitui.domain.units import GIB
from lexitui.routing.money import share_of, usd
from lexitui.ui.runtime.format import measured, shown
from lexitui.ui.text import plain
from lexitui.ui.widgets.usage_bar import usage_bar

if TYPE_CHECKING:  # records only: the dashboard imports this module before its first paint
    from lexitui.domain.routing import (
        RoutedRequestRecord,
        RoutingDecision,
        RoutingStats,
        SavingsReport,
    )
    from lexitui.routing.local_provider import LocalProviderStatus
    from lexitui.routing.status import BudgetStatus, ProviderRow

REREAD_S = 0.3  # the most often a shown screen reads the routing store again (on changes only)
GAUGE_WIDTH = 8
NO_REQUESTS = "No routed requests yet: run `lexitui serve` or `lexitui route`."
# "From": where the request came from (gateway, cli, tui for the Runtime chat).
LOG_COLUMNS = (
    "Time UTC",
    "From",
    "Task",
    "Provider",
    "Model",
    "FB",
    "Tokens",
    "ms",
    "Cost",
    "Reason",
)
LIVE_COLUMNS = ("Time UTC", "Provider", "Model", "Tokens", "ms", "Cost")
PROVIDER_COLUMNS = ("Id", "Kind", "Model", "Key", "Available", "Cooldown")


def label(value: str) -> str:
    """``prefer_local`` -> ``prefer local``."""
    return value.replace("_", " ")


def clock(record: RoutedRequestRecord, today: date | None = None) -> str:
    """``11:50:00`` today (UTC), ``03-12 11:50`` on an earlier day."""
    at = record.created_at.astimezone(UTC)
    return (
        at.strftime("%H:%M:%S")
        if today is None or at.date() == today
        else at.strftime("%m-%d %H:%M")
    )


def cost_cell(record: RoutedRequestRecord) -> str:
    if record.is_local:
        return f"local, saved {usd(record.avoided_usd)}" if record.avoided_usd else "local"
    if not record.success and record.cost_usd is None:
        return "-"
    return usd(record.cost_usd)


def log_row(
    record: RoutedRequestRecord, reason_width: int = 70, today: date | None = None
) -> tuple[str | Text, ...]:
    """One decision-log row: when, what, where, how it went and why."""
    reason = f"failed: {record.error}" if not record.success and record.error else record.reason
    provider = plain(record.provider_id, 40, style="red" if not record.success else "")
    return (
        clock(record, today),
        shown(record.source, 10),
        label(record.task.value),
        provider,
        shown(record.model_id or "-", 32),
        "yes" if record.was_fallback else "",
        str(record.prompt_tokens + record.completion_tokens),
        f"{record.latency_ms:.0f}",
        cost_cell(record),
        shown(reason, reason_width),
    )


def live_row(record: RoutedRequestRecord, today: date | None = None) -> tuple[str | Text, ...]:
    full = log_row(record, today=today)
    return (full[0], full[3], full[4], full[6], full[7], full[8])


def provider_row(row: ProviderRow) -> tuple[str | Text, ...]:
    available = (
        plain(f"yes: {row.reason}", 300, style="green")
        if row.available
        else plain(f"no: {row.reason}", 300, style="yellow")
    )
    return (
        shown(row.id, 40),
        shown(row.kind, 40),
        shown(row.model or "-", 32),
        row.key_source,
        available,
        plain(row.cooling, 300, style="yellow") if row.cooling else "-",
    )


def decision_text(
    decision: RoutingDecision, fallbacks: tuple[str, ...], task: str, tokens: int
) -> str:
    """The dry run's answer: where the prompt would go, why, at what estimated cost."""
    latency = decision.estimated_latency
    said_latency = f"~{latency.total_seconds() * 1000:.0f} ms" if latency else "unknown"
    chain = " → ".join(fallbacks) if fallbacks else "none"
    model = shown(decision.model_id or "-", 60)
    return (
        f"[b]→ {shown(decision.provider_id)}[/b] · {model}"
        f"   (strategy {label(decision.used_strategy.value)}, task {label(task)},"
        f" ~{tokens} prompt tokens)\n"
        f"Why: {shown(decision.reason, 400)}\n"
        f"Estimated cost: {usd(decision.estimated_cost)} · latency: {said_latency}"
        f" · fallbacks: {shown(chain)}"
    )


def budget_lines(budgets: BudgetStatus) -> list[Text]:
    """A gauge per limit: ``Daily   ██░░ $0.40 of $5.00``; no limit says so."""
    lines = []
    for period, spent, limit in (
        ("daily", budgets.daily_spent, budgets.daily_limit),
        ("monthly", budgets.monthly_spent, budgets.monthly_limit),
    ):
        line = Text(f"{period.title():<8}")
        if limit is None:
            line.append(f"{usd(spent)} spent, no limit")
        else:
            line.append_text(usage_bar(budgets.share(period), GAUGE_WIDTH))
            line.append(f" {usd(spent)} / {usd(limit)}")
        lines.append(line)
    if budgets.blocked:
        lines.append(Text(budgets.blocked, style="red"))
    return lines


def budget_text(budgets: BudgetStatus) -> Text:
    text = Text()
    text.append("Cloud budgets (UTC)\n", style="bold")
    text.append_text(Text("\n").join(budget_lines(budgets)))
    return text


def mix_text(stats: RoutingStats) -> str:
    """Where the last day's requests went."""
    if stats.total_requests == 0:
        return "[b]Routing, last 24 h[/b]\nNo requests in the last 24 hours."
    return (
        "[b]Routing, last 24 h[/b]\n"
        f"Requests: {stats.total_requests}\n"
        f"Local {stats.local_requests} · Cloud {stats.cloud_requests}\n"
        f"Fallback {stats.fallback_requests} · Failed {stats.failed_requests}"
    )


def savings_text(report: SavingsReport) -> str:
    """The last week's savings, or why there are none to show."""
    head = "[b]Savings, last 7 days[/b]"
    if report.compared_to_cloud_model is None:
        return (
            f"{head}\nNo reference price: set \\[costs] compare_to\n"
            f"(or add a cloud provider with a model).\n"
            f"Actual cloud cost: {usd(report.actual_cloud_cost)}"
        )
    unpriced = (
        f"\n{report.unpriced_cloud_requests} cloud requests had no known price"
        if report.unpriced_cloud_requests
        else ""
    )
    return (
        f"{head}\nvs {shown(report.compared_to_cloud_model, 40)}\n"
        f"Cloud cost avoided: {usd(report.estimated_cloud_cost_avoided)}\n"
        f"Actual cloud cost:  {usd(report.actual_cloud_cost)}\n"
        f"Electricity:        {usd(report.estimated_local_electricity_cost)}\n"
        f"Net saved:          {usd(report.net_savings)}{share_of(report.savings_percent)}"
        f"{unpriced}"
    )


def local_text(status: LocalProviderStatus | None) -> str:
    """Whether the local runtime can answer now, with what, and what it uses."""
    if status is None:
        return "[b]Local LLM[/b]\nReading…"
    ready = "[green]ready[/]" if status.is_ready else "[yellow]not ready[/]"
    lines = [f"[b]Local LLM[/b]  {ready}"]
    if status.active_model_id:
        lines.append(f"Active: {shown(status.active_model_id, 40)}")
        lines.append(f"Backend: {shown(status.active_backend or '-', 30)}")
    elif status.error:
        lines.append(shown(status.error, 120))
    if status.loaded_models:
        more = len(status.loaded_models) - 2
        names = ", ".join(shown(m, 30) for m in status.loaded_models[:2])
        lines.append(f"Loaded: {names}" + (f" (+{more} more)" if more > 0 else ""))
    else:
        lines.append("Loaded: none (press 7 to load)")
    usage = status.resource_usage
    if usage is not None and usage.models_ram_bytes:
        lines.append("Engines: " + measured(f"RAM {usage.models_ram_bytes / GIB:.1f} GiB"))
    if usage is not None and usage.system_ram_bytes:
        # The whole machine's figures, said so: they are not the model's own use.
        used, total = usage.system_ram_used_bytes / GIB, usage.system_ram_bytes / GIB
        lines.append(
            "Machine: "
            + measured(f"RAM {used:.1f}/{total:.1f} GiB · CPU {usage.cpu_usage_percent:.0f}%")
        )
    return "\n".join(lines)
