"""The hyperoctahedral group B_n = C_2 ≀ S_n: the signed permutations of n coordinates, i.e. the
symmetries of the n-cube (order 2^n n!). B_1 ≅ C_2, B_2 ≅ D_4, B_3 ≅ O_h.

An element g maps the basis vector e_i to ``s_i e_{π(i)}`` (π a permutation, s_i = ±1); its
internal value is the float vector ``v`` with ``v[i] = s_i (π(i) + 1)``. Parametrisations:
``'signed_perm'`` (that tuple of non-zero ints, the default), ``'MAT'`` (the n x n signed
permutation matrix M with ``M[π(i), i] = s_i``), ``'int'`` (index in ``elements``, small n only).
``g @ h`` applies h first, so ``M(g @ h) = M(g) M(h)``.

Irreps (all of real type) are indexed by bipartitions ``(λ, μ)`` of n (two partitions, as tuples,
with |λ| + |μ| = n): ψ_(λ,μ) is induced from B_k × B_{n-k} (k = |λ|, the first k coordinates) of
S^λ ⊠ (ε ⊗ S^μ), with S^λ the Specht module of S_k in Young's orthogonal form and ε the product of
the signs; its dimension is C(n, k) f^λ f^μ. ``((n,), ())`` is the trivial irrep, ``((n-1,), (1,))``
the signed-permutation (standard) representation, whose matrices are exactly ``M(g)``,
``((), (n,))`` the product of the signs and ``((), (1,)*n)`` the determinant.

Subgroup ids: an int m in [0, n]: B_m acting on the first m coordinates (n: the group itself,
0 or ``'trivial'``: the trivial group).

Everything that needs the list of elements (``elements``, ``regular_representation``,
decompositions, restriction) is available for n <= 6 (order 46080); element arithmetic, irreps
and the standard representation work for every n.
"""

from __future__ import annotations

import itertools
import math
from functools import cache, cached_property
from typing import Any

import numpy as np

from ._group import Group
from ._irrep import IrreducibleRepresentation
from ._representation import Representation

_MAX_ENUMERATE = 6  # largest n whose elements are listed (2^6 6! = 46080)


def _partitions(k: int) -> list[tuple[int, ...]]:
    """Partitions of k in reverse lexicographic order ((k,) first)."""
    if k == 0:
        return [()]
    out: list[tuple[int, ...]] = []

    def rec(rest: int, cap: int, prefix: tuple[int, ...]) -> None:
        if rest == 0:
            out.append(prefix)
            return
        for p in range(min(rest, cap), 0, -1):
            rec(rest - p, p, prefix + (p,))

    rec(k, k, ())
    return out


def _is_partition(p: Any) -> bool:
    return (
        isinstance(p, tuple)
        and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x > 0 for x in p)
        and all(p[i] >= p[i + 1] for i in range(len(p) - 1))
    )


@cache
def _tableaux(shape: tuple[int, ...]) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Standard Young tableaux of ``shape``, each as the (row, col) of the entries 0..k-1."""
    k = sum(shape)
    out: list[tuple[tuple[int, int], ...]] = []

    def rec(filled: list[int], pos: list[tuple[int, int]]) -> None:
        if len(pos) == k:
            out.append(tuple(pos))
            return
        for r in range(len(shape)):
            c = filled[r]
            if c < shape[r] and (r == 0 or filled[r - 1] > c):
                filled[r] += 1
                pos.append((r, c))
                rec(filled, pos)
                pos.pop()
                filled[r] -= 1

    rec([0] * len(shape), [])
    return tuple(out)


@cache
def _young_generators(shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Young's orthogonal form: the matrices of the adjacent transpositions (i, i+1) of S_k."""
    tabs = _tableaux(shape)
    index = {t: a for a, t in enumerate(tabs)}
    k, f = sum(shape), len(tabs)
    gens = []
    for i in range(k - 1):
        m = np.zeros((f, f))
        for a, t in enumerate(tabs):
            (r1, c1), (r2, c2) = t[i], t[i + 1]
            r = (c2 - r2) - (c1 - r1)  # axial distance from i to i+1
            m[a, a] = 1.0 / r
            if abs(r) > 1:
                swapped = list(t)
                swapped[i], swapped[i + 1] = t[i + 1], t[i]
                m[index[tuple(swapped)], a] = math.sqrt(1.0 - 1.0 / r**2)
        m.setflags(write=False)
        gens.append(m)
    return tuple(gens)


