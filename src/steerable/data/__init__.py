"""Data sets used by the examples and the CLI (no downloads)."""
from ._mnist import RotatedMNIST, load_mnist_5k, mnist_5k_path, rotate_images, split_indices

__all__ = ["RotatedMNIST", "load_mnist_5k", "mnist_5k_path", "rotate_images", "split_indices"]
