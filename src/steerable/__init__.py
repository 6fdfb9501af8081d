"""steerable: group-equivariant steerable neural networks in pure PyTorch.

Subpackages load lazily so that ``import steerable`` is fast:

>>> import steerable
>>> steerable.group.cyclic_group(4).order()
4
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"
__all__ = ["group", "gspaces", "kernels", "nn", "testing", "models", "training", "data"]


def __getattr__(name: str):
    if name in __all__:
        mod = importlib.import_module(f"steerable.{name}")
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'steerable' has no attribute {name!r}")
