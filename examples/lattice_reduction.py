"""Neural lattice reduction: train the B_n-equivariant Gauss-move reducer without labels and
compare its orthogonality defect with LLL and Seysen, then check its symmetries.

Run: ``.venv/bin/python examples/lattice_reduction.py --n 8 --iterations 100``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from steerable.group import hyperoctahedral_group
from steerable.lattice import (
    GaussMoveReducer,
    apply_signed_permutation,
    is_unimodular,
    lll_reduce,
    log_orthogonality_defect,
    random_lattices,
    seysen_reduce,
    train_reducer,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8, help="lattice dimension")
    ap.add_argument("--iterations", type=int, default=100, help="training iterations")
    ap.add_argument("--batch", type=int, default=64, help="bases per training iteration")
    ap.add_argument("--test", type=int, default=256, help="test bases")
    ap.add_argument("--family", default="gaussian", help="gaussian, ill_conditioned or scrambled")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = GaussMoveReducer()
    val = random_lattices(64, a.n, a.family, seed=1)
    losses = train_reducer(model, a.n, a.family, iterations=a.iterations, batch_size=a.batch, validation=val)
    print(f"trained {a.iterations} iterations: loss {losses[0]:.3f} -> {losses[-1]:.3f}")

    B = random_lattices(a.test, a.n, a.family, seed=2)
    print(
        f"n = {a.n}, {a.test} {a.family} bases: mean log defect of the input {np.mean(log_orthogonality_defect(B)):.3f}"
    )
    for name, fn in [
        ("LLL delta=0.75", lambda x: lll_reduce(x, 0.75)),
        ("LLL delta=0.99", lambda x: lll_reduce(x, 0.99)),
        ("Seysen", seysen_reduce),
        ("Gauss moves (ours)", model.reduce),
    ]:
        t = time.perf_counter()
        red, Q = fn(B)
        ms = 1000 * (time.perf_counter() - t) / a.test
        ld = log_orthogonality_defect(red)
        print(
            f"  {name:<20} mean log defect {np.mean(ld):.3f}  median defect {np.median(np.exp(ld)):.3f}  {ms:.2f} ms/basis"
        )

    red, Q = model.reduce(B[:16])
    G = hyperoctahedral_group(a.n)
    g = G.sample(seed=3)
    M = G.standard_representation(g).astype(np.int64)
    _, Qg = model.reduce(apply_signed_permutation(B[:16], g))
    R = np.linalg.qr(np.random.default_rng(4).normal(size=(a.n, a.n)))[0]
    _, Qr = model.reduce(2.5 * R @ B[:16])
    print(f"Q unimodular (exact integer check): {is_unimodular(Q)}")
    print(f"B_n equivariance Q(BM) == M^T Q(B) M: {np.array_equal(Qg, M.T @ Q @ M)}")
    print(f"invariance to rotation and scaling of the ambient space: {np.array_equal(Qr, Q)}")


if __name__ == "__main__":
    main()
