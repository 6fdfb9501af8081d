"""FieldType: the representation of G on the channels of a feature field."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import torch
from scipy import sparse

from steerable.group import GroupElement, Representation, directsum


class FieldType:
    """A feature field type: a gspace and a list of representations, one per field.

    The channels of a tensor of this type are the fields' channels, concatenated in order.

    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(8)
    >>> ft = nn.FieldType(gs, [gs.regular_repr] * 3 + [gs.trivial_repr])
    >>> ft.size, len(ft)
    (25, 4)
    """

    def __init__(self, gspace, representations: Sequence[Representation]):
        from steerable.gspaces import GSpace

        if not isinstance(gspace, GSpace):
            raise TypeError(f"gspace: expected a steerable GSpace, got {type(gspace).__name__}")
        reps = list(representations) if not isinstance(representations, Representation) else [representations]
        if not reps:
            raise ValueError("representations: expected at least one representation, got an empty list")
        for r in reps:
            if not isinstance(r, Representation):
                raise TypeError(f"representations: expected Representations, got {type(r).__name__}")
            if r.group != gspace.fibergroup:
                raise ValueError(
                    f"representations: {r!r} is a representation of {r.group.name}, but the gspace's "
                    f"group is {gspace.fibergroup.name}"
                )
        self.gspace = gspace
        self.representations = tuple(reps)
        self.size = int(sum(r.size for r in reps))
        sizes = np.array([r.size for r in reps], dtype=np.int64)
        self._fields_end = np.cumsum(sizes)
        self._fields_start = self._fields_end - sizes
        self._uniform = all(r == reps[0] for r in reps[1:])

    @property
    def fibergroup(self):
        """The fibre group of the gspace."""
        return self.gspace.fibergroup

    @property
    def uniform(self) -> bool:
        """Whether every field has the same representation."""
        return self._uniform

    @property
    def fields_start(self) -> np.ndarray:
        """Index of the first channel of each field (int array)."""
        return self._fields_start

    @property
    def fields_end(self) -> np.ndarray:
        """Index one past the last channel of each field (int array)."""
        return self._fields_end

    def fields_names(self) -> list[str]:
        """The names of the fields' representations, in order."""
        return [r.name for r in self.representations]

    # -- structure ---------------------------------------------------------------------------
    @cached_property
    def fiber_representation(self) -> Representation:
        """The direct sum of the fields' representations."""
        return directsum(list(self.representations), name=f"fiber[{len(self)}]")

    @property
    def representation(self) -> Representation:
        """escnn's name for ``fiber_representation``."""
        return self.fiber_representation

    @property
    def irreps(self) -> list:
        out: list = []
        for r in self.representations:
            out += r.irreps
        return out

    @property
    def change_of_basis(self) -> sparse.coo_matrix:
        """The block-diagonal change of basis to irreps (one block per field), as escnn: a
        ``scipy.sparse`` COO matrix."""
        return sparse.block_diag([np.asarray(r.change_of_basis) for r in self.representations], format="coo")

    @property
    def change_of_basis_inv(self) -> sparse.coo_matrix:
        """The inverse of :attr:`change_of_basis` (sparse, block diagonal)."""
        return sparse.block_diag([np.asarray(r.change_of_basis_inv) for r in self.representations], format="coo")

    def get_dense_change_of_basis(self) -> torch.Tensor:
        """:attr:`change_of_basis` as a dense float32 torch tensor (a copy)."""
        return torch.tensor(self.change_of_basis.toarray(), dtype=torch.float32)

    def get_dense_change_of_basis_inv(self) -> torch.Tensor:
        """:attr:`change_of_basis_inv` as a dense float32 torch tensor (a copy)."""
        return torch.tensor(self.change_of_basis_inv.toarray(), dtype=torch.float32)

    @property
    def testing_elements(self):
        """The gspace's exact symmetries of the grid (the elements equivariance checks use)."""
        gs = self.gspace
        return getattr(gs, "exact_testing_elements", gs.testing_elements)

    def __len__(self) -> int:
        return len(self.representations)

    def __iter__(self):
        return iter(self.representations)

    def __add__(self, other: FieldType) -> FieldType:
        if not isinstance(other, FieldType):
            return NotImplemented
        if other.gspace != self.gspace:
            raise ValueError(f"other: field types of different gspaces ({self.gspace} and {other.gspace})")
        return FieldType(self.gspace, self.representations + other.representations)

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, FieldType)
            and self.gspace == other.gspace
            and self.representations == other.representations
        )

    def __hash__(self) -> int:
        return hash((self.gspace, self.representations))

    def __repr__(self) -> str:
        names = ", ".join(r.name for r in self.representations[:4])
        more = ", ..." if len(self) > 4 else ""
        return f"[{self.gspace.name}: {{{names}{more}}} ({len(self)} fields, {self.size} channels)]"

    def index_select(self, index: Iterable[int]) -> FieldType:
        """The field type of the fields ``index`` (in that order)."""
        idx = [int(i) for i in index]
        for i in idx:
            if not -len(self) <= i < len(self):
                raise ValueError(f"index: field {i} out of range for {len(self)} fields")
        return FieldType(self.gspace, [self.representations[i] for i in idx])

    def channel_indices(self, fields: Iterable[int]) -> torch.Tensor:
        """Channel indices (long tensor) of the given fields."""
        idx = [np.arange(self.fields_start[f], self.fields_end[f]) for f in fields]
        return torch.as_tensor(np.concatenate(idx) if idx else np.zeros(0, int), dtype=torch.long)

    def sorted(self) -> FieldType:
        """The same fields, grouped by representation (stable, by first appearance)."""
        order = self._sort_permutation()
        return self.index_select(order)

    def _sort_permutation(self) -> list[int]:
        first: dict = {}
        for i, r in enumerate(self.representations):
            first.setdefault(r, i)
        return sorted(range(len(self)), key=lambda i: (first[self.representations[i]], i))

    def group_by_labels(self, labels: Sequence[str]) -> OrderedDict[str, FieldType]:
        """Split into one field type per label (``labels[i]`` is field i's label)."""
        labels = list(labels)
        if len(labels) != len(self):
            raise ValueError(f"labels: expected {len(self)} labels (one per field), got {len(labels)}")
        out: OrderedDict[str, list] = OrderedDict()
        for lab, r in zip(labels, self.representations):
            out.setdefault(lab, []).append(r)
        return OrderedDict((k, FieldType(self.gspace, v)) for k, v in out.items())

    def restrict(self, id: Any) -> FieldType:
        """The field type seen by the subgroup ``id`` of the fibre group (same channels)."""
        sub, _, _ = self.gspace.restrict(id)
        reps = [self.gspace.fibergroup.restrict_representation(id, r) for r in self.representations]
        return FieldType(sub, reps)

    # -- transforms ---------------------------------------------------------------------------
    def _check_element(self, g: GroupElement) -> None:
        if not isinstance(g, GroupElement):
            raise TypeError(f"element: expected a GroupElement, got {type(g).__name__}")
        if g.group != self.gspace.fibergroup:
            raise ValueError(
                f"element: expected an element of {self.gspace.fibergroup.name}, got one of {g.group.name}"
            )

    def fiber_matrix(self, g: GroupElement, like: torch.Tensor | None = None) -> torch.Tensor:
        self._check_element(g)
        m = torch.as_tensor(self.fiber_representation(g))
        if like is not None:
            m = m.to(device=like.device, dtype=like.dtype)
        return m

    def transform_fibers(self, input: torch.Tensor, element: GroupElement) -> torch.Tensor:
        """Apply ρ(g) to every fibre (channel axis 1), leaving the base space alone."""
        m = self.fiber_matrix(element, input)
        if input.dim() == 1:
            return m @ input
        b, c = input.shape[:2]
        return torch.matmul(m, input.reshape(b, c, -1)).reshape(b, m.shape[0], *input.shape[2:])

    def transform(self, input: torch.Tensor, element: GroupElement, coords: torch.Tensor | None = None, order: int = 2):
        """``(g·f)(x) = ρ(g) f(g⁻¹x)``: fibres and base space (exact index permutations for the
        grid's symmetries, spline interpolation of degree ``order`` otherwise). For point clouds
        (``coords`` given) the points move instead: returns ``(features, g·coords)``."""
        out = self.transform_fibers(input, element)
        if coords is not None:
            return out, self.gspace.transform_points(coords, element)
        if self.gspace.dimensionality == 0:
            return out
        return self.gspace.transform_signal(out, element, order=order)

    def __call__(self, tensor: torch.Tensor, coords: torch.Tensor | None = None):
        from ._geometric_tensor import GeometricTensor

        return GeometricTensor(tensor, self, coords)

    def __reduce__(self):
        return (FieldType, (self.gspace, list(self.representations)))
