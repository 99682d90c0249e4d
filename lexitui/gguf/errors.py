"""The one error type for GGUF input we cannot accept, whatever is wrong with it."""

from __future__ import annotations


class GgufError(ValueError):
    """A malformed, hostile or unsupported GGUF file (or a failed read of one).

    The message is one human line, fit to print after ``lexitui:`` with no traceback: callers
    catch this one type instead of the assortment of struct, Unicode, OS and HTTP errors that a
    parser would otherwise leak.
    """


class GgufFetchError(GgufError):
    """The file could not be fetched (an HTTP status, the network, a misbehaving server): this
    says nothing about its bytes, unlike a refused header."""
