"""escnn's exceptions of the group package."""

from __future__ import annotations

from typing import Any


class InsufficientIrrepsException(Exception):
    """A computation needs irreps beyond those available (e.g. a band limit too low).

    >>> from steerable.group import so2_group, InsufficientIrrepsException
    >>> str(InsufficientIrrepsException(so2_group(2), "raise L"))
    'SO(2): raise L'
    """

    def __init__(self, G: Any, message: str | None = None):
        self.G = G
        self.message = message if message is not None else "not enough irreps"
        super().__init__(f"{getattr(G, 'name', G)}: {self.message}")


class UnderconstrainedCGSystem(Exception):
    """A numerical Clebsch–Gordan solve had too few samples to fix the coefficients
    (steerable's solvers are exact and do not raise it; kept for escnn code that catches it)."""

    def __init__(
        self,
        G: Any,
        J: tuple,
        l: tuple,
        j: tuple,
        S: int,
        message: str = "The algorithm to compute the CG coefficients failed due to an "
        "unsufficient number of samples to constraint the problem",
    ):
        self.G, self.J, self.l, self.j, self.S = G, J, l, j, S
        self.message = message
        super().__init__(f"{getattr(G, 'name', G)} [{J}, {l}, {j}] ({S}): {message}")
