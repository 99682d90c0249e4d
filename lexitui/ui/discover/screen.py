"""Discover: search a model registry, see what fits this machine, queue a variant for download.

A thin view over ``DiscoveryService``: the search box and filter panel build a
``ModelSearchQuery``; the results table shows each model with its fit badge; the details pane
shows the card summary, the license and every variant with its own fit, memory and speed. ``d``
hands the highlighted variant to the Downloads area, after saying what would go wrong: a gated
model without a token is not queued (it would only fail), a variant that does not fit is queued
only once the user confirms. With ``[registries.NAME]`` configured, a search covers them beside
the Hub: a column names each result's registry, and one that did not answer is named in the
status line with why. ``A`` ("Fit all") analyses every result at once (``AnalyseAllScreen``).
Every text that came from a registry is shown through ``lexitui.ui.text``, so a model card can
never style or move the terminal.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, DataTable, Footer, Input, Select, Static

from lexitui.discovery.errors import RegistryError
from lexitui.discovery.ollama_browse import sizes_of
from lexitui.discovery.service import FitBadge, ModelDetails
from lexitui.domain.discovery import ModelSearchQuery, ModelSearchResult, RemoteModel
from lexitui.domain.enums import (
    CompatibilityLevel,
    ModelCategory,
    ModelRegistryType,
    ModelSizeCategory,
    ModelSortOrder,
)
from lexitui.domain.units import format_bytes
from lexitui.editions.refusals import EditionRefusal
from lexitui.editions.tiers import Action
from lexitui.services.edition_usage import hub_searches
from lexitui.store.download_queue import DownloadRequestError
from lexitui.ui.discover.analyse_all import AnalyseAllScreen
from lexitui.ui.discover.checks import (
    does_not_fit_text,
    gated_without_registry_token,
    gated_without_token,
)
from lexitui.ui.downloads.hub_token import hub_token_set
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen
from lexitui.ui.text import markup_safe, plain
from lexitui.ui.widgets.confirm_dialog import ConfirmDialog
from lexitui.ui.widgets.fit import badge_cell, details_text, facets_text, variant_cells
from lexitui.ui.widgets.fitted_table import FittedTable
from lexitui.ui.widgets.limit_pill import LimitPill

SORTS = [(s.value.capitalize(), s) for s in ModelSortOrder]
CATEGORIES = [(c.value.replace("_", " "), c) for c in ModelCategory]
SIZES = [(f"up to {s.value}", s) for s in ModelSizeCategory]


VARIANT_COLUMNS = ("Quant", "File", "Fit", "Memory", "tok/s")
RESULT_COLUMNS = ("Fit", "Model", "Params", "Downloads", "Likes", "License")


def result_key(model: RemoteModel) -> str:
    """A row's key: two registries may each have a model of one id."""
    return f"{model.registry_name or ''}|{model.id}"


