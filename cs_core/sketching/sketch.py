"""One-pass sketches: the empirical characteristic function of a dataset at the frequencies Ω.

.. math:: z_X = \\frac{1}{N}\\sum_{i=1}^N \\Phi(x_i), \\qquad
          \\Phi(x) = \\frac{1}{\\sqrt m}\\,[\\cos(\\Omega^\\top x);\\ \\sin(\\Omega^\\top x)] \\in \\mathbb R^{2m}.

A sketch is a mean, so it is accumulated chunk by chunk (memory independent of N, the same
result whatever the chunking, float64 sums) and the sketches of shards merge exactly as the
count-weighted mean of their values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch

from ..errors import InputError

MAX_FEATURES_PER_CHUNK = 200_000  # rows × m of a block of features: float64 temporaries of at most 3.2 MB each


@dataclass(frozen=True)
class Sketch:
    values: torch.Tensor  # (2m,) float64: [mean cos; mean sin] / √m
    count: int            # number of points it summarises

    @property
    def m(self) -> int:
        return self.values.shape[0] // 2

    @property
    def nbytes(self) -> int:
        return self.values.numel() * self.values.element_size()


def features(x: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """Φ(x) for each row of x (n, d): (n, 2m) in ω's dtype."""
    proj = x.to(omega.dtype) @ omega
    return torch.cat([torch.cos(proj), torch.sin(proj)], dim=1) / omega.shape[1] ** 0.5


def check_points(x, d: int | None = None, what: str = "the data") -> torch.Tensor:
    """A chunk as a 2-D float tensor (n, d) with finite entries, else an InputError saying what is wrong."""
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise InputError(f"{what} must hold real numbers; got dtype {x.dtype}")
        x = torch.from_numpy(np.array(x))  # a writable copy (chunks of memory-mapped files are read-only)
    x = torch.as_tensor(x)
    if x.ndim != 2:
        raise InputError(f"{what} must be a 2-D array (points × dimensions); got shape {tuple(x.shape)}")
    if d is not None and x.shape[1] != d:
        raise InputError(f"{what} has {x.shape[1]} dimensions but the frequencies have {d}")
    if x.is_complex() or x.dtype == torch.bool:
        raise InputError(f"{what} must hold real numbers; got dtype {x.dtype}")
    if not torch.isfinite(x).all():
        raise InputError(f"{what} contains NaN or infinite values; remove or fill them first")
    return x


def chunk_sums(x: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """Σ_i Φ(x_i) over the rows of one chunk, float64, computed in row blocks that fit memory."""
    rows = max(1, MAX_FEATURES_PER_CHUNK // omega.shape[1])
    total = torch.zeros(2 * omega.shape[1], dtype=torch.float64, device=omega.device)
    for start in range(0, x.shape[0], rows):
        block = x[start:start + rows].to(omega.device)
        total += features(block, omega).sum(0, dtype=torch.float64)
    return total


def sketch_stream(chunks: Iterable, omega: torch.Tensor) -> Sketch:
    """The sketch of the concatenation of ``chunks`` (arrays or tensors (n_i, d)), read once."""
    d = omega.shape[0]
    total = torch.zeros(2 * omega.shape[1], dtype=torch.float64, device=omega.device)
    count = 0
    for chunk in chunks:
        x = check_points(chunk, d)
        total += chunk_sums(x, omega)
        count += x.shape[0]
    if count == 0:
        raise InputError("the data is empty: a sketch needs at least one point")
    return Sketch(total / count, count)


def iter_chunks(x, size: int):
    """Rows of an array (or memory-mapped file) in chunks of ``size``."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError(f"the chunk size must be a whole number ≥ 1; got {size}")
    for start in range(0, len(x), size):
        yield x[start:start + size]


def merge(sketches: list[Sketch]) -> Sketch:
    """The sketch of the union of the shards: Σ_k n_k z_k / Σ_k n_k."""
    if not sketches:
        raise InputError("nothing to merge: give at least one sketch")
    if len({s.values.shape for s in sketches}) != 1:
        raise InputError("sketches of different sizes cannot be merged")
    count = sum(s.count for s in sketches)
    values = sum(s.values * s.count for s in sketches) / count
    return Sketch(values, count)


def sketch_density(sketch: Sketch, omega: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """⟨z_X, Φ(c)⟩ at each row c of ``points``: (1/N) Σ_i κ̂(x_i, c), the smoothed density the sketch encodes
    (in row blocks, as ``chunk_sums``, written into one output: no small result between two blocks' temporaries)."""
    rows, values = max(1, MAX_FEATURES_PER_CHUNK // omega.shape[1]), sketch.values.to(omega.dtype)
    out = torch.empty(points.shape[0], dtype=omega.dtype, device=omega.device)
    for start in range(0, points.shape[0], rows):
        torch.mv(features(points[start:start + rows].to(omega.device), omega), values, out=out[start:start + rows])
    return out
