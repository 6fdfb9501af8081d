"""Node classification on the persistent local homology sheaf (Cesa & Behboodi 2023).

Samples points in a disk with round holes, triangulates them (Delaunay fills the holes), builds
the local homology sheaf and its persistent version (filtration: edge lengths), and trains a GCN
and sheaf networks to tell points near a boundary from interior points, with constant features.
Run: ``.venv/bin/python examples/sheaf_node_classification.py --points 400 --epochs 200``
"""

from __future__ import annotations

import argparse

import torch

from steerable.sheaf import (
    constant_sheaf,
    direct_sum,
    holey_disk,
    local_betti,
    local_homology_sheaf,
    node_classification,
    persistent_local_homology,
    persistent_local_homology_sheaf,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=400)
    ap.add_argument("--holes", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    ds = holey_disk(a.points, holes=a.holes, seed=a.seed)
    X, y = ds.complex, ds.labels
    print(f"{X}: {int(y.sum())} of {X.n_vertices} points lie near a boundary")
    b2 = torch.as_tensor(local_betti(X)[:, 2])
    print(
        f"H_2(X, X∖v) ≠ 0 at {float((b2[y == 0] > 0).double().mean()):.0%} of interior and "
        f"{float((b2[y == 1] > 0).double().mean()):.0%} of boundary points (the holes are filled)"
    )
    # persistence sees the holes: the H_2 class of a point at a hole is born late (long edges)
    births = torch.tensor(
        [
            min(
                [b for k, b, d in persistent_local_homology(X, v, edge_weights=ds.edge_weights) if k == 2]
                or [float("nan")]
            )
            for v in range(X.n_vertices)
        ]
    )
    print(
        f"median birth of the local H_2 class: interior {births[y == 0].nanmedian():.3f}, "
        f"boundary {births[y == 1].nanmedian():.3f}"
    )
    cache = {
        "const": constant_sheaf(X),
        "lh": direct_sum(constant_sheaf(X), local_homology_sheaf(X)),
        "plh": direct_sum(constant_sheaf(X), persistent_local_homology_sheaf(X, ds.edge_weights)),
    }
    print(f"persistent local homology sheaf: {cache['plh']}")
    for model in ("gcn", "lh+self", "plh+self"):
        r = node_classification(ds, model, seed=a.seed, epochs=a.epochs, sheaf_cache=cache)
        print(f"{model:9s} train {r.train_accuracy:.3f}  test {r.test_accuracy:.3f}  ({r.seconds:.1f} s)")


if __name__ == "__main__":
    main()
