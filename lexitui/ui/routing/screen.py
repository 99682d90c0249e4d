"""Routing: where requests go (local or cloud), why, what they cost, and what you can change.

A thin view over ``RoutingService`` (``services.routing``): the strategy panel and the task table
show the router's config and change it with ``set_config``, saving each change to config.toml's
``[routing]`` table so it holds at the next start; the providers table and the budgets come
from ``routing.status``; the decision log is the store's newest requests. ``lexitui serve``
runs in another process and writes to the same store, so the screen reads it again when the
store says ``routed_requests`` changed (``StoreChanged``, whichever process wrote) or a request
routed by this process finishes (``service.records``), at most every ``REREAD_S``. The
prompt field asks the router for a dry run: nothing is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from reactivex import Observable
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.widgets import DataTable, Footer, Input, Static

from lexitui.config import ConfigError
from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.domain.routing import RoutingConfig, RoutingStrategy
from lexitui.gguf.text import safe_text
from lexitui.routing.errors import RoutingError
from lexitui.routing.settings import save_routing_choices
from lexitui.routing.tokens import estimate_tokens
from lexitui.ui.routing.data import RoutingView, read_view, routing_service
from lexitui.ui.routing.dialogs import FOLLOW_DEFAULT, StrategyPicker
from lexitui.ui.routing.format import (
    LOG_COLUMNS,
    NO_REQUESTS,
    PROVIDER_COLUMNS,
    REREAD_S,
    budget_text,
    decision_text,
    label,
    log_row,
    provider_row,
)
from lexitui.ui.runtime.format import shown
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen
from lexitui.ui.streams import at_most_every, changes_of
from lexitui.ui.style_paths import style
from lexitui.ui.widgets.fitted_table import FittedTable

WIDE = 120  # from this many columns the panels sit side by side
LOG_ROWS = 20
SAVED_NOTE = r"Changes are saved to config.toml \[routing]."
TRY_PLACEHOLDER = "Try a prompt: Enter shows where it would go (nothing is sent)"


class RoutingScreen(AreaScreen):
    CSS_PATH = style("routing.tcss")
    AUTO_FOCUS = "#routing-tasks"
    BINDINGS = [
        Binding("s", "strategy", "Strategy", id="routing.strategy"),
        Binding("f", "toggle_fallback", "Fallback on/off", id="routing.fallback"),
        Binding("t", "task_strategy", "Task strategy", id="routing.task"),
        Binding("p", "focus_prompt", "Try a prompt", id="routing.try"),
        Binding("r", "refresh", "Refresh", id="routing.refresh", show=False),
        Binding("escape", "leave_input", "Leave the input", id="routing.leave", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(name="routing")
        self.view: RoutingView | None = None
        # Built once with the routing service; the same stream on every resume is never
        # subscribed twice.
        self._reads: Observable[Any] | None = None

    def compose(self) -> ComposeResult:
        yield AreaHeader()
        with VerticalScroll(id="routing-body", can_focus=False):
            with Container(id="routing-top"):
                yield Static("[b]Strategy[/b]\nReading the router…", id="routing-strategy")
                yield Static("[b]Cloud budgets[/b]", id="routing-budgets")
            with Container(id="routing-tables"):
                yield FittedTable(
                    flexible={"Strategy"}, id="routing-tasks", cursor_type="row", zebra_stripes=True
                )
                yield FittedTable(
                    flexible={"Model"},
                    id="routing-providers",
                    cursor_type="row",
                    zebra_stripes=True,
                )
            yield Input(placeholder=TRY_PLACEHOLDER, id="routing-try")
            yield Static("", id="routing-decision")
            yield Static("[b]Decision log[/b], newest first", id="routing-log-title")
            yield FittedTable(
                flexible={"Model", "Reason"},
                id="routing-log",
                cursor_type="row",
                zebra_stripes=True,
            )
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Routing"
        tasks = self.query_one("#routing-tasks", DataTable)
        tasks.add_columns("Task", "Strategy")
        tasks.border_title = "Tasks · Enter or t changes"
        providers = self.query_one("#routing-providers", DataTable)
        providers.add_columns(*PROVIDER_COLUMNS)
        providers.border_title = "Providers"
        self.query_one("#routing-log", DataTable).add_columns(*LOG_COLUMNS)
        self.query_one("#routing-decision", Static).display = False
        self._fit(self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        self.set_class(width >= WIDE, "-wide")

    async def on_screen_resume(self) -> None:
        services = await self.ready()
        try:
            service = await routing_service(services)
        except ConfigError as exc:
            self._say(f"[red]Routing is off: {shown(str(exc))}[/]")
            return
        if not self.is_current:  # left while the service was being built
            return
        if self._reads is None:
            changes = changes_of(services.bus, {"routed_requests"})
            self._reads = at_most_every(REREAD_S, service.records, changes)
        self.watch_stream(self._reads, self._on_change)
        self.show_config()
        self.reload()

    def _say(self, text: str) -> None:
        self.query_one("#routing-strategy", Static).update(text)

    # --- reading ------------------------------------------------------------------------------

    def _on_change(self, _event: object) -> None:
        self.reload()

    @work(exclusive=True, group="routing-read")
    async def reload(self) -> None:
        """Providers, budgets and the decision log, from the service and the store as they are."""
        services = await self.ready()
        if not services.started:
            return
        try:
            view = await read_view(await routing_service(services), LOG_ROWS)
        except Exception as exc:  # a store failure leaves the rest of the screen working
            title = f"[b]Decision log[/b]  [red]{shown(str(exc))}[/]"
            self.query_one("#routing-log-title", Static).update(title)
            return
        self.view = view
        self._show_providers(view)
        self.query_one("#routing-budgets", Static).update(budget_text(view.budgets))
        self._show_log(view)

    def _show_providers(self, view: RoutingView) -> None:
        table = self.query_one("#routing-providers", DataTable)
        row = table.cursor_row
        table.clear()
        for provider in view.providers:
            table.add_row(*provider_row(provider), key=provider.id)
        if 0 <= row < table.row_count:
            table.move_cursor(row=row)

    def _show_log(self, view: RoutingView) -> None:
        records = view.recent
        table = self.query_one("#routing-log", DataTable)
        row = table.cursor_row
        table.clear()
        reason_width = 200  # the table cuts the reason to the width it has
        for record in records:
            table.add_row(*log_row(record, reason_width, view.at.date()), key=record.request_id)
        if 0 <= row < table.row_count:
            table.move_cursor(row=row)
        title = "[b]Decision log[/b], newest first (live)"
        if view.log_withheld is not None:
            title += f"\n[yellow]{shown(view.log_withheld)}[/]"
        elif not records:
            title += f"\n{NO_REQUESTS}"
        self.query_one("#routing-log-title", Static).update(title)

    def show_config(self) -> None:
        """The strategy panel and the task table, from the router's config now."""
        config = self.services.routing.router.config
        fallback = "[green]on[/]" if config.enable_fallback else "[yellow]off[/]"
        local = config.preferred_local_model or "the active model"
        cloud = config.preferred_cloud_provider or "any"
        if config.preferred_cloud_model:
            cloud += f" · {config.preferred_cloud_model}"
        self._say(
            "[b]Strategy[/b]\n"
            f"Default:  {label(config.default_strategy.value)}  [dim](s changes)[/]\n"
            f"Fallback: {fallback}  [dim](f toggles)[/]\n"
            f"Local: {shown(local, 40)} · cloud: {shown(cloud, 40)}\n"
            f"[dim]{SAVED_NOTE}[/]"
        )
        table = self.query_one("#routing-tasks", DataTable)
        row = table.cursor_row
        table.clear()
        for task in TaskType:
            chosen = config.task_routing.get(task)
            cell = (
                Text(label(chosen.value))
                if chosen
                else Text(f"default ({label(config.default_strategy.value)})", style="dim")
            )
            table.add_row(label(task.value), cell, key=task.value)
        if 0 <= row < table.row_count:
            table.move_cursor(row=row)

    # --- changing the config --------------------------------------------------------------------

    def _built(self) -> bool:
        """Whether the routing service is up (the keys wait for it rather than block the loop)."""
        if self.services.built("routing"):
            return True
        self.notify("Routing is still starting: try again in a moment.")
        return False

    async def _apply(self, config: RoutingConfig, said: str) -> None:
        await self.services.routing.set_config(config)
        self.show_config()
        try:
            await asyncio.to_thread(save_routing_choices, self.services.paths, config)
        except (ConfigError, OSError) as exc:  # applied all the same; say why it will not last
            text = f"{said}, for this session only: config.toml could not be saved ({exc})"
            self.notify(safe_text(text, 300), severity="error", markup=False)
            return
        self.notify(f"{said} (saved to config.toml)")

    def action_strategy(self) -> None:
        if not self._built():
            return
        config = self.services.routing.router.config

        async def picked(value: str | None) -> None:
            if value and value != FOLLOW_DEFAULT:
                strategy = RoutingStrategy(value)
                current = self.services.routing.router.config
                await self._apply(
                    replace(current, default_strategy=strategy),
                    f"Default strategy: {label(strategy.value)}",
                )

        self.app.push_screen(
            StrategyPicker("Default strategy", config.default_strategy.value), picked
        )

    async def action_toggle_fallback(self) -> None:
        if not self._built():
            return
        config = self.services.routing.router.config
        on = not config.enable_fallback
        await self._apply(replace(config, enable_fallback=on), f"Fallback {'on' if on else 'off'}")

    def selected_task(self) -> TaskType:
        table = self.query_one("#routing-tasks", DataTable)
        tasks = list(TaskType)
        return tasks[table.cursor_row] if 0 <= table.cursor_row < len(tasks) else TaskType.CHAT

    def action_task_strategy(self) -> None:
        if not self._built():
            return
        task = self.selected_task()
        config = self.services.routing.router.config
        current = config.task_routing.get(task)

        async def picked(value: str | None) -> None:
            if value is None:
                return
            now = self.services.routing.router.config
            tasks = dict(now.task_routing)
            if value == FOLLOW_DEFAULT:
                tasks.pop(task, None)
                said = f"{label(task.value)} follows the default strategy"
            else:
                tasks[task] = RoutingStrategy(value)
                said = f"{label(task.value)}: {label(value)}"
            await self._apply(replace(now, task_routing=tasks), said)

        title = f"Strategy for {label(task.value)}"
        chosen = current.value if current else FOLLOW_DEFAULT
        self.app.push_screen(StrategyPicker(title, chosen, allow_default=True), picked)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "routing-tasks":
            self.action_task_strategy()

    # --- the dry run -----------------------------------------------------------------------------

    def action_focus_prompt(self) -> None:
        self.query_one("#routing-try", Input).focus()

    def action_leave_input(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#routing-tasks", DataTable).focus()

    def action_refresh(self) -> None:
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "routing-try" and event.value.strip():
            self.try_prompt(event.value.strip(), self.selected_task())

    @work(exclusive=True, group="routing-try")
    async def try_prompt(self, text: str, task: TaskType) -> None:
        """Ask the router where ``text`` would go, as a ``task`` request; nothing is sent."""
        service = await routing_service(await self.ready())
        request = LanguageModelRequest(messages=(Message("user", text),), task=task)
        shown_in = self.query_one("#routing-decision", Static)
        shown_in.display = True
        try:
            routed = await service.route(request)
        except RoutingError as exc:
            shown_in.update(f"[red]No route:[/] {shown(str(exc), 400)}")
            return
        tokens, _answer = estimate_tokens(request)
        shown_in.update(decision_text(routed.decision, routed.fallbacks, routed.task.value, tokens))
