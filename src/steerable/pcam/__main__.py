"""``python -m steerable.pcam``: see :mod:`steerable.pcam._cli`."""

import sys

from ._cli import main

sys.exit(main())
