"""What a request gets of a model's context when the engine serves several at once.

llama.cpp's server splits its context evenly over its slots (``--parallel``; the cache is not
unified), so with 4 slots of a 4096-token context each request sees 1024 tokens. The fit report,
the load dialog and the router all say so in the same words.
"""

from __future__ import annotations


def context_per_request(context_length: int, parallel: int) -> int:
    return context_length // max(1, parallel)


def context_words(context_length: int, parallel: int) -> str:
    """ "context 4096", or "context 4096 over 4 slots = 1024 per request"."""
    if parallel <= 1:
        return f"context {context_length}"
    each = context_per_request(context_length, parallel)
    return f"context {context_length} over {parallel} slots = {each} per request"


def slots_problem(parallel: int, *, embedding: bool) -> str | None:
    """Why llama.cpp cannot start with these slots, or None. With embeddings on, its pooling
    aborts the engine at load unless the slot count is a power of two (measured: 3, 5, 6 and 12
    abort; 2, 4, 8, 16 and 32 load)."""
    if parallel < 1:
        return "parallel must be 1 or more"
    if embedding and parallel & (parallel - 1):
        return f"with embeddings on, parallel must be a power of two (1, 2, 4, 8…), not {parallel}"
    return None
