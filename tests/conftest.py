"""Test-wide settings: one intra-op thread (the suite's tensors are tiny; thread start-up and
contention cost more than they save, especially on a shared 2-core machine)."""

import torch

torch.set_num_threads(1)
