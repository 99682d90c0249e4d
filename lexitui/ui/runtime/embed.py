"""The embeddings tester of the Runtime area: embed two texts with a loaded model and compare them.

It shows what a user needs to trust a model's vectors before wiring it into something: the
dimensions, each vector's norm (1.000 when the engine normalises), the first few values and the
cosine similarity of the pair. The engine only serves embeddings when the model was loaded with
them, so that and "nothing loaded" are shown as plain sentences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from lexitui.domain.inference import LocalEmbeddingRequest, LocalEmbeddingResult
from lexitui.domain.text import safe_text
from lexitui.runtime.errors import NoModelLoaded
from lexitui.ui.runtime.load_dialog import app_services

FIRST_VALUES = 6


def norm(vector: Sequence[float]) -> float:
    return math.sqrt(math.fsum(v * v for v in vector))


def cosine(a: Sequence[float], b: Sequence[float]) -> float | None:
    """None for a zero vector, whose direction (and so similarity) is undefined."""
    na, nb = norm(a), norm(b)
    if na == 0 or nb == 0:
        return None
    return math.fsum(x * y for x, y in zip(a, b, strict=True)) / (na * nb)


def describe(result: LocalEmbeddingResult) -> Text:
    text = Text()
    tokens = f" · {result.total_tokens} tokens" if result.total_tokens else ""
    text.append(f"{result.dimensions} dimensions{tokens}\n", style="bold")
    for name, vector in zip("AB", result.embeddings, strict=False):
        first = ", ".join(f"{v:+.4f}" for v in vector[:FIRST_VALUES])
        text.append(f"{name}: norm {norm(vector):.3f}  [{first}, …]\n")
    if len(result.embeddings) >= 2:
        similarity = cosine(result.embeddings[0], result.embeddings[1])
        shown = "undefined (a zero vector)" if similarity is None else f"{similarity:.3f}"
        text.append(f"Cosine similarity: {shown}", style="bold")
    return text


class EmbeddingsTester(ModalScreen[None]):
    DEFAULT_CSS = """
    EmbeddingsTester { align: center middle; }
    #embed-box {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: $frame $accent; background: $surface; padding: 0 1;
    }
    #embed-model { color: $text-muted; }
    #embed-result { height: auto; min-height: 4; margin-top: 1; }
    #embed-result.error { color: $error; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="embeddings.close"),
    ]

    def __init__(self, model: str | None = None) -> None:
        """``model`` is a load id or model id; None embeds with the active model."""
        super().__init__()
        self.model = model
        self.result: LocalEmbeddingResult | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="embed-box"):
            yield Static("", id="embed-model")
            yield Label("Text A")
            yield Input(placeholder="A first text to embed", id="embed-a")
            yield Label("Text B")
            yield Input(placeholder="A second text to compare with it", id="embed-b")
            yield Static("Type two texts and press Enter.", id="embed-result")

    def on_mount(self) -> None:
        box = self.query_one("#embed-box")
        box.border_title = "Embeddings"
        box.border_subtitle = "Enter embeds · Tab next text · Esc closes"
        self.query_one("#embed-a", Input).focus()
        self.show_model()

    @work(exclusive=True, group="embed-model")
    async def show_model(self) -> None:
        runtime = (await app_services(self)).runtime
        label = self.query_one("#embed-model", Static)
        try:
            loaded = runtime.engine(self.model).snapshot()
        except NoModelLoaded as exc:
            label.update(Text(f"{safe_text(str(exc))}: there is nothing to embed with yet"))
            return
        with_embeddings = "" if loaded.options.embedding else " (loaded without embeddings)"
        label.update(Text(f"Model: {safe_text(loaded.model.name)}{with_embeddings}"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        texts = (
            self.query_one("#embed-a", Input).value.strip(),
            self.query_one("#embed-b", Input).value.strip(),
        )
        if not all(texts):
            self._show(Text("Type a text in both fields, then press Enter."), error=True)
            self.query_one("#embed-b" if texts[0] else "#embed-a", Input).focus()
            return
        self.embed(texts)

    @work(exclusive=True, group="embed")
    async def embed(self, texts: tuple[str, str]) -> None:
        self._show(Text("Embedding…"))
        runtime = (await app_services(self)).runtime
        request = LocalEmbeddingRequest(texts=texts, normalize=True)
        try:
            result = await runtime.embed(request, model=self.model)
        except Exception as exc:  # nothing loaded, no embeddings, the engine died: say which
            self.result = None
            self._show(Text(f"Cannot embed: {safe_text(str(exc), 300)}"), error=True)
            return
        self.result = result
        self._show(describe(result))

    def _show(self, text: Text, *, error: bool = False) -> None:
        result = self.query_one("#embed-result", Static)
        result.update(text)
        result.set_class(error, "error")

    def action_close(self) -> None:
        self.dismiss(None)
