"""Errors of the inference runtime; each message tells a user what happened and what to do."""

from __future__ import annotations


class RuntimeErrorBase(RuntimeError):
    pass


class NoModelLoaded(RuntimeErrorBase):
    """Nothing is loaded (or the named model is not): load one first."""


class GenerationError(RuntimeErrorBase):
    """The engine refused a request or broke its stream; ``retryable`` when nothing was
    answered yet and sending it again may work (the engine was busy or restarting)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ModelDoesNotFit(RuntimeErrorBase):
    """Loading would exceed the memory budget; ``evictable`` lists idle models (least recently
    used first) whose unloading would make room, empty when even that is not enough."""

    def __init__(self, message: str, evictable: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.evictable = evictable


class SnapshotError(RuntimeErrorBase):
    """A context snapshot could not be saved or restored; the message says why."""
