"""The :class:`GSpace`: a fibre group G acting on a base space R^d (d = 0, 2 or 3).

G acts on R^d through an *ambient* group (O(2) for d = 2, O(3) for d = 3) in which it sits via a
batch-level inclusion of internal values; the base-space matrix of g is the ambient standard
(vector) matrix of its image. A restriction map (ambient batch -> (G batch, mask)) pulls ambient
elements back to G; it finds the elements of G that are exact symmetries of the pixel/voxel grid
(:attr:`GSpace.exact_testing_elements`).

Testing elements. :attr:`GSpace.testing_elements` is escnn's list: every element of a finite
group (e.g. all 16 of D_8, although only the multiples of 90° move pixels onto pixels) and a
fixed finite set for continuous groups (52 rotations for SO(2), 104 elements for O(2), the 60
rotations of the icosahedron for SO(3), ...). :attr:`GSpace.exact_testing_elements` keeps only
the elements whose base-space matrix is a signed permutation (exact symmetries of the grid): use
it where a check compares transformed grids to ~1e-6.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import torch

from steerable.group import Group, GroupElement, Representation

from ._transform import is_signed_permutation, transform_grid

__all__ = ["GSpace"]

BatchMap = Callable[[np.ndarray], np.ndarray]


class GSpace:
    """A group ``fibergroup`` acting linearly on the base space R^``dimensionality``.

    Users build G-spaces with the factories (``rot2dOnR2``, ``flipRot3dOnR3``,
    ``no_base_space``, ...). The generic constructor takes escnn's ``(fibergroup,
    dimensionality, name)`` and, for d > 0, the ambient group (``o2_group(mf)`` for d = 2,
    ``o3_group(mf)`` for d = 3) and ``incl`` (batch of internal fibre values -> batch of internal
    ambient values); optionally ``reduce_args`` = ``(callable, args)`` rebuilding the space when
    unpickled and ``restr`` (ambient batch -> (fibre batch, mask of the ambient elements that lie
    in the fibre group)).

    G-spaces are values: equal (and equally hashed) when their fibre group, dimension and
    defining key agree, and picklable.

    >>> from steerable.gspaces import rot2dOnR2
    >>> gs = rot2dOnR2(4)
    >>> gs.fibergroup, gs.dimensionality
    (C4, 2)
    >>> gs.basespace_matrices(gs.fibergroup.element(1)).round(12)[0].tolist()
    [[0.0, -1.0], [1.0, 0.0]]
    >>> len(gs.testing_elements), len(rot2dOnR2(8).testing_elements), len(rot2dOnR2(8).exact_testing_elements)
    (4, 8, 4)
    """

    def __init__(
        self,
        fibergroup: Group,
        dimensionality: int,
        name: str,
        ambient: Group | None = None,
        incl: BatchMap | None = None,
        reduce_args: tuple | None = None,
        restr: Callable | None = None,
    ) -> None:
        if not isinstance(fibergroup, Group):
            raise TypeError(f"fibergroup: expected a steerable.group.Group, got {type(fibergroup).__name__}")
        if (
            isinstance(dimensionality, bool)
            or not isinstance(dimensionality, (int, np.integer))
            or int(dimensionality) < 0
        ):
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
        if reduce_args is not None and (
            not isinstance(reduce_args, tuple) or len(reduce_args) != 2 or not callable(reduce_args[0])
        ):
            raise TypeError("reduce_args: expected None or a pair (callable, args) rebuilding the space")
        self.fibergroup = fibergroup
        self.dimensionality = dimensionality
        self.name = str(name)
        self.basespace = f"R^{dimensionality}"
        self._ambient = ambient
        self._incl = incl
        self._restr = restr
        self._reduce_args = None if reduce_args is None else (reduce_args[0], tuple(reduce_args[1]))
        self._restrict_cache: dict = {}

    # ------------------------------------------------------------------ value semantics
    def __reduce__(self):
        if self._reduce_args is None:
            raise TypeError(f"{self.name}: a G-space built without reduce_args cannot be pickled")
        return self._reduce_args

    def _family(self) -> type:
        """The class whose instances compare with this one (GSpace0D, GSpace2D, GSpace3D)."""
        for cls in type(self).__mro__:
            if cls.__name__ in ("GSpace0D", "GSpace2D", "GSpace3D"):
                return cls
        return GSpace

    @cached_property
    def _action_signature(self) -> np.ndarray:
        """Base-space matrices of a fixed batch of fibre elements: the action, as a value."""
        G = self.fibergroup
        if not G.continuous:
            batch = G._all_batch()
        else:
            batch = np.concatenate([G._identity_value()[None], G._test_batch()])
        return self._basespace_batch(batch)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, GSpace):
            return NotImplemented
        if self is other:
            return True
        if self._family() is not other._family() or self.dimensionality != other.dimensionality:
            return False
        if self.fibergroup != other.fibergroup:
            return False
        if self.dimensionality == 0:
            return True
        a, b = self._action_signature, other._action_signature
        return a.shape == b.shape and bool(np.allclose(a, b, atol=1e-9))

    def __hash__(self) -> int:
        return hash((self._family().__name__, self.dimensionality, self.fibergroup))

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
        """The fibre group's named representations (irreps, trivial, regular, ...), plus those
        built so far through :meth:`quotient_repr` and :meth:`induced_repr` of any G-space of
        this fibre group, under their names (as escnn lists them)."""
        out = dict(self.fibergroup.representations)
        for name, r in _BUILT.get(self.fibergroup, {}).items():
            out.setdefault(name, r)
        return out

    def quotient_repr(self, subgroup_id: Any) -> Representation:
        """The fibre group's quotient representation for the subgroup ``subgroup_id``."""
        return _register(self.fibergroup, self.fibergroup.quotient_representation(subgroup_id))

    def induced_repr(self, subgroup_id: Any, repr: Representation) -> Representation:
        """The representation induced from ``repr`` of the subgroup ``subgroup_id``."""
        return _register(self.fibergroup, self.fibergroup.induced_representation(subgroup_id, repr))

    # ------------------------------------------------------------------ kernel bases
    def build_kernel_basis(self, in_repr: Representation, out_repr: Representation, sigma, rings, **kwargs):
        """The basis of the kernels ``K(g x) = ρ_out(g) K(x) ρ_in(g)⁻¹`` on this base space
        (Gaussian rings of radii ``rings`` and widths ``sigma``); see :mod:`steerable.kernels`."""
        from steerable.kernels import _gspace_bases

        return _gspace_bases.build_kernel_basis(self, in_repr, out_repr, sigma, rings, **kwargs)

    def build_fiber_intertwiner_basis(self, in_repr: Representation, out_repr: Representation):
        """The basis of the equivariant linear maps between the fibres ``in_repr`` -> ``out_repr``."""
        from steerable.kernels import _gspace_bases

        return _gspace_bases.build_fiber_intertwiner_basis(self, in_repr, out_repr)

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

    def _build_restricted(self, id, H, incl_h, restr_h, key) -> GSpace:
        parent = self
        k = H._identity_value().shape[0]

        def incl(b: np.ndarray) -> np.ndarray:
            assert parent._incl is not None  # only spaces with a base space restrict through incl
            return parent._incl(incl_h(b))

        restr: Callable | None = None
        if parent._restr is not None:
            parent_restr = parent._restr

            def restricted(b: np.ndarray):
                fb, m = parent_restr(b)
                out = np.zeros((b.shape[0], k))
                out[:] = H._identity_value()
                mask = np.zeros(b.shape[0], dtype=bool)
                if np.any(m):
                    hb, m2 = restr_h(fb[m])
                    out[m] = hb
                    mask[m] = m2
                return out, mask

            restr = restricted

        sub = object.__new__(type(self))
        GSpace.__init__(
            sub,
            H,
            self.dimensionality,
            f"{H.name}_on_R{self.dimensionality}[{self.name}|{id}]",
            ambient=self._ambient,
            incl=incl,
            reduce_args=(_restricted_gspace, (self, id)),
            restr=restr,
        )
        sub._post_restrict(self, key)
        try:
            canon = self._canonical_restricted(id)
        except (TypeError, ValueError):
            canon = None
        if canon is not None and canon == sub:
            return canon  # the space a factory builds (escnn's restrict returns that one)
        return sub

    def _post_restrict(self, parent: GSpace, key: Any) -> None:
        """Hook for subclasses to set extra attributes on a restricted space."""

    def _canonical_restricted(self, id: Any) -> GSpace | None:
        """The space built directly from the combined subgroup id (as escnn's ``restrict`` does),
        if a subclass knows it; used only when it acts exactly like the composed restriction."""
        return None

    # ------------------------------------------------------------------ base-space action
    def _basespace_batch(self, batch: np.ndarray) -> np.ndarray:
        """Base-space matrices (n, d, d) of a batch of internal fibre values."""
        n = batch.shape[0]
        if self.dimensionality == 0:
            return np.zeros((n, 0, 0))
        if n == 0:
            return np.zeros((0, self.dimensionality, self.dimensionality))
        assert self._ambient is not None and self._incl is not None  # d > 0 spaces have both
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
    def _exact_testing_batch(self) -> np.ndarray:
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
        assert self._ambient is not None  # d = 0 spaces have no grid
        return self._ambient._identity_value()[None]

    @property
    def exact_testing_elements(self) -> list[GroupElement]:
        """Elements of the fibre group that are exact symmetries of the pixel/voxel grid (their
        base-space matrix is a signed permutation), identity first. For d = 0: all elements of a
        finite group, a few fixed ones of a continuous group.

        >>> from steerable.gspaces import flipRot2dOnR2
        >>> len(flipRot2dOnR2(8).exact_testing_elements), len(flipRot2dOnR2(-1).exact_testing_elements)
        (8, 8)
        """
        return self.fibergroup._elements_of(self._exact_testing_batch)

    @cached_property
    def _testing_batch(self) -> np.ndarray:
        out = escnn_testing_values(self.fibergroup)
        out.setflags(write=False)
        return out

    @property
    def testing_elements(self) -> list[GroupElement]:
        """escnn's testing elements of the fibre group: all elements of a finite group, a fixed
        finite set of a continuous one (52 rotations of SO(2), 104 elements of O(2), the 60
        icosahedral rotations of SO(3), products of those for product groups). Most are not
        symmetries of the grid: see :attr:`exact_testing_elements` for those.

        >>> from steerable.gspaces import flipRot2dOnR2, rot2dOnR2
        >>> len(flipRot2dOnR2(8).testing_elements), len(rot2dOnR2(-1).testing_elements)
        (16, 52)
        """
        return self.fibergroup._elements_of(self._testing_batch)

    # ------------------------------------------------------------------ transforming data
    def _check_element(self, g: Any, argname: str) -> None:
        if not isinstance(g, GroupElement):
            raise TypeError(f"{argname}: expected a GroupElement of {self.fibergroup.name}, got {type(g).__name__}")
        if g.group != self.fibergroup:
            raise ValueError(f"{argname}: expected an element of {self.fibergroup.name}, got one of {g.group.name}")

    def transform_signal(self, tensor: torch.Tensor, g: GroupElement, order: int = 3) -> torch.Tensor:
        """Move a signal ``(B, C, *spatial)`` on the base space by ``g``:
        ``output(x) = input(g⁻¹ x)`` (channels untouched; exact for grid symmetries, else a
        spline of degree ``order``: see :func:`steerable.gspaces.transform_grid`). For d = 0 the
        tensor is returned unchanged.

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
        return transform_grid(tensor, self._basespace_batch(g._v[None])[0], order=order)

    def featurefield_action(self, input, repr: Representation, element: GroupElement, order: int = 2):
        """escnn's action on a field: ``f'(x) = ρ(g) f(g⁻¹ x)``.

        ``input`` is a numpy array (or torch tensor; the result has the same kind) of shape
        ``(B, C, ..., *spatial)`` with ``C = repr.size``: ``repr(element)`` acts on axis 1 and the
        base-space action on the last d axes (exactly for grid symmetries, else through a spline
        of degree ``order``).

        >>> import numpy as np
        >>> from steerable.gspaces import rot2dOnR2
        >>> gs = rot2dOnR2(4)
        >>> x = np.zeros((1, 2, 3, 3)); x[0, 0, 1, 2] = 1.0            # x-component at (1, 0)
        >>> y = gs.featurefield_action(x, gs.irrep(1), gs.fibergroup.element(1))
        >>> np.argwhere(np.abs(y) > 0.5).tolist()                      # y-component at (0, 1)
        [[0, 1, 0, 1]]
        """
        if not isinstance(repr, Representation):
            raise TypeError(f"repr: expected a Representation, got {type(repr).__name__}")
        if repr.group != self.fibergroup:
            raise ValueError(f"repr: expected a representation of {self.fibergroup.name}, got one of {repr.group.name}")
        self._check_element(element, "element")
        is_torch = isinstance(input, torch.Tensor)
        if not is_torch:
            try:
                arr = np.asarray(input, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"input: expected a numpy array or torch tensor, got {type(input).__name__}") from None
            t = torch.from_numpy(np.ascontiguousarray(arr))
        else:
            t = input
        d = self.dimensionality
        if t.ndim < 2 + d or t.shape[1] != repr.size:
            raise ValueError(
                f"input: expected shape (B, {repr.size}, ..., *spatial) with {d} spatial axes, got {tuple(t.shape)}"
            )
        rho = torch.as_tensor(
            np.asarray(repr(element)), dtype=t.dtype if t.is_floating_point() else torch.float64, device=t.device
        )
        out = torch.einsum("oi,bi...->bo...", rho, t.to(rho.dtype))
        if d > 0:
            shape = out.shape
            spatial = tuple(shape[len(shape) - d :])
            flat = out.reshape((-1, 1) + spatial)
            flat = transform_grid(flat, self._basespace_batch(element._v[None])[0], order=order)
            out = flat.reshape(shape)
        if is_torch:
            return out
        return out.numpy()

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
        raise TypeError(
            f"coords: expected a torch.Tensor or numpy array of shape (N, {d}), got {type(coords).__name__}"
        )


_BUILT: dict = {}


def _register(G: Group, r: Representation) -> Representation:
    """List ``r`` under its name among the representations of ``G`` built through a G-space."""
    _BUILT.setdefault(G, {}).setdefault(r.name, r)
    return r


def escnn_testing_values(G: Group) -> np.ndarray:
    """Internal values of escnn's testing elements of ``G``: all elements of a finite group, 52
    rotations of SO(2) (and their 52 flips in O(2)), the 60 icosahedral rotations of SO(3) (and
    with the inversion, 120, in O(3)), the product of the factors' sets for a direct product."""
    from steerable.group import ico_group
    from steerable.group._planar import PlanarGroup
    from steerable.group._product import DirectProductGroup

    if not G.continuous:
        return np.array(G._all_batch(), dtype=float)
    if isinstance(G, DirectProductGroup):
        a, b = escnn_testing_values(G.G1), escnn_testing_values(G.G2)
        return np.concatenate([np.repeat(a, len(b), 0), np.tile(b, (len(a), 1))], 1)
    n = 52
    if isinstance(G, PlanarGroup):
        rot = 2.0 * np.pi * np.arange(n) / n
        flips = (0.0, 1.0) if G.flips else (0.0,)
        return np.array([[f, r] for f in flips for r in rot])
    ident = G._identity_value()
    if ident.shape == (4,):  # SO(3): quaternions
        return np.array(ico_group()._quats, dtype=float)
    if ident.shape == (5,):  # O(3): (parity, quaternion)
        q = np.array(ico_group()._quats, dtype=float)
        return np.concatenate([np.concatenate([np.full((len(q), 1), p), q], 1) for p in (0.0, 1.0)])
    return np.concatenate(  # pragma: no cover - no other continuous group today
        [ident[None], G._test_batch(), G._sample_batch(8, np.random.default_rng(0))]
    )


def _restricted_gspace(parent: GSpace, id: Any) -> GSpace:
    """Rebuild a restricted space (used when unpickling)."""
    return parent.restrict(id)[0]
