"""The sketch of a ``dask.array`` (n, d) that need not fit one machine, on any Dask scheduler.

Each block of rows is reduced on its worker to [Σ Φ(x_i); n_block; #non-finite] (2m + 2 numbers,
see :func:`.sketch.chunk_sums`), Dask sums those vectors in a tree, and the driver divides by N.
Only Ω travels to the workers and only 2m + 2 numbers per block come back.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import InputError
from .sketch import Sketch, chunk_sums


def _block_sums(block: np.ndarray, omega: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(block, dtype=np.float64))
    finite = torch.isfinite(x).all(dim=1)
    sums = chunk_sums(x[finite], torch.from_numpy(omega))
    tail = torch.tensor([float(finite.sum()), float((~finite).sum())], dtype=torch.float64)
    return torch.cat([sums, tail]).numpy()[None, :]


def sketch_dask(x, omega: torch.Tensor, address: str | None = None) -> Sketch:
    """Sketch of the dask array ``x`` (n, d): on the scheduler at ``address`` (e.g. ``tcp://host:8786``), else Dask's default."""
    import dask.array as da

    x = da.asarray(x)
    if x.ndim != 2:
        raise InputError(f"the data must be a 2-D array (points × dimensions); got shape {tuple(x.shape)}")
    if x.shape[1] != omega.shape[0]:
        raise InputError(f"the data has {x.shape[1]} dimensions but the frequencies have {omega.shape[0]}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise InputError(f"the data must hold real numbers; got dtype {x.dtype}")
    if x.shape[0] == 0:
        raise InputError("the data is empty: a sketch needs at least one point")
    x = x.rechunk({1: -1})  # every block holds whole rows
    width = 2 * omega.shape[1] + 2
    per_block = x.map_blocks(_block_sums, omega.cpu().numpy(), dtype=np.float64,
                             chunks=((1,) * x.numblocks[0], (width,)))
    total = per_block.sum(axis=0)
    if address:
        from distributed import Client
        try:
            client = Client(address, timeout="10s", set_as_default=False)
        except OSError as exc:
            raise InputError(f"no Dask scheduler answers at {address} ({exc}); start one or drop --dask") from None
        with client:
            result = client.compute(total).result()
    else:
        result = total.compute()
    result = torch.from_numpy(np.asarray(result))
    count, bad = int(result[-2]), int(result[-1])
    if bad:
        raise InputError(f"the data contains NaN or infinite values in {bad} rows; remove or fill them first")
    return Sketch((result[:-2] / count).to(omega.device), count)
