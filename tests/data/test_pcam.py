"""PCam from its HDF5 files: the synthetic set in the official format, reading, D4 augmentation,
errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from steerable.data import PCam, make_synthetic_pcam, pcam_files

h5py = pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_synthetic_pcam(tmp_path_factory.mktemp("pcam"), n_train=24, n_valid=6, n_test=10, seed=3)


def test_files_have_the_official_format(root):
    for split, n in (("train", 24), ("valid", 6), ("test", 10)):
        fx, fy = pcam_files(root, split)
        with h5py.File(fx, "r") as f, h5py.File(fy, "r") as g:
            assert f["x"].shape == (n, 96, 96, 3) and f["x"].dtype == np.uint8
            assert g["y"].shape == (n, 1, 1, 1) and g["y"].dtype == np.uint8
            assert abs(int(g["y"][:].sum()) - n / 2) <= 0.5  # balanced


def test_items_match_the_file(root):
    ds = PCam(root, "test")
    with h5py.File(pcam_files(root, "test")[0], "r") as f:
        raw = f["x"][3]
    x, y = ds[3]
    assert x.dtype == torch.float32 and x.shape == (3, 96, 96) and 0.0 <= float(x.min()) <= float(x.max()) <= 1.0
    assert torch.equal((x * 255).round().to(torch.uint8).permute(1, 2, 0), torch.from_numpy(raw))
    assert y == int(ds.labels[3]) and len(PCam(root, "test", limit=4)) == 4


def test_d4_augmentation_is_a_symmetry_of_the_grid(root):
    plain, aug = PCam(root, "train"), PCam(root, "train", augment="d4", seed=1)
    seen = set()
    for i in range(12):
        x, y = plain[i]
        xa, ya = aug[i]
        assert y == ya
        images = [torch.rot90(x, k, (1, 2)) for k in range(4)]
        images += [torch.flip(im, (2,)) for im in images]
        matches = [j for j, im in enumerate(images) if torch.equal(im, xa)]
        assert matches, i
        seen.add(matches[0])
    assert len(seen) > 1  # it does transform


def test_dataset_pickles_and_loads_in_batches(root):
    ds = PCam(root, "valid")
    ds[0]  # opens the file
    clone = pickle.loads(pickle.dumps(ds))
    assert torch.equal(clone[1][0], ds[1][0])
    xb, yb = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 3, 96, 96) and yb.shape == (4,)


def test_bad_input(root, tmp_path):
    with pytest.raises(ValueError, match="split"):
        PCam(root, "validation")
    with pytest.raises(FileNotFoundError, match="data_dir: .* lacks camelyonpatch_level_2_split_train_x.h5"):
        PCam(tmp_path, "train")
    (tmp_path / "camelyonpatch_level_2_split_train_x.h5.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="gunzip"):
        PCam(tmp_path, "train")
    with pytest.raises(ValueError, match="augment"):
        PCam(root, "train", augment="rotate")
    with pytest.raises(ValueError, match="limit"):
        PCam(root, "train", limit=0)
    with pytest.raises(IndexError):
        PCam(root, "valid")[6]
    with pytest.raises(ValueError, match="n_train"):
        make_synthetic_pcam(tmp_path, n_train=0)
