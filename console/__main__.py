"""``python -m console`` is the same as ``omc``."""

import sys

from console.cli import main

sys.exit(main())
