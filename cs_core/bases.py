"""Orthonormal sparsity bases Ψ on images ``(B, C, H, W)``, applied per channel, matrix-free.

Each basis gives ``analysis(x) = Ψᵀx`` (coefficients, same shape as x) and ``synthesis(c) = Ψc``.
Orthonormal means synthesis(analysis(x)) = x and ‖analysis(x)‖ = ‖x‖.
"""
import math
from functools import lru_cache

import torch


class Basis:
    name = ""

    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def synthesis(self, c: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class PixelBasis(Basis):
    """Ψ = I: sparsity of the pixels themselves."""
    name = "pixel"

    def analysis(self, x):
        return x

    def synthesis(self, c):
        return c


@lru_cache(maxsize=16)
def dct_matrix(size: int, device: str, dtype: torch.dtype) -> torch.Tensor:
    """The size×size orthonormal 1-D DCT-II matrix D (rows are cosines); D Dᵀ = I."""
    k = torch.arange(size, dtype=torch.float64)[:, None]
    i = torch.arange(size, dtype=torch.float64)[None, :]
    d = torch.cos(math.pi * (2 * i + 1) * k / (2 * size)) * math.sqrt(2.0 / size)
    d[0] /= math.sqrt(2.0)
    return d.to(device=device, dtype=dtype)


class DCTBasis(Basis):
    """2-D DCT-II per channel, orthonormal: equals ``scipy.fft.dctn(x, axes=(-2, -1), norm="ortho")``.

    Separable: c = D_H x D_Wᵀ with two small 1-D matrices, never an n×n one.
    """
    name = "dct"

    def _matrices(self, x):
        key = (str(x.device), x.dtype)
        return dct_matrix(x.shape[-2], *key), dct_matrix(x.shape[-1], *key)

    def analysis(self, x):
        dh, dw = self._matrices(x)
        return dh @ x @ dw.T

    def synthesis(self, c):
        dh, dw = self._matrices(c)
        return dh.T @ c @ dw


class HaarBasis(Basis):
    """Orthonormal 2-D Haar wavelet per channel, periodised, in the Mallat layout.

    Equals ``pywt.coeffs_to_array(pywt.wavedec2(x, "haar", mode="periodization", level=L))``
    with L the number of times the side can be halved exactly (2 for 28, 6 for 64) unless given.
    """
    name = "wavelet"

    def __init__(self, levels: int | None = None):
        self.levels = levels

    def _levels(self, size: int) -> int:
        most = 0
        while size % 2 == 0 and size > 1:
            size //= 2
            most += 1
        return most if self.levels is None else min(self.levels, most)

    def analysis(self, x):
        """Each level: (x₀+x₁)/√2 and (x₀−x₁)/√2 of pairs of rows, then of columns, of the previous level's
        approximation ll; the three details go straight to their quadrants, only ll is carried on.

        On a CPU a batch is transformed ``HAAR_CHUNK`` members at a time, in scratch memory that stays in cache; a
        batch larger than that (the rows of a measurement matrix, for its design AΨ) comes back batch-last in
        memory (a (B, C, H, W) view of (C, H, W, B) memory), the layout of a design's columns, so that no
        transposing copy of it is needed."""
        batch = x.shape[0]
        chunk = HAAR_CHUNK if x.device.type == "cpu" else batch
        if batch <= chunk:
            return self._analysis_into(x, torch.empty_like(x), _scratch(x, batch))
        out = torch.empty((*x.shape[1:], batch), dtype=x.dtype, device=x.device).permute(3, 0, 1, 2)
        scratch, block = _scratch(x, chunk), torch.empty((chunk, *x.shape[1:]), dtype=x.dtype, device=x.device)
        for first in range(0, batch, chunk):
            part = x[first: first + chunk]
            out[first: first + chunk] = self._analysis_into(part, block[: len(part)], scratch)
        return out

    def _analysis_into(self, x, out, scratch):
        """``analysis`` of x written into ``out``; ``scratch`` holds the rows' step (two halves of x's size)."""
        h, w = x.shape[-2:]
        ll = x
        for _ in range(self._levels(min(h, w))):
            pairs = ll.reshape(*ll.shape[:-2], h // 2, 2, w // 2, 2)  # (..., row pair, 2, column pair, 2)
            even, odd = pairs[..., 0, :, :], pairs[..., 1, :, :]
            lo_r, hi_r = (part[: even.numel()].view(even.shape) for part in scratch)
            torch.add(even, odd, out=lo_r).mul_(_S)  # the rows' step; the columns' pairs on the last axis
            torch.sub(even, odd, out=hi_r).mul_(_S)
            torch.sub(lo_r[..., 0], lo_r[..., 1], out=out[..., : h // 2, w // 2: w]).mul_(_S)
            torch.add(hi_r[..., 0], hi_r[..., 1], out=out[..., h // 2: h, : w // 2]).mul_(_S)
            torch.sub(hi_r[..., 0], hi_r[..., 1], out=out[..., h // 2: h, w // 2: w]).mul_(_S)
            ll = torch.add(lo_r[..., 0], lo_r[..., 1], out=out[..., : h // 2, : w // 2]).mul_(_S)
            h, w = h // 2, w // 2
        if ll is x:  # no level: the coefficients are the pixels
            out.copy_(x)
        return out

    def synthesis(self, c):
        out = c.clone()
        h, w = c.shape[-2:]
        levels = self._levels(min(h, w))
        for level in reversed(range(levels)):
            hh_, ww_ = h >> level, w >> level
            block = out[..., :hh_, :ww_]
            top, bottom = block[..., : hh_ // 2, :], block[..., hh_ // 2:, :]
            lo_r = _haar_merge(top[..., : ww_ // 2], top[..., ww_ // 2:], -1)
            hi_r = _haar_merge(bottom[..., : ww_ // 2], bottom[..., ww_ // 2:], -1)
            out[..., :hh_, :ww_] = _haar_merge(lo_r, hi_r, -2)
        return out


_S = 1.0 / math.sqrt(2.0)
HAAR_CHUNK = 32  # batch members per pass of the Haar analysis on a CPU (measured: 32–64 keep its scratch in cache)


def _scratch(x, members: int) -> tuple:
    """Two flat buffers of half the size of ``members`` members of x (the Haar analysis' rows' step)."""
    half = members * x[0].numel() // 2
    return tuple(torch.empty(half, dtype=x.dtype, device=x.device) for _ in range(2))


def _haar_merge(approx, detail, dim):
    """Inverse of one Haar step (approximation a = (x₀+x₁)/√2, detail d = (x₀−x₁)/√2 of pairs along ``dim``):
    interleave (a+d)/√2 and (a−d)/√2."""
    even, odd = (approx + detail) * _S, (approx - detail) * _S
    if dim == -2:
        return torch.stack([even, odd], dim=-2).flatten(-3, -2)
    return torch.stack([even, odd], dim=-1).flatten(-2, -1)


BASES = {"pixel": PixelBasis(), "dct": DCTBasis(), "wavelet": HaarBasis()}
