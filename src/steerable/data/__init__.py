"""Data sets used by the examples, the CLI and the training tasks (no downloads): rotated MNIST,
double-digit MNIST, 3-D voxel tetris, point-charge dipoles, charged N-body dynamics, rotated 3-D shape point clouds,
Patch Camelyon from its HDF5 files (and a synthetic set in the same format)."""

from ._dipoles import PointDipoles, random_rotations
from ._double_mnist import DOUBLE_MNIST_SYMMETRIES, DoubleMNIST
from ._mnist import RotatedMNIST, load_mnist_5k, mnist_5k_path, rotate_images, split_indices
from ._nbody import ChargedNBody, charged_nbody_energy, integrate_charged_nbody, simulate_charged_nbody
from ._pcam import PCAM_SPLITS, PCam, make_synthetic_pcam, pcam_files
from ._shapes import POSES, SHAPE_CLASSES, PointShapes, random_poses
from ._tetris import TETRIS_PIECES, VoxelTetris, cube_rotations, rotate_voxels

__all__ = [
    "DOUBLE_MNIST_SYMMETRIES",
    "DoubleMNIST",
    "POSES",
    "PointShapes",
    "SHAPE_CLASSES",
    "random_poses",
    "ChargedNBody",
    "charged_nbody_energy",
    "integrate_charged_nbody",
    "simulate_charged_nbody",
    "PCAM_SPLITS",
    "PCam",
    "make_synthetic_pcam",
    "pcam_files",
    "PointDipoles",
    "RotatedMNIST",
    "TETRIS_PIECES",
    "VoxelTetris",
    "cube_rotations",
    "load_mnist_5k",
    "mnist_5k_path",
    "random_rotations",
    "rotate_images",
    "rotate_voxels",
    "split_indices",
]