class DiscoverScreen(AreaScreen):
    # Number keys switch areas only while no text box has focus: start on the results, "/"
    # goes to the search box and Esc (or Enter) comes back.
    AUTO_FOCUS = "#discover-results"
    BINDINGS = [
        Binding("escape", "leave_input", "Results", show=False, id="discover.results"),
        Binding("slash", "focus_search", "Search", id="discover.search"),
        Binding("f", "toggle_filters", "Filters", id="discover.filters"),
        Binding("t", "trending", "Trending", id="discover.trending"),
        Binding("d", "download", "Download variant", id="discover.download"),
        Binding("v", "focus_variants", "Variants", id="discover.variants"),
        Binding("o", "switch_registry", "Hub/Ollama", id="discover.registry"),
        Binding("A", "analyse_all", "Fit all", id="discover.analyse_all"),
    ]

    def __init__(self) -> None:
        super().__init__("discover")
        self.models: list[RemoteModel] = []
        self.badges: dict[str, FitBadge] = {}  # by result_key
        self.details: ModelDetails | None = None
        self.registry = ModelRegistryType.HUGGING_FACE

    def compose(self) -> ComposeResult:
        yield AreaHeader()
        yield Input(placeholder="Search Hugging Face (Enter)", id="discover-query")
        with Horizontal(id="discover-body"):
            with VerticalScroll(id="discover-filters"):
                yield Checkbox("GGUF only", value=True, id="filter-gguf")
                yield Checkbox("Fits here", id="filter-fits")
                yield Select(SORTS, value=ModelSortOrder.TRENDING, id="filter-sort",
                             allow_blank=False, prompt="Sort")  # fmt: skip
                yield Select(CATEGORIES, id="filter-category", prompt="Any category")
                yield Select(SIZES, id="filter-size", prompt="Any size")
                yield Input(placeholder="Author", id="filter-author")
                yield Input(placeholder="Base model", id="filter-base")
            with Vertical(id="discover-main"):
                with Horizontal(id="discover-status-row"):
                    yield Static("", id="discover-status")
                    yield LimitPill(id="discover-usage")
                yield Static("", id="discover-facets")
                yield FittedTable(
                    flexible={"Model", "License"},
                    id="discover-results",
                    cursor_type="row",
                    zebra_stripes=True,
                )
                with Horizontal(id="discover-details"):
                    yield Static("", id="discover-card")
                    yield FittedTable(flexible={"Quant"}, id="discover-variants", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Discover"
        self.query_one("#discover-results", DataTable).add_columns(*RESULT_COLUMNS)
        self.query_one("#discover-variants", DataTable).add_columns(*VARIANT_COLUMNS)
        self.query_one("#discover-filters").display = self.app.size.width >= 100

    async def on_screen_resume(self) -> None:
        await self.ready()
        if not self.models:
            self.action_trending()

    # -- searching -------------------------------------------------------------------------

    def build_query(self) -> ModelSearchQuery:
        def text(widget_id: str) -> str | None:
            return self.query_one(widget_id, Input).value.strip() or None

        def chosen(widget_id: str) -> object:
            value = self.query_one(widget_id, Select).value
            return None if value is Select.BLANK else value

        category = chosen("#filter-category")
        size = chosen("#filter-size")
        sort = chosen("#filter-sort")
        return ModelSearchQuery(
            query=text("#discover-query"),
            author=text("#filter-author"),
            base_model=text("#filter-base"),
            only_gguf=self.query_one("#filter-gguf", Checkbox).value or None,
            only_compatible=self.query_one("#filter-fits", Checkbox).value,
            category=category if isinstance(category, ModelCategory) else None,
            max_size=size if isinstance(size, ModelSizeCategory) else None,
            sort=sort if isinstance(sort, ModelSortOrder) else ModelSortOrder.TRENDING,
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.query_one("#discover-results", DataTable).focus()
        self.run_search(self.build_query())

    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _filter_changed(self) -> None:
        if self.is_mounted and self.models:
            self.run_search(self.build_query())

    def run_search(self, query: ModelSearchQuery) -> None:
        self._search(query, f"Searching for {markup_safe(query.query or 'everything')}…")

    def action_trending(self) -> None:
        self._search(ModelSearchQuery(only_gguf=True), "Loading trending models…", trending=True)

    @work(exclusive=True, group="discover-search")
    async def _search(self, query: ModelSearchQuery, waiting: str, trending: bool = False) -> None:
        services = await self.ready()
        self._status(waiting)
        try:
            result = await services.discovery.search(query, self.registry)
        except (RegistryError, EditionRefusal) as exc:  # a refusal says which tier or limit
            self._status(f"[red]{markup_safe(str(exc), 600)}[/]")
            await self.show_usage()
            return
        await self.show_usage()
        headline = f"{len(result.models)} models"
        if self.registry is ModelRegistryType.OLLAMA_LIBRARY:
            what = "Popular in the Ollama library" if trending else "Ollama library"
            headline = f"{what}: {len(result.models)} models"
        elif trending:
            headline = f"Trending: {len(result.models)} GGUF models"
        for gone in result.unavailable:  # the others' results are shown all the same
            headline += f" · [red]{markup_safe(f'{gone.registry} unavailable: {gone.reason}')}[/]"
        await self._show_results(result, headline)

    async def show_usage(self) -> None:
        """The Hub searches used today against the edition's daily limit (where one applies)."""
        usage = await hub_searches(await self.ready())
        self.query_one("#discover-usage", LimitPill).show(usage)

    async def _show_results(self, result: ModelSearchResult, headline: str) -> None:
        services = await self.ready()
        self.models = list(result.models)
        self.badges = {result_key(m): await services.discovery.badge(m) for m in self.models}
        if result.cached_age_seconds is not None:
            headline += f" · offline, from cache {result.cached_age_seconds / 60:.0f} min old"
        self._status(headline)
        # The Hub's facets; for a registry without them, where its list comes from.
        limits = services.discovery.limitations(self.registry)
        below = facets_text(result.facets) or (markup_safe(limits[0], 300) if limits else "")
        self.query_one("#discover-facets", Static).update(below)
        table = self.query_one("#discover-results", DataTable)
        # A Registry column only when there are registries beside the Hub to tell apart.
        labelled = bool(services.discovery.custom)
        table.clear(columns=True)
        table.add_columns(*RESULT_COLUMNS, *(("Registry",) if labelled else ()))
        for m in self.models:
            # A library model comes in several sizes: all are listed, the badge rates the least.
            params = ", ".join(sizes_of(m)) or m.parameter_count or "?"
            where = (plain(m.registry_name or "?", 32),) if labelled else ()
            table.add_row(
                badge_cell(self.badges[result_key(m)]), plain(m.id, 100),
                plain(params, 24), f"{m.downloads:,}", f"{m.likes:,}",
                plain(m.license or "?", 40), *where, key=result_key(m),
            )  # fmt: skip

    # -- details ---------------------------------------------------------------------------

    def selected_model(self) -> RemoteModel | None:
        table = self.query_one("#discover-results", DataTable)
        if not self.models or table.cursor_row >= len(self.models):
            return None
        return self.models[table.cursor_row]

    @on(DataTable.RowHighlighted, "#discover-results")
    def _model_highlighted(self) -> None:
        model = self.selected_model()
        if model is not None:
            self.load_details(model)

    @work(exclusive=True, group="discover-details")
    async def load_details(self, model: RemoteModel) -> None:
        services = await self.ready()
        card = self.query_one("#discover-card", Static)
        card.update(f"Loading {markup_safe(model.id)}…")
        try:
            # From the registry the result came from (the Hub, or one configured beside it).
            details = await services.discovery.details(
                model.id, self.registry, registry_name=model.registry_name
            )
        except RegistryError as exc:
            card.update(f"[red]{markup_safe(str(exc), 600)}[/]")
            return
        self.details = details
        card.update(details_text(details))
        variants = self.query_one("#discover-variants", DataTable)
        # Columns too: widths fit this model's variants, not the widest model shown before.
        variants.clear(columns=True)
        variants.add_columns(*VARIANT_COLUMNS)
        for fit in details.variants:
            variants.add_row(*variant_cells(fit), key=fit.variant.variant_id)

    # -- actions ---------------------------------------------------------------------------

    def gated_action(self, binding_id: str) -> Action | None:
        # Searching the Ollama library is Core's; only the Hub's searches are gated.
        action = super().gated_action(binding_id)
        if action is Action.SEARCH_HUB and self.registry is not ModelRegistryType.HUGGING_FACE:
            return None
        return action

    def action_focus_search(self) -> None:
        self.query_one("#discover-query", Input).focus()

    def action_leave_input(self) -> None:
        self.query_one("#discover-results", DataTable).focus()

    def action_focus_variants(self) -> None:
        self.query_one("#discover-variants", DataTable).focus()

    def action_switch_registry(self) -> None:
        """The Hub and the Ollama library (opening on its popular list); the library's limits
        are said, not hidden."""
        services = self.services
        kinds = list(services.discovery.registries)
        self.registry = kinds[(kinds.index(self.registry) + 1) % len(kinds)]
        name = services.discovery.registry(self.registry).name
        self.query_one("#discover-query", Input).placeholder = f"Search {name} (Enter)"
        self.models = []
        self.query_one("#discover-results", DataTable).clear()
        self.refresh_bindings()  # the search keys' tier pills depend on the registry
        self.action_trending()

    def action_analyse_all(self) -> None:
        if not self.models:
            self.notify("Nothing to analyse: search first.", severity="warning")
            return
        discovery = self.services.discovery
        self.app.push_screen(
            AnalyseAllScreen(discovery, self.models, labelled=bool(discovery.custom))
        )

    def action_toggle_filters(self) -> None:
        panel = self.query_one("#discover-filters")
        panel.display = not panel.display

    @work(exclusive=True, group="discover-download")
    async def action_download(self) -> None:
        details = self.details
        if details is None or not details.variants:
            self.notify("Pick a model with a downloadable variant first.", severity="warning")
            return
        table = self.query_one("#discover-variants", DataTable)
        fit = details.variants[min(table.cursor_row, len(details.variants) - 1)]
        services = await self.ready()
        custom = services.discovery.custom.get(details.model.registry_name or "")
        if custom is not None:  # its own token (token_env) opens it, never the Hub's
            has_token = custom.token() is not None
            refusal = gated_without_registry_token(details.model, custom.spec, has_token=has_token)
        else:
            refusal = gated_without_token(details.model, has_token=hub_token_set(services.config))
        if refusal:
            self.notify(markup_safe(refusal, 600), severity="error", timeout=12)
            return
        if fit.level is CompatibilityLevel.INCOMPATIBLE:
            question = ConfirmDialog("It does not fit", does_not_fit_text(fit), "Download anyway")
            if not await self.app.push_screen_wait(question):
                self.notify(f"{markup_safe(fit.variant.filename)} was not queued.")
                return
        try:
            queued = await services.discovery.download(details.model, fit.variant)
        except (DownloadRequestError, RegistryError) as exc:
            self.notify(markup_safe(str(exc), 600), severity="error")
            return
        self.notify(
            f"Queued {markup_safe(fit.variant.filename)} ({format_bytes(queued.total_bytes)}) "
            "in Downloads (5)."
        )

    def _status(self, markup: str) -> None:
        self.query_one("#discover-status", Static).update(markup)
