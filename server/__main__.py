"""``python -m server`` is the ``zvonok`` command."""

import sys

from .cli import main

sys.exit(main())
