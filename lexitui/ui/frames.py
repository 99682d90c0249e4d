"""Which box glyphs the terminal can draw: rounded frames normally, ASCII on the Linux console.

The Linux virtual console (``TERM=linux``) draws with a 256- or 512-glyph font that lacks the
rounded corners and the thin block elements Textual's frames and fields use; they come out as
diamonds or blanks. There every frame is drawn with ``+``, ``-`` and ``|``. The style sheets say
``border: $frame`` (and ``$rule`` for a single line) so the choice is made once, here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Textual border kinds that need nothing but ASCII.
ASCII_SAFE = frozenset({"", "none", "hidden", "blank", "ascii"})


def console_lacks_box_glyphs(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("TERM", "") == "linux"


def frame_variables(ascii_only: bool) -> dict[str, str]:
    """CSS variables: ``$frame`` for a panel's box, ``$rule`` for a line between two parts."""
    if ascii_only:
        return {"frame": "ascii", "rule": "ascii"}
    return {"frame": "round", "rule": "solid"}
