"""escnn's sampled kernel basis of an ``R2Conv`` on ``rot2dOnR2(N)`` (C_N), re-derived.

Needed only for checkpoints whose sampled bases were removed from the state_dict. Covers escnn's
default basis arguments and trivial / irrep / regular fields. The construction (escnn 1.0.11):

- grid: the k×k pixel centres, x to the right, y up, scaled by the dilation;
- rings r_i = 0, 1, …, (k-1)//2 (times the dilation), widths 0.6 (0.4 on the last ring, 0.005 at
  r = 0); radial profile exp(-(|x| - r_i)² / 2σ_i²);
- O(2) circular harmonics Y_0 = 1, Y_f = (cos f(φ - π/2), sin f(φ - π/2)) for f ≤ L, L the largest
  frequency the cut-off allows on any ring; the cut-off at radius r (k//2 = R) is 0 at r = 0, else
  min(2r, 2 if r = R else 2r - (r+1) mod 2); elements whose harmonic frequency exceeds the cut-off
  of their ring are dropped;
- for each pair of C_N irreps (ψ_in, ψ_out), each harmonic Y_f restricted to C_N (frequency f mod N
  folded into [0, N/2] by the reflection diag(1, -1)), each copy of an irrep ψ_j ∈ ψ_out ⊗ ψ_in in
  that restriction: the kernels Σ_y CG[o, i, s, a] E_k[b, a] Q⁻¹[b, y] Y_y(x) for every endomorphism
  E_k of ψ_j and Clebsch–Gordan copy s (escnn's C_N Clebsch–Gordan coefficients); elements ordered
  by harmonic, then (input irrep, output irrep) of the fields, then (ψ_j, k, s, copy), then ring;
- the fields' changes of basis (escnn's regular representation: row g is
  (√(d_ψ/N) ψ(g)[:, 0])_ψ), then each element divided by √(Σ κ² / d_out) and dropped when its
  norm vanishes.
"""

from __future__ import annotations

import math

import numpy as np


def _psi(theta: float, k: int) -> np.ndarray:
    c, s = math.cos(k * theta), math.sin(k * theta)
    return np.array([[c, -s], [s, c]])


