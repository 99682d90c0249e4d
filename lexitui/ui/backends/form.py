"""The form that adds a custom endpoint: name, base URL, flavour, and an API-key variable name.

Only the *name* of an environment variable is stored, never a key: the key stays in the user's
environment and is read when a request is made.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from lexitui.domain.enums import InferenceBackendType

FormResult = tuple[str, str, str, str]
FLAVOURS = [t for t in InferenceBackendType]


class BackendForm(ModalScreen[FormResult | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="backend_form.cancel"),
        Binding("ctrl+s", "save", "Save", id="backend_form.save"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="backend-form"):
            yield Static("[b]Add an endpoint[/b]  (Enter or Ctrl+S saves, Esc cancels)")
            yield Label("Name (letters, digits, - and _)")
            yield Input(placeholder="my-server", id="form-name")
            yield Label("Base URL")
            yield Input(placeholder="http://127.0.0.1:8000", id="form-url")
            yield Label("Kind of server")
            yield Select(
                [(t.value, t.value) for t in FLAVOURS],
                value=InferenceBackendType.CUSTOM.value,
                allow_blank=False,
                id="form-type",
            )
            yield Label("API key: the name of the environment variable that holds it (optional)")
            yield Input(placeholder="MY_SERVER_API_KEY", id="form-key-env")

    def on_mount(self) -> None:
        self.query_one("#form-name", Input).focus()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        kind = self.query_one("#form-type", Select).value
        self.dismiss(
            (
                self.query_one("#form-name", Input).value.strip(),
                self.query_one("#form-url", Input).value.strip(),
                str(kind),
                self.query_one("#form-key-env", Input).value.strip(),
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
