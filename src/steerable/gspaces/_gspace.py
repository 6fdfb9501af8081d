"""The :class:`GSpace`: a fibre group G acting on a base space R^d (d = 0, 2 or 3).

G acts on R^d through an *ambient* group (O(2) for d = 2, O(3) for d = 3) in which it sits via a
batch-level inclusion of internal values; the base-space matrix of g is the ambient standard
(vector) matrix of its image. A restriction map (ambient batch -> (G batch, mask)) pulls ambient
elements back to G; it finds the elements of G that are exact symmetries of the pixel/voxel grid
(:attr:`GSpace.testing_elements`).
"""
from __future__ import annotations

from functools import cached_property
from typing import Any, Callable, Sequence

import numpy as np
import torch

from steerable.group import Group, GroupElement, Representation

from ._transform import is_signed_permutation, transform_grid

__all__ = ["GSpace"]

BatchMap = Callable[[np.ndarray], np.ndarray]


class GSpace:
    """A group ``fibergroup`` acting linearly on the base space R^``dimensionality``.

    Users build G-spaces with the factories (``rot2dOnR2``, ``flipRot3dOnR3``,
    ``no_base_space``, ...). The generic constructor takes the fibre group, the dimension d, the
    ambient group (``o2_group(mf)`` for d = 2, ``o3_group(mf)`` for d = 3, ``None`` for d = 0),
    ``incl`` (batch of internal fibre values -> batch of internal ambient values), a ``name``,
    ``reduce_args`` = ``(callable, args)`` rebuilding the space when unpickled, and ``restr``
    (ambient batch -> (fibre batch, mask of the ambient elements that lie in the fibre group)).

    G-spaces are values: equal (and equally hashed) when their fibre group, dimension and
    defining key agree, and picklable.

    >>> from steerable.gspaces import rot2dOnR2
    >>> gs = rot2dOnR2(4)
    >>> gs.fibergroup, gs.dimensionality
    (C4, 2)
    >>> gs.basespace_matrices(gs.fibergroup.element(1)).round(12)[0].tolist()
    [[0.0, -1.0], [1.0, 0.0]]
    >>> len(gs.testing_elements)
    4
    """

    def __init__(
        self,
        fibergroup: Group,
        dimensionality: int,
        ambient: Group | None,
        incl: BatchMap | None,
        name: str,
        reduce_args: tuple,
        restr: Callable | None = None,
    ) -> None:
        if not isinstance(fibergroup, Group):
            raise TypeError(f"fibergroup: expected a steerable.group.Group, got {type(fibergroup).__name__}")
        if isinstance(dimensionality, bool) or not isinstance(dimensionality, (int, np.integer)) or int(dimensionality) < 0:
            raise ValueError(f"dimensionality: expected a non-negative integer, got {dimensionality!r}")
        dimensionality = int(dimensionality)
        if dimensionality == 0:
            if ambient is not None or incl is not None:
                raise ValueError("ambient: a 0-dimensional base space has no ambient group (pass None)")
        else:
            if not isinstance(ambient, Group):
                raise TypeError(
                    f"ambient: expected the Group acting on R^{dimensionality}, got {type(ambient).__name__}"
                )
            if not callable(incl):
                raise TypeError(f"incl: expected a callable on batches, got {type(incl).__name__}")
        if restr is not None and not callable(restr):
            raise TypeError(f"restr: expected a callable on batches or None, got {type(restr).__name__}")
        if not isinstance(reduce_args, tuple) or len(reduce_args) != 2 or not callable(reduce_args[0]):
            raise TypeError("reduce_args: expected a pair (callable, args) rebuilding the space")
        self.fibergroup = fibergroup
        self.dimensionality = dimensionality
        self.name = str(name)
        self.basespace = f"R^{dimensionality}"
        self._ambient = ambient
        self._incl = incl
        self._restr = restr
        self._reduce_args = (reduce_args[0], tuple(reduce_args[1]))
        self._eq_key: Any = (self.name, self._reduce_args)
        self._restrict_cache: dict = {}

    # ------------------------------------------------------------------ value semantics
    def __reduce__(self):
        return self._reduce_args

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, GSpace):
            return NotImplemented
        return (
            self.dimensionality == other.dimensionality
            and self.fibergroup == other.fibergroup
            and self._eq_key == other._eq_key
        )

    def __hash__(self) -> int:
        return hash((self.dimensionality, self.fibergroup, self._eq_key))

    def __repr__(self) -> str:
        return self.name

    # ------------------------------------------------------------------ representations
    @property
    def trivial_repr(self) -> Representation:
        """The trivial representation of the fibre group."""
        return self.fibergroup.trivial_representation

    @property
    def regular_repr(self) -> Representation:
        """The regular representation of the fibre group (band-limited for continuous groups)."""
        return self.fibergroup.regular_representation

    def irrep(self, *id: Any):
        """The fibre group's irrep with the given id (see the group's docstring)."""
        return self.fibergroup.irrep(*id)

    @property
    def irreps(self) -> list:
        """The fibre group's irreps (up to its ``maximum_frequency`` for continuous groups)."""
        return self.fibergroup.irreps()

    @property
    def representations(self) -> dict:
        """The fibre group's named representations."""
        return self.fibergroup.representations

    def quotient_repr(self, subgroup_id: Any) -> Representation:
        """The fibre group's quotient representation for the subgroup ``subgroup_id``."""
        return self.fibergroup.quotient_representation(subgroup_id)

    def induced_repr(self, subgroup_id: Any, repr: Representation) -> Representation:
        """The representation induced from ``repr`` of the subgroup ``subgroup_id``."""
        return self.fibergroup.induced_representation(subgroup_id, repr)

    def type(self, *representations: Representation):
        """Shortcut for ``steerable.nn.FieldType(self, list(representations))``."""
        from steerable.nn import FieldType

        if len(representations) == 1 and isinstance(representations[0], (list, tuple)):
            representations = tuple(representations[0])
        return FieldType(self, list(representations))

    # ------------------------------------------------------------------ restriction
    def restrict(self, id: Any):
        """``(subspace, inclusion, restriction)`` for the subgroup ``id`` of the fibre group.

        The subspace has fibre group ``fibergroup.subgroup(id)[0]`` acting on the same base space;
        ``inclusion`` maps its elements into this fibre group, ``restriction`` maps this fibre
        group's elements to it (``None`` outside).

        >>> from steerable.gspaces import flipRot2dOnR2
        >>> sub, inclusion, restriction = flipRot2dOnR2(8).restrict((None, 4))
        >>> sub.fibergroup
        C4
        >>> inclusion(sub.fibergroup.element(1))
        D8[int: (0, 2)]
        """
        H, incl_h, restr_h, key = self.fibergroup._subgroup_data(id)
        _, inclusion, restriction = self.fibergroup.subgroup(id)
        try:
            sub = self._restrict_cache[key]
        except (KeyError, TypeError):
            sub = self._build_restricted(id, H, incl_h, restr_h, key)
            try:
                self._restrict_cache[key] = sub
            except TypeError:  # pragma: no cover - unhashable key
                pass
        return sub, inclusion, restriction

    def _build_restricted(self, id, H, incl_h, restr_h, key) -> "GSpace":
        parent = self
        k = H._identity_value().shape[0]

        def incl(b: np.ndarray) -> np.ndarray:
            return parent._incl(incl_h(b))

        restr = None
        if parent._restr is not None:

            def restr(b: np.ndarray):
                fb, m = parent._restr(b)
                out = np.zeros((b.shape[0], k))
                out[:] = H._identity_value()
                mask = np.zeros(b.shape[0], dtype=bool)
                if np.any(m):
                    hb, m2 = restr_h(fb[m])
                    out[m] = hb
                    mask[m] = m2
                return out, mask

        sub = object.__new__(type(self))
        GSpace.__init__(
            sub,
            H,
            self.dimensionality,
            self._ambient,
            incl,
            f"{H.name}_on_R{self.dimensionality}[{self.name}|{id!r}]",
            (_restricted_gspace, (self, id)),
            restr=restr,
        )
        sub._eq_key = ("restricted", self, key)
        sub._post_restrict(self, key)
        return sub

    def _post_restrict(self, parent: "GSpace", key: Any) -> None:
        """Hook for subclasses to set extra attributes on a restricted space."""

    # ------------------------------------------------------------------ base-space action
    def _basespace_batch(self, batch: np.ndarray) -> np.ndarray:
        """Base-space matrices (n, d, d) of a batch of internal fibre values."""
        n = batch.shape[0]
        if self.dimensionality == 0:
            return np.zeros((n, 0, 0))
        if n == 0:
            return np.zeros((0, self.dimensionality, self.dimensionality))
        return self._ambient._standard_matrices(self._incl(batch))

    def basespace_matrices(self, elements: GroupElement | Sequence[GroupElement]) -> np.ndarray:
        """The d×d matrices (numpy, float64, shape (n, d, d)) by which fibre-group elements act
        on the base space."""
        return self._basespace_batch(self.fibergroup._batch(elements, "elements"))

    def basespace_matrix(self, g: GroupElement) -> np.ndarray:
        """The d×d matrix by which the element ``g`` acts on the base space."""
        self._check_element(g, "g")
        return self._basespace_batch(g._v[None])[0]

    @cached_property
    def basespace_action(self) -> Representation | None:
        """The representation of the fibre group on R^d (``None`` for d = 0)."""
        if self.dimensionality == 0:
            return None
        return self.fibergroup._decompose(self._basespace_batch, 1, "basespace")

    @cached_property
    def _testing_batch(self) -> np.ndarray:
        G = self.fibergroup
        if self.dimensionality == 0:
            if not G.continuous:
                batch = G._all_batch()
            else:
                batch = np.concatenate(
                    [G._identity_value()[None], G._test_batch(), G._sample_batch(4, np.random.default_rng(0))]
                )
        elif not G.continuous:
            batch = G._all_batch()
            mats = self._basespace_batch(batch)
            batch = batch[[is_signed_permutation(m) for m in mats]]
        elif self._restr is not None:
            hb, mask = self._restr(self._grid_symmetries())
            batch = hb[mask]
            mats = self._basespace_batch(batch)
            batch = batch[[is_signed_permutation(m) for m in mats]]
        else:  # no way back from the ambient group: the identity and exact generators
            batch = np.concatenate([G._identity_value()[None], G._test_batch()])
            mats = self._basespace_batch(batch)
            batch = batch[[is_signed_permutation(m) for m in mats]]
        # deduplicate, identity first
        unique: list[np.ndarray] = [G._identity_value()]
        for v in batch:
            if not any(G._equal(v[None], u[None])[0] for u in unique):
                unique.append(v)
        out = np.stack(unique)
        out.setflags(write=False)
        return out

    def _grid_symmetries(self) -> np.ndarray:
        """Internal ambient values of the grid's symmetries (signed permutation matrices); the
        R^2 and R^3 spaces list theirs, a generic space only knows the identity."""
        return self._ambient._identity_value()[None]

    @property
    def testing_elements(self) -> list[GroupElement]:
        """Elements of the fibre group that are exact symmetries of the pixel/voxel grid (their
        base-space matrix is a signed permutation), identity first. For d = 0: all elements of a
        finite group, a few fixed ones of a continuous group."""
        return self.fibergroup._elements_of(self._testing_batch)

    # ------------------------------------------------------------------ transforming data
    def _check_element(self, g: Any, argname: str) -> None:
        if not isinstance(g, GroupElement):
            raise TypeError(f"{argname}: expected a GroupElement of {self.fibergroup.name}, got {type(g).__name__}")
        if g.group != self.fibergroup:
            raise ValueError(
                f"{argname}: expected an element of {self.fibergroup.name}, got one of {g.group.name}"
            )

    def transform_signal(self, tensor: torch.Tensor, g: GroupElement) -> torch.Tensor:
        """Move a signal ``(B, C, *spatial)`` on the base space by ``g``:
        ``output(x) = input(g⁻¹ x)`` (channels untouched; see
        :func:`steerable.gspaces.transform_grid`). For d = 0 the tensor is returned unchanged.

        >>> import torch
        >>> from steerable.gspaces import rot2dOnR2
        >>> gs = rot2dOnR2(4)
        >>> x = torch.arange(4.).reshape(1, 1, 2, 2)
        >>> gs.transform_signal(x, gs.fibergroup.element(1))[0, 0].tolist()
        [[1.0, 3.0], [0.0, 2.0]]
        """
        self._check_element(g, "g")
        if self.dimensionality == 0:
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"tensor: expected a torch.Tensor, got {type(tensor).__name__}")
            return tensor
        return transform_grid(tensor, self._basespace_batch(g._v[None])[0])

    def transform_points(self, coords, g: GroupElement):
        """Move points ``coords`` (N, d) of the base space by ``g``: ``coords @ Mᵀ``.

        Accepts a torch tensor (result on its device and dtype) or a numpy array.

        >>> import torch
        >>> from steerable.gspaces import rot2dOnR2
        >>> gs = rot2dOnR2(4)
        >>> gs.transform_points(torch.tensor([[1.0, 0.0]]), gs.fibergroup.element(1)).round().tolist()
        [[0.0, 1.0]]
        """
        self._check_element(g, "g")
        d = self.dimensionality
        m = self._basespace_batch(g._v[None])[0]
        if isinstance(coords, torch.Tensor):
            if coords.ndim != 2 or coords.shape[1] != d:
                raise ValueError(f"coords: expected a tensor of shape (N, {d}), got {tuple(coords.shape)}")
            dt = coords.dtype if coords.is_floating_point() else torch.get_default_dtype()
            mt = torch.as_tensor(m, dtype=dt, device=coords.device)
            return coords.to(dt) @ mt.T
        if isinstance(coords, np.ndarray):
            if coords.ndim != 2 or coords.shape[1] != d:
                raise ValueError(f"coords: expected an array of shape (N, {d}), got {coords.shape}")
            return coords @ m.T
        raise TypeError(f"coords: expected a torch.Tensor or numpy array of shape (N, {d}), got {type(coords).__name__}")


def _restricted_gspace(parent: GSpace, id: Any) -> GSpace:
    """Rebuild a restricted space (used when unpickling)."""
    return parent.restrict(id)[0]
