"""``python -m steerable.cryoem``: see :mod:`steerable.cryoem._cli`."""

import sys

from ._cli import main

sys.exit(main())
