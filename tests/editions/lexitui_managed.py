"""``python -m tests.editions.lexitui_managed SITE_DIR ARGS...``: the ``lexitui`` command on a
machine whose license authority is in SITE_DIR.

Nothing outside a process may move the authority (that is the point of it), so subprocess tests
run lexitui through this module, which moves it in-process as the in-process tests do. When the
tests do not run as root, the test folder's owner stands in for root.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lexitui.editions import authority

if __name__ == "__main__":
    authority.SITE_CONFIG_DIR = Path(sys.argv[1])
    authority.ROOT_UID = os.getuid()
    from lexitui.cli import main

    sys.exit(main(sys.argv[2:]))
