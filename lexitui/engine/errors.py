"""What goes wrong with engines, as exceptions whose message is the whole story for the user."""

from __future__ import annotations


class EngineError(RuntimeError):
    """The engine could not start or stopped unexpectedly; the message says why."""


class EngineNotFound(EngineError):
    """A named engine is not there (or is not a program); the message says where to look."""
