"""A visitor's own 2-D data: points from a file (.npy or .csv) or from strokes drawn on a canvas, checked once
here for the CLI (``sketch fit --data``) and the app alike, and scaled into the unit ball like the toy sets.

Limits: at least ``MIN_POINTS`` points, at most ``MAX_ROWS`` rows, exactly 2 columns, finite values, files of at
most ``MAX_FILE_BYTES``. Each is an :class:`~cs_core.errors.InputError` saying what is wrong.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import InputError

MIN_POINTS = 100
MAX_ROWS = 1_000_000
MAX_FILE_BYTES = 64 * 2**20
RADIUS = 0.9          # the data's farthest point from the centre of its bounding box lands at this radius
SUFFIXES = (".npy", ".csv")


def check_points(x: np.ndarray, what: str = "the data") -> np.ndarray:
    """(N, 2) finite real numbers with MIN_POINTS ≤ N ≤ MAX_ROWS, as float64."""
    x = np.asarray(x)
    if x.dtype.kind not in "iuf":
        raise InputError(f"{what} must hold real numbers; got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[1] != 2:
        shape = f"{x.shape[1]} columns" if x.ndim == 2 else f"shape {x.shape}"
        raise InputError(f"{what} must have 2 columns (x, y), one point per row; got {shape}")
    if x.shape[0] < MIN_POINTS:
        raise InputError(f"{what} has {x.shape[0]} points; at least {MIN_POINTS} are needed")
    if x.shape[0] > MAX_ROWS:
        raise InputError(f"{what} has {x.shape[0]:,} rows; at most {MAX_ROWS:,} are allowed")
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise InputError(f"{what} contains NaN or infinite values; remove or fill them first")
    return x


def load_points(path: str | Path, what: str = "--data") -> np.ndarray:
    """The (N, 2) points of a ``.npy`` array or a ``.csv`` of two numeric columns (a header line is skipped)."""
    path = Path(path)
    label = f"{what} {path.name}"
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"{label}: give a .npy or .csv file of 2-D points")
    if not path.is_file():
        raise InputError(f"{label}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{label} is {size / 2**20:.1f} MB; files of at most {MAX_FILE_BYTES // 2**20} MB are accepted")
    if path.suffix.lower() == ".npy":
        try:
            data = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise InputError(f"{label} is not a .npy array ({exc})") from None
    else:
        data = _read_csv(path, label)
    return check_points(data, label)


def _read_csv(path: Path, label: str) -> np.ndarray:
    lines = path.read_text(errors="replace").splitlines()
    rows = [line for line in lines if line.strip()]
    if rows and not _numeric(rows[0]):
        rows = rows[1:]                          # a header
    if len(rows) > MAX_ROWS:
        raise InputError(f"{label} has {len(rows):,} rows; at most {MAX_ROWS:,} are allowed")
    try:
        table = [[float(v) for v in row.replace(";", ",").split(",")] for row in rows]
    except ValueError:
        raise InputError(f"{label}: every row must be numbers separated by commas, e.g. 0.1,-0.3") from None
    widths = {len(row) for row in table}
    if len(widths) > 1:
        raise InputError(f"{label}: rows have different numbers of columns ({', '.join(map(str, sorted(widths)))})")
    return np.array(table, dtype=np.float64).reshape(len(table), widths.pop() if widths else 2)


def _numeric(row: str) -> bool:
    try:
        [float(v) for v in row.replace(";", ",").split(",")]
        return True
    except ValueError:
        return False


def normalise(x: np.ndarray) -> torch.Tensor:
    """Centre the points on their bounding box's middle and scale them so the farthest lies at ``RADIUS``
    (as the toy sets lie in the unit ball): (N, 2) float64."""
    x = torch.as_tensor(x, dtype=torch.float64)
    centre = (x.max(0).values + x.min(0).values) / 2
    radius = (x - centre).norm(dim=1).max()
    if not radius > 0:
        raise InputError("the data's points all coincide: there is no shape to learn")
    return (x - centre) * (RADIUS / radius)


def stroke_points(mask: np.ndarray, n: int, seed: int, jitter: float = 0.5) -> torch.Tensor:
    """``n`` points along the strokes of a drawing: ``mask`` (H, W) bool marks the painted pixels; each point is a
    painted pixel drawn at random, placed uniformly inside it plus Gaussian jitter of ``jitter`` pixels; y points
    up; normalised like the toys."""
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2 or not mask.any():
        raise InputError("the drawing is empty: draw a shape on the canvas first")
    rows, cols = np.nonzero(mask)
    if len(rows) < MIN_POINTS:
        raise InputError(f"the drawing has {len(rows)} painted pixels; draw a larger shape (at least {MIN_POINTS})")
    g = torch.Generator().manual_seed(seed)
    pick = torch.randint(len(rows), (n,), generator=g)
    xy = torch.stack([torch.from_numpy(cols).double()[pick], -torch.from_numpy(rows).double()[pick]], 1)
    xy = xy + torch.rand(n, 2, generator=g, dtype=torch.float64) + jitter * torch.randn(n, 2, generator=g,
                                                                                       dtype=torch.float64)
    return normalise(xy)


def split(x: torch.Tensor, heldout: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, held-out) of the rows of ``x`` in a random order drawn from ``seed``; at most a fifth is held out."""
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    k = min(heldout, x.shape[0] // 5)
    return x[order[k:]], x[order[:k]]
