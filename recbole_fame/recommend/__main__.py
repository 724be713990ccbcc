"""``python -m recbole_fame.recommend``: see :mod:`recbole_fame.recommend.cli`."""

import sys

from recbole_fame.recommend.cli import main

sys.exit(main())
