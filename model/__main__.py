"""``python -m model`` is the ``safestreets`` command."""

import sys

from model.cli import main

sys.exit(main())
