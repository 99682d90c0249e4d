"""The Runtime area's sampling parameters: system prompt, sampling figures, output constraints.

``request()`` turns the fields into a ``LocalGenerationRequest`` and checks it with the request's
own ``validate()``, so the panel and the CLI refuse the same values with the same words. A blank
field leaves that setting to its default (the placeholder says which); text that is not a number
is refused by name before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any, TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Select, TextArea

from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.inference import (
    InvalidRequest,
    LocalFormatType,
    LocalGenerationRequest,
    LocalResponseFormat,
)

N = TypeVar("N", int, float)
_DEFAULTS = {f.name: f.default for f in fields(LocalGenerationRequest)}

# (field, label, placeholder): a blank field means the request's default, shown as placeholder.
NUMBERS: tuple[tuple[str, str, str], ...] = (
    ("temperature", "Temperature", str(_DEFAULTS["temperature"])),
    ("top_p", "Top-p", str(_DEFAULTS["top_p"])),
    ("top_k", "Top-k", "engine default"),
    ("min_p", "Min-p", "engine default"),
    ("repetition_penalty", "Repeat pen.", str(_DEFAULTS["repetition_penalty"])),
    ("max_tokens", "Max tokens", "until done"),
    ("seed", "Seed", "random"),
)
INTEGERS = {"top_k", "max_tokens", "seed"}
# Answers stay short unless asked otherwise: a small model can ramble to the end of its context.
START_VALUES = {"max_tokens": "512"}
MODES = [
    ("Text", "text"),
    ("JSON", "json"),
    ("JSON schema", "json_schema"),
    ("GBNF grammar", "grammar"),
]


def _number(label: str, text: str, kind: Callable[[str], N]) -> N | None:
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        word = "a whole number" if kind is int else "a number"
        raise InvalidRequest(f"{label.lower()} must be {word}, not {text!r}") from None


class ParamsPanel(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Label("[b]Parameters[/b] [dim](Esc leaves, p hides)[/]")
        yield Label("System prompt")
        yield Input(placeholder="none", id="param-system", compact=True)
        for name, label, hint in NUMBERS:
            with Horizontal(classes="param-row"):
                yield Label(label, classes="param-label")
                yield Input(
                    START_VALUES.get(name, ""),
                    placeholder=hint,
                    id=f"param-{name.replace('_', '-')}",
                    compact=True,
                )
        with Horizontal(classes="param-row"):
            yield Label("Mirostat", classes="param-label")
            yield Select(
                [("off", 0), ("1", 1), ("2.0", 2)],
                value=0,
                allow_blank=False,
                id="param-mirostat",
                compact=True,
            )
        with Horizontal(classes="param-row"):
            yield Label("Output", classes="param-label")
            yield Select(MODES, value="text", allow_blank=False, id="param-mode", compact=True)
        yield TextArea(id="param-constraint", compact=True, placeholder="JSON schema or grammar")

    def on_mount(self) -> None:
        self.query_one("#param-constraint", TextArea).display = False

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "param-mode":
            shown = event.value in ("json_schema", "grammar")
            self.query_one("#param-constraint", TextArea).display = shown

    @property
    def system_prompt(self) -> str:
        return self.query_one("#param-system", Input).value.strip()

    @system_prompt.setter
    def system_prompt(self, text: str) -> None:
        self.query_one("#param-system", Input).value = text

    def set_value(self, name: str, text: str) -> None:
        """Fill one numeric field (``temperature``, ``seed``…): what a user would type."""
        self.query_one(f"#param-{name.replace('_', '-')}", Input).value = text

    def set_mode(self, mode: str, constraint: str = "") -> None:
        self.query_one("#param-mode", Select).value = mode
        self.query_one("#param-constraint", TextArea).text = constraint

    def request(self, messages: tuple[LocalChatMessage, ...]) -> LocalGenerationRequest:
        """The request for ``messages`` with these settings; raises ``InvalidRequest``."""
        values: dict[str, Any] = {}
        for name, label, _hint in NUMBERS:
            text = self.query_one(f"#param-{name.replace('_', '-')}", Input).value
            value = _number(label, text, int if name in INTEGERS else float)
            if value is not None:
                values[name] = value
        mirostat = self.query_one("#param-mirostat", Select).value
        mode = self.query_one("#param-mode", Select).value
        constraint = self.query_one("#param-constraint", TextArea).text.strip()
        response_format: LocalResponseFormat | None = None
        grammar: str | None = None
        if mode == "json":
            response_format = LocalResponseFormat(LocalFormatType.JSON)
        elif mode == "json_schema":
            response_format = LocalResponseFormat(LocalFormatType.JSON_SCHEMA, constraint or None)
        elif mode == "grammar":
            if not constraint:
                raise InvalidRequest("GBNF grammar mode needs a grammar")
            grammar = constraint
        request = LocalGenerationRequest(
            messages=messages,
            system_prompt=self.system_prompt or None,
            mirostat=mirostat if isinstance(mirostat, int) and mirostat else None,
            format=response_format,
            grammar=grammar,
        )
        request = replace(request, **values)
        request.validate()
        return request
