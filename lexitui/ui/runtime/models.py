"""The Runtime area's table of loaded models: one row per load, the active one marked.

Rows are keyed by load id (a model loaded twice with different options is two rows), and the
cursor stays on the same load across refreshes, so a refresh every few seconds never moves it
under the user's hands.
"""

from __future__ import annotations

from lexitui.domain.inference import LoadedModel
from lexitui.ui.runtime.format import MODEL_COLUMNS, model_row
from lexitui.ui.widgets.fitted_table import FittedTable


class LoadedModelsTable(FittedTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(flexible={"Model"}, id=id, cursor_type="row", zebra_stripes=True)
        self.models: list[LoadedModel] = []

    def on_mount(self) -> None:
        self.add_columns(*MODEL_COLUMNS)

    def show(self, models: list[LoadedModel], active_id: str | None) -> None:
        kept = self.highlighted_id
        self.models = models
        self.clear()
        for model in models:
            self.add_row(*model_row(model, model.id == active_id), key=model.id)
        ids = [m.id for m in models]
        if kept in ids:
            self.move_cursor(row=ids.index(kept))
        elif active_id in ids:
            self.move_cursor(row=ids.index(active_id))

    @property
    def highlighted(self) -> LoadedModel | None:
        if not self.models or not 0 <= self.cursor_row < len(self.models):
            return None
        return self.models[self.cursor_row]

    @property
    def highlighted_id(self) -> str | None:
        model = self.highlighted
        return model.id if model else None
