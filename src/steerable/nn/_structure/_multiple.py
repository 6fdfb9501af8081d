"""MultipleModule: one module per label of the fields, outputs concatenated (escnn's ``MultipleModule``)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type
from ._branching import BranchingModule
from ._merge import MergeModule, _module_input_types, _normalise_modules

__all__ = ["MultipleModule"]


class MultipleModule(EquivariantModule):
    """Splits the fields by label, applies one module per label (or list of labels) and
    concatenates the results: a ``BranchingModule`` followed by a ``MergeModule`` (escnn's
    ``MultipleModule``).

    ``labels[i]`` labels field i; ``modules`` is a list of ``(module, label)`` or
    ``(module, [labels])`` pairs whose input types must be the branches' types. Fields whose
    label no module uses are dropped. ``reshuffle`` as in ``BranchingModule``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import MultipleModule, IdentityModule
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.regular_repr])
    >>> ta, tb = nn.FieldType(gs, [gs.regular_repr] * 2), nn.FieldType(gs, [gs.trivial_repr])
    >>> m = MultipleModule(t, ["a", "b", "a"], [(nn.R2Conv(ta, ta, 3, padding=1), "a"), (IdentityModule(tb), "b")])
    >>> m(t(torch.randn(1, 9, 7, 7))).shape
    torch.Size([1, 9, 7, 7])
    """

    def __init__(
        self,
        in_type: FieldType,
        labels: Sequence[str],
        modules: Sequence[tuple[EquivariantModule, str | Sequence[str]]],
        reshuffle: int = 0,
    ):
        super().__init__()
        check_field_type(in_type)
        pairs = _normalise_modules(modules)
        branching = BranchingModule(in_type, labels, reshuffle=reshuffle)
        for m, labs in pairs:
            for lab, t in zip(labs, _module_input_types(m, labs)):
                if lab not in branching.out_type:
                    raise ValueError(
                        f"modules: label {lab!r} of {type(m).__name__} is not among the fields' labels {sorted(set(labels))}"
                    )
                if t != branching.out_type[lab]:
                    raise ValueError(
                        f"modules: {type(m).__name__} expects {t!r} for label {lab!r}, but the fields with that label "
                        f"form {branching.out_type[lab]!r}"
                    )
        self.in_type = in_type
        self.gspace = in_type.gspace
        self.branching = branching
        self.merging = MergeModule(pairs)
        self.out_type = self.merging.out_type

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        return self.merging(self.branching(x))

    def _grid_output_size(self, n: int) -> int | None:
        return self.merging._grid_output_size(n)

    # escnn's signature: full_space_action is the third positional argument
    def check_equivariance(  # type: ignore[override]
        self,
        atol: float = 2e-6,
        rtol: float = 1e-5,
        full_space_action: bool = True,
        assertion: bool = True,
        verbose: bool = False,
        device: str = "cpu",
        *,
        x=None,
        spatial: int | None = None,
        batch: int = 2,
    ) -> list:
        """As :meth:`EquivariantModule.check_equivariance` (escnn's defaults). With
        ``full_space_action=False`` only the fibres are transformed (the grid is left alone)."""
        if full_space_action:
            return self._check_equivariance(atol, rtol, assertion, verbose, device, x=x, spatial=spatial, batch=batch)
        self._fibers_only = True
        try:
            return self._check_equivariance(atol, rtol, assertion, verbose, device, x=x, spatial=spatial, batch=batch)
        finally:
            del self._fibers_only

    def evaluate_output_shape(self, input_shape) -> tuple:
        return self.merging.evaluate_output_shape(self.branching.evaluate_output_shape(input_shape))

    def export(self) -> torch.nn.Sequential:
        """``Sequential(branch, merge)`` of plain modules."""
        return torch.nn.Sequential(OrderedDict(branching=self.branching.export(), merging=self.merging.export()))
