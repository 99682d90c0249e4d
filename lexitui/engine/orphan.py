"""An engine must not outlive the lexitui that started it.

The embedded child watches its parent itself; a llama-server binary does not. On Linux the kernel
can send the child SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), which also covers a
parent killed with SIGKILL, where no clean-up code of ours runs. Elsewhere there is no such
call, and an engine left behind is found by ``lexitui ps`` from its state file.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A function for the child to run before it starts its program, or None on other systems."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def arm() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the call: follow it now
            os.kill(os.getpid(), signal.SIGTERM)

    return arm
