"""The experiment: node classification with (persistent) local homology sheaf networks against a
GCN and the learned-restriction sheaf diffusion baseline, on Zachary's karate club and on point
clouds whose labels are topological (points on a boundary of a disk with holes vs interior)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._complex import SimplicialComplex, clique_complex, delaunay_complex
from ._layers import GCN, SheafDiffusion, SheafNetwork
from ._sheaf import constant_sheaf, direct_sum, local_homology_sheaf, persistent_local_homology_sheaf

__all__ = ["MODELS", "NodeDataset", "NodeResult", "holey_disk", "karate_club", "node_classification"]

MODELS = tuple(
    ["gcn", "gcn+self", "nsd"]
    + [f"{b}{a}{s}" for b in ("lh", "plh", "plh-learned") for a in ("", "-att") for s in ("", "+self")]
)


@dataclass
class NodeDataset:
    """A node-classification task on a complex: node ``features`` ``(n, F)``, ``labels`` ``(n,)``,
    optional ``edge_weights`` (one per edge of ``complex``, the filtration of the persistent sheaf).

    >>> import torch
    >>> from steerable.sheaf import NodeDataset, SimplicialComplex
    >>> ds = NodeDataset("triangle", SimplicialComplex([(0, 1, 2)]), torch.ones(3, 1), torch.tensor([0, 1, 0]))
    >>> ds.edge_index.tolist()
    [[0, 0, 1], [1, 2, 2]]
    """

    name: str
    complex: SimplicialComplex
    features: torch.Tensor
    labels: torch.Tensor
    edge_weights: torch.Tensor | None = None
    points: np.ndarray | None = None

    @property
    def edge_index(self) -> torch.Tensor:
        """The ``(2, m)`` edges of the complex."""
        return torch.as_tensor(self.complex.edges.T.copy())


@dataclass
class NodeResult:
    """One training run: accuracies, wall time (sheaf construction included unless the sheaf came
    from ``sheaf_cache``), parameter count.

    >>> from steerable.sheaf import NodeResult
    >>> NodeResult("gcn", 0, 1.0, 0.9, 0.5, 0.0, 100).test_accuracy
    0.9
    """

    model: str
    seed: int
    train_accuracy: float
    test_accuracy: float
    seconds: float
    sheaf_seconds: float
    parameters: int


def karate_club(max_dim: int = 3) -> NodeDataset:
    """Zachary's karate club (``networkx``): 34 members, the two clubs as labels, one-hot
    features, the clique complex of the friendship graph up to ``max_dim``.

    >>> from steerable.sheaf import karate_club
    >>> ds = karate_club()
    >>> ds.features.shape, int(ds.labels.sum())
    (torch.Size([34, 34]), 17)
    """
    try:
        import networkx as nx
    except ImportError as err:  # pragma: no cover - optional dependency
        raise ImportError("karate_club needs networkx: pip install 'steerable[sheaf]' (or networkx)") from err
    g = nx.karate_club_graph()
    labels = torch.tensor([int(g.nodes[v]["club"] != "Mr. Hi") for v in range(g.number_of_nodes())])
    X = clique_complex(g, max_dim=max_dim)
    return NodeDataset("karate", X, torch.eye(X.n_vertices), labels)


def holey_disk(
    n_points: int = 400, holes: int = 3, margin: float = 0.06, seed: int = 0, features: str = "constant"
) -> NodeDataset:
    """Points uniform in the unit disk minus ``holes`` random round holes, their Delaunay
    triangulation (which fills the holes with long edges) and the label "within ``margin`` of
    the outer circle or of a hole" (1) vs interior (0). Edge weights: edge lengths.

    ``features="constant"`` gives every node the feature 1 (the labels must come from the
    structure); ``"geometric"`` gives degree, mean and max incident edge length.

    >>> from steerable.sheaf import holey_disk
    >>> ds = holey_disk(120, holes=2, seed=0)
    >>> ds.features.shape, ds.complex.dim
    (torch.Size([120, 1]), 2)
    """
    if features not in ("constant", "geometric"):
        raise ValueError(f"features: expected 'constant' or 'geometric', got {features!r}")
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 10:
        raise ValueError(f"n_points: expected an int >= 10, got {n_points!r}")
    rng = np.random.default_rng(seed)
    centres: list[np.ndarray] = []
    radii: list[float] = []
    while len(centres) < holes:
        c, r = rng.uniform(-0.55, 0.55, 2), rng.uniform(0.15, 0.25)
        if np.linalg.norm(c) + r < 0.85 and all(
            np.linalg.norm(c - c2) > r + r2 + 0.12 for c2, r2 in zip(centres, radii)
        ):
            centres.append(c)
            radii.append(r)
    pts: list[np.ndarray] = []
    while len(pts) < n_points:
        q = rng.uniform(-1, 1, 2)
        if np.linalg.norm(q) <= 1 and all(np.linalg.norm(q - c) >= r for c, r in zip(centres, radii)):
            pts.append(q)
    p = np.stack(pts)
    dist = 1 - np.linalg.norm(p, axis=1)
    for c, r in zip(centres, radii):
        dist = np.minimum(dist, np.linalg.norm(p - c, axis=1) - r)
    X = delaunay_complex(p)
    e = X.edges
    w = torch.as_tensor(np.linalg.norm(p[e[:, 0]] - p[e[:, 1]], axis=1))
    if features == "constant":
        f = torch.ones(len(p), 1)
    else:
        n = len(p)
        deg = np.bincount(e.ravel(), minlength=n).astype(float)
        s = np.bincount(e.ravel(), weights=np.repeat(w.numpy(), 2), minlength=n)
        mx = np.zeros(n)
        np.maximum.at(mx, e[:, 0], w.numpy())
        np.maximum.at(mx, e[:, 1], w.numpy())
        f = torch.tensor(np.stack([deg / deg.mean(), s / deg / w.mean().item(), mx / w.mean().item()], 1)).float()
    return NodeDataset(f"holey_disk[{features}]", X, f, torch.as_tensor(dist < margin).long(), w, p)


def _split(labels: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    train = torch.zeros(len(labels), dtype=torch.bool)
    for c in labels.unique():
        idx = (labels == c).nonzero().squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        train[idx[: max(1, round(fraction * len(idx)))]] = True
    return train, ~train


def node_classification(
    dataset: NodeDataset,
    model: str = "plh",
    seed: int = 0,
    epochs: int = 200,
    hidden: int = 16,
    layers: int = 2,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    train_fraction: float = 0.5,
    sheaf_cache: dict | None = None,
) -> NodeResult:
    """Train one model (one of :data:`MODELS`) full-batch with Adam on a random stratified split
    (``train_fraction`` of each class) and report the final train/test accuracy and wall time.

    ``gcn``: the GCN baseline; ``gcn+self``: GCN with a separate self weight (a sheaf network on
    the constant sheaf); ``nsd``: Neural Sheaf Diffusion (learned 2×2 restriction maps);
    ``lh``: sheaf convolution on constant ⊕ local homology sheaf; ``plh``: the same on constant ⊕
    persistent local homology sheaf of the dataset's edge weights; ``plh-learned``: the
    persistent sheaf of distances between learned node embeddings, rebuilt every step (the
    network shapes its own topology). Suffixes: ``-att`` sheaf attention instead of
    convolution, ``+self`` a separate self weight (:class:`SheafConv`).

    >>> from steerable.sheaf import holey_disk, node_classification
    >>> r = node_classification(holey_disk(60, holes=1), "gcn", epochs=5)
    >>> 0.0 <= r.test_accuracy <= 1.0
    True
    """
    if not isinstance(dataset, NodeDataset):
        raise TypeError(f"dataset: expected a NodeDataset, got {type(dataset).__name__}")
    if model not in MODELS:
        raise ValueError(f"model: expected one of {MODELS}, got {model!r}")
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction: expected a number in (0, 1), got {train_fraction!r}")
    base, att, selfw = model.split("+")[0].removesuffix("-att"), "-att" in model, model.endswith("+self")
    if base == "plh" and dataset.edge_weights is None:
        raise ValueError(f"model: {model!r} needs a dataset with edge_weights (use 'plh-learned')")
    torch.manual_seed(seed)
    x, y, X = dataset.features.double(), dataset.labels, dataset.complex
    n_cls = int(y.max()) + 1
    train, test = _split(y, train_fraction, seed)
    cache = {} if sheaf_cache is None else sheaf_cache
    t0 = time.perf_counter()
    net: Any
    embed = None
    if model in ("gcn", "nsd"):
        net = (
            GCN(x.shape[1], hidden, n_cls, layers)
            if model == "gcn"
            else SheafDiffusion(x.shape[1], hidden, n_cls, 2, layers)
        )
        run = lambda: net(x, dataset.edge_index)
    else:
        if base == "gcn":
            if "const" not in cache:
                cache["const"] = constant_sheaf(X)
            sheaf = cache["const"]
        elif base == "lh":
            if "lh" not in cache:
                cache["lh"] = direct_sum(constant_sheaf(X), local_homology_sheaf(X))
            sheaf = cache["lh"]
        elif base == "plh":
            if "plh" not in cache:
                cache["plh"] = direct_sum(constant_sheaf(X), persistent_local_homology_sheaf(X, dataset.edge_weights))
            sheaf = cache["plh"]
        else:
            embed = torch.nn.Linear(x.shape[1], 4).double()
            e = torch.as_tensor(X.edges)

            def build():
                z = embed(x)
                w = (z[e[:, 0]] - z[e[:, 1]]).norm(dim=1) + 1e-3
                return direct_sum(constant_sheaf(X), persistent_local_homology_sheaf(X, w))

            sheaf = build()
        net = SheafNetwork(sheaf.n_kinds, x.shape[1], hidden, n_cls, layers, attention=att, self_weight=selfw)

        def run():
            return net(x, build() if embed is not None else sheaf)

    sheaf_seconds = time.perf_counter() - t0
    net = net.double()
    params = list(net.parameters()) + (list(embed.parameters()) if embed is not None else [])
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        net.train()
        loss = torch.nn.functional.cross_entropy(run()[train], y[train])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        pred = run().argmax(1)
    return NodeResult(
        model,
        seed,
        float((pred[train] == y[train]).double().mean()),
        float((pred[test] == y[test]).double().mean()),
        time.perf_counter() - t0,
        sheaf_seconds,
        sum(p.numel() for p in params),
    )