def _specht(shape: tuple[int, ...], perm: tuple[int, ...], cache_: dict) -> np.ndarray:
    """S^shape(π) for the permutation ``perm`` (perm[i] = π(i)), as a product of generators."""
    if perm in cache_:
        return cache_[perm]
    gens = _young_generators(shape)
    f = len(_tableaux(shape))
    p = list(perm)
    word = []
    pos = {v: i for i, v in enumerate(p)}
    while True:  # left-multiply by s_i while value i+1 stands before value i: π = s_i1 ... s_iL
        for i in range(len(p) - 1):
            if pos[i] > pos[i + 1]:
                break
        else:
            break
        word.append(i)
        a, b = pos[i], pos[i + 1]
        p[a], p[b] = i + 1, i
        pos[i], pos[i + 1] = b, a
    m = np.eye(f)
    for i in word:
        m = m @ gens[i]
    cache_[perm] = m
    return m


class HyperoctahedralGroup(Group):
    """The hyperoctahedral group B_n of signed permutations (order 2^n n!).

    >>> from steerable.group import hyperoctahedral_group
    >>> G = hyperoctahedral_group(3)
    >>> G.order(), len(G.irreps()), G.standard_representation.size
    (48, 10, 3)
    >>> g = G.element((2, -1, 3))
    >>> G.irrep((2,), (1,))(g)
    array([[ 0., -1.,  0.],
           [ 1.,  0.,  0.],
           [ 0.,  0.,  1.]])
    """

    PARAM = "signed_perm"
    PARAMS = ("signed_perm", "MAT", "int")
    continuous = False

    @classmethod
    def _instance_key(cls, n: int):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 1:
            raise ValueError(f"n: expected an integer >= 1, got {n!r}")
        return (int(n),)

    def __init__(self, n: int):
        super().__init__()
        self.n = int(n)
        self.name = f"B{self.n}"
        self.trivial_irrep_id = ((self.n,), ())
        self.abelian = self.n == 1
        self._specht_caches: dict = {}

    def _key(self) -> tuple:
        return (self.n,)

    def __reduce__(self):
        return (hyperoctahedral_group, (self.n,))

    @property
    def subgroup_self_id(self) -> int:
        return self.n

    @property
    def subgroup_trivial_id(self) -> int:
        return 0

    # arithmetic ------------------------------------------------------------------------------
    def order(self) -> int:
        return 2**self.n * math.factorial(self.n)

    @staticmethod
    def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = np.rint(a).astype(np.int64)
        return np.abs(r) - 1, np.sign(r)

    @staticmethod
    def _join(perm: np.ndarray, signs: np.ndarray) -> np.ndarray:
        return (signs * (perm + 1)).astype(np.float64)

    def _identity_value(self) -> np.ndarray:
        return np.arange(1, self.n + 1, dtype=np.float64)

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        pa, sa = self._split(a)
        pb, sb = self._split(b)
        p = np.take_along_axis(pa, pb, axis=1)
        s = sb * np.take_along_axis(sa, pb, axis=1)
        return self._join(p, s)

    def _inverse(self, a: np.ndarray) -> np.ndarray:
        p, s = self._split(a)
        rows = np.arange(len(p))[:, None]
        pi = np.empty_like(p)
        pi[rows, p] = np.arange(self.n)[None, :]
        si = np.empty_like(s)
        si[rows, p] = s  # g^{-1} e_{π(i)} = s_i e_i
        return self._join(pi, si)

    def _equal(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.all(np.rint(a) == np.rint(b), axis=-1)

    def _check_enumerable(self, what: str) -> None:
        if self.n > _MAX_ENUMERATE:
            raise ValueError(
                f"{what}: B{self.n} has {self.order()} elements; listing them is supported for n <= {_MAX_ENUMERATE}"
            )

    def _all_batch(self) -> np.ndarray:
        self._check_enumerable("elements")
        return self._all_values

    @cached_property
    def _all_values(self) -> np.ndarray:
        perms = np.array(list(itertools.permutations(range(self.n))), dtype=np.int64)
        signs = np.array(list(itertools.product((1, -1), repeat=self.n)), dtype=np.int64)
        p = np.repeat(perms, len(signs), axis=0)
        s = np.tile(signs, (len(perms), 1))
        out = self._join(p, s)
        out.setflags(write=False)
        return out

    def _sample_batch(self, n: int, rng: np.random.Generator) -> np.ndarray:
        p = np.argsort(rng.random((n, self.n)), axis=1)
        s = rng.choice(np.array([1, -1]), size=(n, self.n))
        return self._join(p, s)

    def _test_batch(self) -> np.ndarray:
        rows = []
        for i in range(self.n - 1):  # adjacent transpositions
            p = np.arange(self.n)
            p[i], p[i + 1] = i + 1, i
            rows.append(self._join(p, np.ones(self.n, dtype=np.int64)))
        s = np.ones(self.n, dtype=np.int64)
        s[0] = -1  # the sign flip of the first coordinate
        rows.append(self._join(np.arange(self.n), s))
        return np.stack(rows)

    def _matrix(self, batch: np.ndarray) -> np.ndarray:
        p, s = self._split(batch)
        out = np.zeros((len(batch), self.n, self.n))
        rows = np.arange(len(batch))[:, None]
        out[rows, p, np.arange(self.n)[None, :]] = s
        return out

    # parametrisations ------------------------------------------------------------------------
    def _from_param(self, value: Any, param: str) -> np.ndarray:
        if param == "int":
            self._check_enumerable("value")
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < self.order():
                raise ValueError(f"value: expected an index in [0, {self.order()}), got {value!r}")
            return self._all_values[int(value)].copy()
        if param == "MAT":
            m = np.asarray(value, dtype=np.float64)
            if m.shape != (self.n, self.n):
                raise ValueError(f"value: expected a {self.n}x{self.n} signed permutation matrix, got shape {m.shape}")
            nz = np.abs(m) > 0.5
            if not (nz.sum(0) == 1).all() or not (nz.sum(1) == 1).all() or not np.allclose(np.abs(m), nz):
                raise ValueError("value: expected a signed permutation matrix (one ±1 per row and column)")
            p = np.argmax(nz, axis=0)
            s = np.sign(m[p, np.arange(self.n)]).astype(np.int64)
            return self._join(p, s)
        try:
            v = np.asarray(value)
        except Exception:  # pragma: no cover - numpy accepts nearly everything
            v = np.zeros(0)
        ok = v.shape == (self.n,) and np.issubdtype(v.dtype, np.number) and np.all(v == np.rint(v))
        if ok:
            r = np.rint(v).astype(np.int64)
            ok = bool(np.array_equal(np.sort(np.abs(r)), np.arange(1, self.n + 1)))
        if not ok:
            raise ValueError(
                f"value: expected {self.n} signed ints ±1..±{self.n}, each |v| once (e_i -> sign(v_i) e_(|v_i|)), "
                f"got {value!r}"
            )
        return r.astype(np.float64)

    def _to_param(self, v: np.ndarray, param: str) -> Any:
        if param == "int":
            return int(self._index_of(v[None])[0])
        if param == "MAT":
            return self._matrix(v[None])[0]
        return tuple(int(x) for x in np.rint(v))

    # irreps ----------------------------------------------------------------------------------
    def _irrep_ids(self, L: int | None = None) -> list[tuple]:
        return [(lam, mu) for k in range(self.n, -1, -1) for lam in _partitions(k) for mu in _partitions(self.n - k)]

    def _check_irrep_id(self, id: tuple) -> bool:
        return len(id) == 2 and _is_partition(id[0]) and _is_partition(id[1]) and sum(id[0]) + sum(id[1]) == self.n

    def _build_irrep(self, id: tuple) -> IrreducibleRepresentation:
        lam, mu = id
        k = sum(lam)
        size = math.comb(self.n, k) * len(_tableaux(lam)) * len(_tableaux(mu))
        return IrreducibleRepresentation(self, id, f"irrep_{lam}_{mu}", size=size, type="R")

    def _irrep_matrices(self, id: tuple, batch: np.ndarray) -> np.ndarray:
        lam, mu = id
        n, k = self.n, sum(lam)
        fl, fm = len(_tableaux(lam)), len(_tableaux(mu))
        cl = self._specht_caches.setdefault(lam, {})
        cm = self._specht_caches.setdefault(mu, {})
        # coset representatives r_A: the complement C (an (n-k)-subset, lexicographic) of A
        comps = list(itertools.combinations(range(n), n - k))
        index = {c: a for a, c in enumerate(comps)}
        reps = []
        for c in comps:
            a = [i for i in range(n) if i not in c]
            reps.append(np.array(a + list(c), dtype=np.int64))  # r_A(j) for j = 0..n-1
        inv_reps = []
        for r in reps:
            ri = np.empty(n, dtype=np.int64)
            ri[r] = np.arange(n)
            inv_reps.append(ri)
        d = fl * fm
        perm_all, sign_all = self._split(batch)
        out = np.zeros((len(batch), len(comps) * d, len(comps) * d))
        for b in range(len(batch)):
            p, s = perm_all[b], sign_all[b]
            for a, r in enumerate(reps):
                img = p[r]  # π(r_A(j))
                target = index[tuple(sorted(img[k:].tolist()))]
                h = inv_reps[target][img]  # r_A'^{-1} π r_A, preserving {0..k-1}
                eps = float(np.prod(s[r[k:]]))
                m = np.kron(_specht(lam, tuple(h[:k].tolist()), cl), _specht(mu, tuple((h[k:] - k).tolist()), cm))
                out[b, target * d : (target + 1) * d, a * d : (a + 1) * d] = eps * m
        return out

    @cached_property
    def standard_representation(self) -> Representation:
        """The signed-permutation action on R^n: the irrep ``((n-1,), (1,))``, whose matrices are
        the signed permutation matrices themselves.

        >>> from steerable.group import hyperoctahedral_group
        >>> hyperoctahedral_group(4).standard_representation.irreps
        [((3,), (1,))]
        """
        lam = (self.n - 1,) if self.n > 1 else ()
        return Representation(self, "standard", [(lam, (1,))], None, {"norm", "gated", "vectorfield"})

    @property
    def signed_permutation_representation(self) -> Representation:
        """The same as :attr:`standard_representation` (escnn-style name of the action on R^n).

        >>> from steerable.group import hyperoctahedral_group
        >>> hyperoctahedral_group(2).signed_permutation_representation.size
        2
        """
        return self.standard_representation

    def _standard_matrices(self, batch: np.ndarray) -> np.ndarray:
        return self._matrix(batch)

    def _quadrature(self, L: int) -> tuple[np.ndarray, np.ndarray]:
        allv = self._all_batch()
        return allv, np.full(len(allv), 1.0 / len(allv))

    # subgroups -------------------------------------------------------------------------------
    def _normalise_subgroup_id(self, id: Any) -> Any:
        if id == "trivial":
            return 0
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)) or not 0 <= int(id) <= self.n:
            raise ValueError(
                f"subgroup_id: expected 'trivial' or an int m in [0, {self.n}] (B_m on the first m coordinates), "
                f"got {id!r}"
            )
        return int(id)

    def _build_subgroup(self, key: Any):
        m = int(key)
        if m == self.n:
            return self, (lambda b: b), (lambda b: (b, np.ones(len(b), bool)))
        if m == 0:
            from ._factory import trivial_group

            H: Group = trivial_group()
            e_h = H._identity_value()

            def incl0(b):
                return np.repeat(self._identity_value()[None], len(b), 0)

            def restr0(b):
                ok = np.all(np.rint(b) == self._identity_value()[None], axis=1)
                return np.repeat(e_h[None], len(b), 0), ok

            return H, incl0, restr0
        H = hyperoctahedral_group(m)
        tail = np.arange(m + 1, self.n + 1, dtype=np.float64)

        def incl(b):
            return np.concatenate([b, np.repeat(tail[None], len(b), 0)], axis=1)

        def restr(b):
            ok = np.all(np.rint(b[:, m:]) == tail[None], axis=1)
            head = np.where(ok[:, None], b[:, :m], H._identity_value()[None])
            return head, ok

        return H, incl, restr


def hyperoctahedral_group(n: int) -> HyperoctahedralGroup:
    """The hyperoctahedral group B_n = C_2 ≀ S_n of signed permutations of n coordinates.

    >>> from steerable.group import hyperoctahedral_group
    >>> hyperoctahedral_group(4).order()
    384
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 1:
        raise ValueError(f"n: expected an integer >= 1, got {n!r}")
    return HyperoctahedralGroup(int(n))
