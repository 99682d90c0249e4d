"""``python -m lexitui`` is the same as the ``lexitui`` command."""

import sys

from lexitui.cli import main

sys.exit(main())