class _CN:
    def __init__(self, N: int):
        self.N = N

    def size(self, k: int) -> int:
        return 1 if k == 0 or (self.N % 2 == 0 and 2 * k == self.N) else 2

    def matrix(self, k: int, theta: float) -> np.ndarray:
        if k == 0:
            return np.eye(1)
        if self.size(k) == 1:
            return np.array([[math.cos(k * theta)]])
        return _psi(theta, k)

    def endomorphisms(self, k: int) -> np.ndarray:
        if self.size(k) == 1:
            return np.eye(1)[None]
        return np.stack([np.eye(2), np.array([[0.0, -1.0], [1.0, 0.0]])])

    def tensor_product(self, a: int, b: int) -> list[int]:
        """The irreps in ψ_a ⊗ ψ_b, in escnn's order (multiplicities live in the CG copies)."""
        N = self.N
        j = a + b if a + b <= N // 2 else N - a - b
        if a == 0 or b == 0:
            return [a + b]
        if N % 2 == 0 and (a == N // 2 or b == N // 2):
            return [j]
        return [0, j] if a == b else [abs(b - a), j]

    def cg(self, a: int, b: int, j: int) -> np.ndarray:
        """(d_a, d_b, copies, d_j): ψ_a ⊗ ψ_b → copies of ψ_j (escnn's coefficients)."""
        N = self.N
        da, db, dj = self.size(a), self.size(b), self.size(j)
        if a == 0 or b == 0:
            return np.eye(dj).reshape(da, db, 1, dj) if j == a + b else np.zeros((da, db, 0, dj))
        if N % 2 == 0 and (2 * a == N or 2 * b == N):
            if j == a + b:
                return np.eye(dj).reshape(da, db, 1, dj)
            if j == N - a - b:
                c = np.eye(dj)
                if dj > 1:
                    c[:, 1] *= -1
                return c.reshape(da, db, 1, dj)
            return np.zeros((da, db, 0, dj))
        m = np.array([[1.0, 0, 1, 0], [0, 1, 0, 1], [0, -1, 0, 1], [1, 0, -1, 0]]) / math.sqrt(2)
        if j == a + b:
            c = m[:, 2:].copy()
        elif j == N - a - b:
            c = m[:, 2:].copy()
            c[:, 1] *= -1
        elif j == a - b:
            c = m[:, :2].copy()
        elif j == b - a:
            c = m[:, :2].copy()
            c[:, 1] *= -1
        else:
            return np.zeros((da, db, 0, dj))
        return c.reshape(db, da, -1, dj).transpose(1, 0, 2, 3)

    def restrict_harmonic(self, f: int) -> tuple[np.ndarray, list[int]]:
        """(change of basis, C_N irreps) of the O(2) harmonic of frequency f restricted to C_N."""
        if f == 0:
            return np.eye(1), [0]
        r = f % self.N
        q = np.eye(2)
        if r > self.N / 2:
            r = self.N - r
            q = np.diag([1.0, -1.0])
        return q, ([r, r] if self.size(r) == 1 else [r])

    def field(self, rep, where: str) -> tuple[list[int], np.ndarray]:
        """(irreps, change of basis) of a field representation, in escnn's convention."""
        name = rep.name
        if name.startswith("irrep_"):
            k = int(name[len("irrep_") :])
            return [k], np.eye(self.size(k))
        if name == "regular":
            irreps = list(range(self.N // 2 + 1))
            q = np.zeros((self.N, self.N))
            for g in range(self.N):
                theta = 2 * math.pi * g / self.N
                q[g] = np.concatenate([math.sqrt(self.size(k) / self.N) * self.matrix(k, theta)[:, 0] for k in irreps])
            return irreps, q
        raise ValueError(
            f"{where}: re-deriving escnn's kernel basis supports trivial, irrep and regular fields of C_N; "
            f"field representation {name!r} needs the sampled bases stored in the escnn state_dict"
        )


def _grid(k: int, dilation: int) -> np.ndarray:
    c = (dilation * (k - 1) + 1) / 2 - 0.5
    i = np.arange(k * k)
    x = (i % k) * dilation - c
    y = -((i // k) * dilation - c)
    return np.stack([x, y], 1)


def _cutoff(k: int):
    R = k // 2

    def fco(r: float) -> float:
        return 0 if r == 0 else min(2 * r, 2 if r == R else 2 * r - (r + 1) % 2)

    return fco


def _pair_basis(G: _CN, in_rep, out_rep, pts, rings, sigmas, L, fco, where):
    in_irreps, q_in = G.field(in_rep, where)
    out_irreps, q_out = G.field(out_rep, where)
    q_in_inv = np.linalg.inv(q_in)
    r = np.linalg.norm(pts, axis=1)
    origin = r <= 1e-9
    phi = np.arctan2(pts[:, 1], pts[:, 0]) - math.pi / 2
    radial = np.exp(-0.5 * (np.asarray(rings)[None, :] - r[:, None]) ** 2 / np.asarray(sigmas)[None, :] ** 2)
    harm = {0: np.ones((len(pts), 1))}
    for f in range(1, L + 1):
        y = np.stack([np.cos(f * phi), np.sin(f * phi)], 1)
        y[origin] = 0.0
        harm[f] = y
    in_pos = np.cumsum([0] + [G.size(k) for k in in_irreps])
    out_pos = np.cumsum([0] + [G.size(k) for k in out_irreps])
    elements = []
    for f in range(L + 1):
        q, res = G.restrict_harmonic(f)
        q_inv = np.linalg.inv(q)
        ys = radial[:, :, None] * harm[f][:, None, :]  # (S, rings, d_f)
        for ii, m in enumerate(in_irreps):
            for oo, n in enumerate(out_irreps):
                do, di = G.size(n), G.size(m)
                coeffs = []
                for j in G.tensor_product(m, n):
                    starts = np.cumsum([0] + [G.size(x) for x in res])
                    rows = [q_inv[starts[t] : starts[t] + G.size(j), :] for t, x in enumerate(res) if x == j]
                    if not rows:
                        continue
                    idc = np.stack(rows, -1)  # (d_j, d_f, copies)
                    cg = G.cg(n, m, j)  # (d_out, d_in, s, d_j)
                    c = np.einsum("nmsi,kji,jyt->kstnmy", cg, G.endomorphisms(j), idc)
                    coeffs.append(c.reshape(-1, do, di, idc.shape[1]))
                if not coeffs:
                    continue
                coeff = np.concatenate(coeffs, 0)  # (D, d_out, d_in, d_f)
                kern = np.einsum("dpnm,sim->dipns", coeff, ys)  # (D, rings, d_out, d_in, S)
                for d in range(kern.shape[0]):
                    for i in range(kern.shape[1]):
                        if abs(f) > fco(rings[i]):
                            continue
                        full = np.zeros((out_rep.size, in_rep.size, len(pts)))
                        full[out_pos[oo] : out_pos[oo + 1], in_pos[ii] : in_pos[ii + 1]] = kern[d, i]
                        full = np.einsum("op,pqs,qi->ois", q_out, full, q_in_inv)
                        norm2 = float((full**2).sum()) / do
                        norm2 = 0.0 if norm2 < 1e-15 else norm2
                        norm = math.sqrt(norm2)
                        if norm < 1e-6:
                            norm = 1.0
                        full = full / norm
                        if float((full**2).sum()) > 1e-2:
                            elements.append(full)
    return np.stack(elements) if elements else None


def escnn_bases(module, ins, outs, kind: str, where: str) -> dict:
    """{(in name, out name): (dim, d_out, d_in, S)} as escnn samples them for this layer."""
    from steerable.group._planar import CyclicGroup

    G = module.in_type.gspace.fibergroup
    if kind == "linear" or module.in_type.gspace.dimensionality != 2 or not isinstance(G, CyclicGroup):
        raise ValueError(
            f"{where}: the escnn checkpoint has no sampled kernel bases ('_basisexpansion.*.sampled_basis') "
            f"for this {type(module).__name__}, and re-deriving them is implemented for R2Conv on "
            f"rot2dOnR2(N) (C_N) only, not for {G.name}: save the checkpoint with escnn's full state_dict"
        )
    cn = _CN(int(G.order()))
    k = int(module.kernel_size)
    dil = getattr(module, "dilation", 1)
    dil = int(dil[0] if isinstance(dil, tuple) else dil)
    if isinstance(getattr(module, "dilation", 1), tuple) and len(set(module.dilation)) != 1:
        raise ValueError(f"{where}: re-deriving escnn's basis needs an isotropic dilation, got {module.dilation}")
    n = math.ceil(k / 2)
    rings = [float(i * dil) for i in range(n)]
    sigmas = [0.6] * (n - 1) + [0.4]
    sigmas = [0.005 if r == 0 else s for r, s in zip(rings, sigmas)]
    fco = _cutoff(k)
    L = int(max(fco(r) for r in rings))
    pts = _grid(k, dil)
    out = {}
    for ir in {r.name: r for r in ins}.values():
        for orp in {r.name: r for r in outs}.values():
            b = _pair_basis(cn, ir, orp, pts, rings, sigmas, L, fco, where)
            if b is not None:
                out[(ir.name, orp.name)] = b
    return out
