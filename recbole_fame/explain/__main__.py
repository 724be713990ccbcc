"""``python -m recbole_fame.explain``: see :mod:`recbole_fame.explain.cli`."""

import sys

from recbole_fame.explain.cli import main

sys.exit(main())
