"""A learnable probability density λ over a compact group G: the degree of equivariance.

λ is parameterised by the band-limited Fourier coefficients of its log ``f`` (irreps of
frequency ≤ ``L``), normalised on a quadrature grid of G relative to the Haar mean,
``λ = exp(f − max f) / mean_Haar exp(f − max f)``, and transformed forward again:
``λ̂(ψ) = ∫_G λ(g) ψ(g) dg`` for every irrep ψ up to ``L``. Those matrices are what a partially
equivariant layer needs (:class:`~steerable.nn.PartialEquivarianceSource`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from steerable.group import Group, GroupElement
from steerable.nn._constants import ExactConstants

__all__ = ["EquivarianceDensity"]


def _check_L(L) -> int:
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or int(L) < 0:
        raise ValueError(f"L: expected a non-negative integer band limit, got {L!r}")
    return int(L)


def _default_degree(G: Group, L: int) -> int:
    """Quadrature degree: fine enough to resolve exp(f) well beyond the band limit of f."""
    planar = G.name.startswith(("SO(2)", "O(2)"))
    return max(8 * L, 64) if planar else max(4 * L, 12)


def _irrep_matrices(G: Group, psi, batch: np.ndarray) -> np.ndarray:
    """ψ at the elements of an internal batch (n, k) → (n, d, d), float64."""
    from steerable.group.functional import irrep_matrices

    return irrep_matrices(psi, torch.as_tensor(batch, dtype=torch.float64)).numpy()


class EquivarianceDensity(ExactConstants, torch.nn.Module):
    """A probability density λ over the compact group ``group``, band-limited to frequency ``L``.

    Args:
        group: the compact group (a gspace's ``fibergroup``; any group of ``steerable.group``).
        L (int, default 4): the band limit of ``f = log λ`` (irreps ``group.bl_irreps(L)``).
        subgroup (optional): a subgroup id of ``group``; λ is then made left-invariant under that
            subgroup H (``λ(h g) = λ(g)``): its log coefficients and its Fourier matrices are
            projected on the H-invariant vectors, so a layer built from it is *exactly*
            H-equivariant, whatever λ learns beyond H.
        quadrature_degree (int, optional): the degree of the exact Haar quadrature on which λ is
            normalised and transformed (default ``max(8L, 64)`` for planar groups,
            ``max(4L, 12)`` otherwise; all elements for finite groups).

    The learnable parameter is ``coefficients`` (1-D, one entry per independent matrix coefficient
    of every irrep ψ up to ``L``: ``ψ.size × (ψ.size / ψ.sum_of_squares_constituents)``);
    ``f(g) = Σ_ψ Σ_{a, b} c_ψ[a, b] √d_ψ ψ(g)[a, cols_ψ[b]]``. They start at zero: λ is
    uniform, its only non-zero Fourier coefficient the trivial one (λ̂(trivial) = 1), and a layer
    built from it is exactly G-equivariant.

    Quantities (all differentiable in ``coefficients``):

    - :meth:`log_values` / :meth:`values`: log λ / λ on the quadrature grid (``grid_elements``,
      weights ``grid_weights`` summing to 1), so ``(values() * grid_weights).sum() == 1``;
    - :meth:`fourier`: ``[λ̂(ψ)[:, cols_ψ]]`` per irrep (``irreps``), the matrices
      ``∫ λ(g) ψ(g)[:, cols] dg``;
    - :meth:`log_density` at any elements, :meth:`log_identity` (log λ(e)),
      :meth:`kl_uniform`, :meth:`kl`, :meth:`alignment`, :meth:`mass`.

    >>> import math
    >>> import torch
    >>> from steerable.group import so2_group
    >>> from steerable.nn import EquivarianceDensity
    >>> lam = EquivarianceDensity(so2_group(), L=4)
    >>> round(float((lam.values() * lam.grid_weights).sum().detach()), 6), [tuple(m.shape) for m in lam.fourier()]
    (1.0, [(1, 1), (2, 1), (2, 1), (2, 1), (2, 1)])
    >>> float(lam.kl_uniform().detach()), float(lam.fourier()[1].detach().abs().max()) < 1e-6
    (0.0, True)
    >>> lam.set_log_density(lambda g: 3.0 * math.cos(4 * g.to("radians")))   # peaked on C4
    >>> bool(lam.mass(lambda g: abs(math.sin(2 * g.to("radians"))) < 0.5) > 0.8)
    True
    """

    grid_weights: torch.Tensor
    _basis: torch.Tensor
    _identity_basis: torch.Tensor

    def __init__(self, group: Group, L: int = 4, subgroup=None, quadrature_degree: int | None = None):
        super().__init__()
        if not isinstance(group, Group):
            raise TypeError(f"group: expected a steerable.group Group, got {type(group).__name__}")
        L = _check_L(L)
        if quadrature_degree is None:
            quadrature_degree = _default_degree(group, L)
        elif (
            isinstance(quadrature_degree, bool) or int(quadrature_degree) != quadrature_degree or quadrature_degree < L
        ):
            raise ValueError(f"quadrature_degree: expected an integer >= L={L}, got {quadrature_degree!r}")
        self.group, self.L, self.subgroup_id = group, L, subgroup
        self.quadrature_degree = int(quadrature_degree)
        self.irreps = [group.irrep(*i) for i in group.bl_irreps(L)]
        if not self.irreps or self.irreps[0] != group.trivial_representation:
            raise ValueError(f"group: {group.name} lists no trivial irrep first in bl_irreps({L})")
        from steerable.group._fourier import _fourier_columns

        self.columns = [_fourier_columns(psi) for psi in self.irreps]
        points, weights = group._quadrature(self.quadrature_degree)
        self._grid_batch = np.asarray(points)
        self.register_constant("grid_weights", np.asarray(weights))
        mats = [_irrep_matrices(group, psi, self._grid_batch) for psi in self.irreps]
        ident = group._batch([group.identity], "identity")
        self._projectors = self._subgroup_projectors(subgroup)
        # f's basis is √d ψ[:, cols] flattened (a-major); λ̂'s blocks are the same columns over √d
        sizes = [psi.size * len(cols) for psi, cols in zip(self.irreps, self.columns)]
        basis = np.concatenate(
            [
                math.sqrt(psi.size) * m[:, :, cols].reshape(len(m), -1)
                for psi, cols, m in zip(self.irreps, self.columns, mats)
            ],
            1,
        )
        e_basis = self._basis_at(ident)
        self.register_constant("_basis", basis)
        self.register_constant("_identity_basis", e_basis)
        self.coefficients = torch.nn.Parameter(torch.zeros(sum(sizes)))

    # -- construction helpers ----------------------------------------------------------------
    def _subgroup_projectors(self, subgroup) -> list | None:
        if subgroup is None:
            return None
        try:
            H, inclusion, _ = self.group.subgroup(subgroup)
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"subgroup: not a subgroup id of {self.group.name}: {subgroup!r} ({e})") from None
        hp, hw = H._quadrature(self.L)
        hs = [inclusion(h) for h in H._elements_of(hp)]
        batch = self.group._batch(hs, "subgroup")
        projs = []
        for k, psi in enumerate(self.irreps):
            p = np.einsum("n,nab->ab", np.asarray(hw), _irrep_matrices(self.group, psi, batch))
            self.register_constant(f"_proj_{k}", p)
            projs.append(f"_proj_{k}")
        return projs

    @property
    def grid_elements(self) -> list[GroupElement]:
        """The quadrature points (GroupElements) on which λ is normalised."""
        return self.group._elements_of(self._grid_batch)

    # -- the density ---------------------------------------------------------------------------
    def _blocks(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """A vector in the layout of ``coefficients`` as (d, n_cols) blocks per irrep, projected on
        the H-invariant rows when ``subgroup`` is set."""
        blocks, p = [], 0
        for k, (psi, cols) in enumerate(zip(self.irreps, self.columns)):
            b = flat[p : p + psi.size * len(cols)].view(psi.size, len(cols))
            if self._projectors is not None:
                b = getattr(self, self._projectors[k]).to(b.dtype) @ b
            blocks.append(b)
            p += psi.size * len(cols)
        return blocks

    def _flat_coefficients(self) -> torch.Tensor:
        if self._projectors is None:
            return self.coefficients
        return torch.cat([b.reshape(-1) for b in self._blocks(self.coefficients)])

    def log_unnormalised(self) -> torch.Tensor:
        """f on the quadrature grid (n,)."""
        c = self._flat_coefficients()
        return self._basis.to(c.dtype) @ c

    def log_normaliser(self, f: torch.Tensor | None = None) -> torch.Tensor:
        """``log mean_Haar exp(f)`` (scalar), on the quadrature grid."""
        if f is None:
            f = self.log_unnormalised()
        return torch.logsumexp(f + torch.log(self.grid_weights.to(f.dtype)), 0)

    def log_values(self) -> torch.Tensor:
        """log λ on the quadrature grid (n,); ``Σ grid_weights · exp(log_values) = 1``."""
        f = self.log_unnormalised()
        return f - self.log_normaliser(f)

    def values(self) -> torch.Tensor:
        """λ on the quadrature grid (n,) (``exp(f − max f) / mean exp(f − max f)``)."""
        return torch.exp(self.log_values())

    def fourier(self) -> list[torch.Tensor]:
        """``λ̂(ψ)[:, cols_ψ] = ∫ λ(g) ψ(g)[:, cols_ψ] dg`` for every irrep in :attr:`irreps`
        (``(ψ.size, len(cols_ψ))`` each; the first, trivial one is ``[[1]]``)."""
        lam = self.values() * self.grid_weights.to(self.coefficients.dtype)
        flat = lam @ self._basis.to(lam.dtype)  # ∫ λ √d ψ[:, cols], every irrep at once
        return [b / math.sqrt(psi.size) for b, psi in zip(self._blocks(flat), self.irreps)]

    def log_density(self, elements: Sequence[GroupElement]) -> torch.Tensor:
        """log λ at arbitrary elements of the group (n,) (the normaliser from the grid)."""
        if isinstance(elements, GroupElement):
            elements = [elements]
        for g in elements:
            if not isinstance(g, GroupElement) or g.group != self.group:
                raise ValueError(f"elements: expected elements of {self.group.name}")
        return self._log_at_batch(self.group._batch(list(elements), "elements"), cache=False)

    def log_identity(self) -> torch.Tensor:
        """log λ(e) (scalar)."""
        c = self._flat_coefficients()
        return (self._identity_basis.to(c.dtype) @ c)[0] - self.log_normaliser()

    # -- regularisers and measurements ---------------------------------------------------------
    def kl_uniform(self) -> torch.Tensor:
        """``KL(λ ‖ uniform) = ∫ λ log λ dg`` (≥ 0, zero iff λ is uniform on the grid)."""
        lv = self.log_values()
        return (self.grid_weights.to(lv.dtype) * torch.exp(lv) * lv).sum()

    def kl(self, other: EquivarianceDensity) -> torch.Tensor:
        """``KL(λ ‖ λ_other) = ∫ λ (log λ − log λ_other) dg``, on this density's grid (``other``
        must be a density over the same group; it is evaluated at this grid's points)."""
        if not isinstance(other, EquivarianceDensity):
            raise TypeError(f"other: expected an EquivarianceDensity, got {type(other).__name__}")
        if other.group != self.group:
            raise ValueError(f"other: a density over {other.group.name}, expected one over {self.group.name}")
        lv = self.log_values()
        if other is self:
            return lv.new_zeros(())
        if other.quadrature_degree == self.quadrature_degree:
            lo = other.log_values()
        else:
            lo = other._log_at_batch(self._grid_batch)
        return (self.grid_weights.to(lv.dtype) * torch.exp(lv) * (lv - lo)).sum()

    def _basis_at(self, batch: np.ndarray) -> np.ndarray:
        """f's basis functions ``√d ψ(g)[:, cols]`` at an internal batch (n, D), float64."""
        return np.concatenate(
            [
                math.sqrt(psi.size) * _irrep_matrices(self.group, psi, batch)[:, :, cols].reshape(len(batch), -1)
                for psi, cols in zip(self.irreps, self.columns)
            ],
            1,
        )

    def _log_at_batch(self, batch: np.ndarray, cache: bool = True) -> torch.Tensor:
        """log λ at an internal batch; ``cache`` keeps the basis of the last batch (another
        density's grid, evaluated at every step by :meth:`kl`)."""
        c = self._flat_coefficients()
        cached = self.__dict__.get("_batch_cache") if cache else None
        if cached is None or cached[0] is not batch:
            cached = (batch, torch.as_tensor(self._basis_at(batch)))
            if cache:
                self.__dict__["_batch_cache"] = cached
        return cached[1].to(dtype=c.dtype, device=c.device) @ c - self.log_normaliser()

    def alignment(self) -> torch.Tensor:
        """``max_grid log λ − log λ(e)``, clamped at 0: zero iff the identity is a mode of λ (on the
        grid), so that the layer's "most likely" transformation is no transformation."""
        lv = torch.cat([self.log_values(), self.log_identity()[None]])
        return torch.clamp(lv.max() - lv[-1], min=0.0)

    def mass(self, where: Callable[[GroupElement], bool] | Sequence[bool] | torch.Tensor) -> torch.Tensor:
        """The probability ``∫_A λ(g) dg`` of the set A of grid elements for which ``where(g)`` is
        true (or a boolean mask over :attr:`grid_elements`): e.g. a neighbourhood of a subgroup."""
        if callable(where):
            mask = torch.as_tensor([bool(where(g)) for g in self.grid_elements])
        else:
            mask = torch.as_tensor(where, dtype=torch.bool)
            if mask.shape != self.grid_weights.shape:
                raise ValueError(f"where: expected a callable or a mask of {len(self.grid_weights)} booleans")
        lam = self.values()
        return (self.grid_weights.to(lam.dtype) * lam * mask.to(lam.device, lam.dtype)).sum()

    # -- setting λ ------------------------------------------------------------------------------
    @torch.no_grad()
    def set_log_density(self, f: Callable[[GroupElement], float]) -> None:
        """Set ``coefficients`` to the band-limited projection of ``f`` (a function of a group
        element), computed with the quadrature: λ ∝ exp(P_L f)."""
        if not callable(f):
            raise TypeError(f"f: expected a callable on group elements, got {type(f).__name__}")
        vals = torch.as_tensor([float(f(g)) for g in self.grid_elements], dtype=torch.float64)
        w = self.grid_weights.to(torch.float64)
        basis = self._basis.to(torch.float64)
        # the √d ψ[:, cols] entries are orthonormal for real irreps and orthogonal with norm
        # √(1/m) per complex/quaternionic entry: the least-squares fit is exact either way
        gram = basis.T @ (w[:, None] * basis)
        rhs = basis.T @ (w * vals)
        c = torch.linalg.lstsq(gram, rhs[:, None]).solution[:, 0]
        self.coefficients.copy_(c.to(self.coefficients.dtype))

    def extra_repr(self) -> str:
        sub = "" if self.subgroup_id is None else f", subgroup={self.subgroup_id!r}"
        return f"{self.group.name}, L={self.L}{sub}, grid={len(self.grid_weights)}"
