"""``python -m steerable`` (and ``torchrun -m steerable``): the ``steerable`` command."""

import sys

from steerable.cli import main

if __name__ == "__main__":
    sys.exit(main())
