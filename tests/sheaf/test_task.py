"""The experiment's datasets and driver: labels, every model family trains, bad input."""

import numpy as np
import pytest
import torch

from steerable.sheaf import MODELS, delaunay_complex, holey_disk, karate_club, local_betti, node_classification


def test_holey_disk_labels_and_topology():
    ds = holey_disk(150, holes=2, seed=1)
    assert ds.complex.counts[0] == 150 and 0.1 < ds.labels.float().mean() < 0.5
    # Delaunay fills the holes: only hull points lose their local H_2
    b2 = local_betti(ds.complex)[:, 2]
    hull = np.linalg.norm(ds.points, axis=1) > 0.8
    assert b2[~hull].min() == 1
    g = holey_disk(150, holes=2, seed=1, features="geometric")
    assert g.features.shape == (150, 3) and torch.equal(g.labels, ds.labels)


def test_delaunay_is_a_disk():
    p = np.random.default_rng(0).uniform(size=(40, 2))
    X = delaunay_complex(p)
    assert X.counts[0] - X.counts[1] + X.counts[2] == 1  # Euler characteristic of a disk


@pytest.mark.parametrize("model", ["gcn", "gcn+self", "nsd", "lh-att", "plh+self", "plh-learned"])
def test_models_train(model):
    ds = holey_disk(40, holes=1, seed=2)
    r = node_classification(ds, model, epochs=3, hidden=4)
    assert 0 <= r.test_accuracy <= 1 and r.parameters > 0 and r.seconds > 0


def test_karate():
    pytest.importorskip("networkx")
    ds = karate_club()
    assert ds.complex.counts[:2] == (34, 78) and int(ds.labels.sum()) == 17
    with pytest.raises(ValueError, match="edge_weights"):
        node_classification(ds, "plh")
    r = node_classification(ds, "lh", epochs=30, train_fraction=0.3)
    assert r.train_accuracy == 1.0


def test_bad_input():
    ds = holey_disk(40, holes=1)
    with pytest.raises(ValueError, match="model"):
        node_classification(ds, "transformer")
    with pytest.raises(TypeError, match="dataset"):
        node_classification("karate", "gcn")
    with pytest.raises(ValueError, match="train_fraction"):
        node_classification(ds, "gcn", train_fraction=1.5)
    with pytest.raises(ValueError, match="features"):
        holey_disk(40, features="coordinates")
    with pytest.raises(ValueError, match="points"):
        delaunay_complex(np.zeros((2, 2)))
    assert len(MODELS) == len(set(MODELS))
