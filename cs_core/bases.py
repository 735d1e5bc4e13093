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
        approximation ll; the three details go straight to their quadrants, only ll is carried on."""
        out = torch.empty_like(x)
        h, w = x.shape[-2:]
        ll = x
        for _ in range(self._levels(min(h, w))):
            pairs = ll.reshape(*ll.shape[:-2], h // 2, 2, w // 2, 2)  # (..., row pair, 2, column pair, 2)
            even, odd = pairs[..., 0, :, :], pairs[..., 1, :, :]
            lo_r, hi_r = (even + odd) * _S, (even - odd) * _S  # the rows' step; the columns' pairs on the last axis
            out[..., : h // 2, w // 2: w], out[..., h // 2: h, : w // 2], out[..., h // 2: h, w // 2: w] = (
                (lo_r[..., 0] - lo_r[..., 1]) * _S, (hi_r[..., 0] + hi_r[..., 1]) * _S,
                (hi_r[..., 0] - hi_r[..., 1]) * _S)
            ll = (lo_r[..., 0] + lo_r[..., 1]) * _S
            h, w = h // 2, w // 2
        out[..., :h, :w] = ll
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


def _haar_merge(approx, detail, dim):
    """Inverse of one Haar step (approximation a = (x₀+x₁)/√2, detail d = (x₀−x₁)/√2 of pairs along ``dim``):
    interleave (a+d)/√2 and (a−d)/√2."""
    even, odd = (approx + detail) * _S, (approx - detail) * _S
    if dim == -2:
        return torch.stack([even, odd], dim=-2).flatten(-3, -2)
    return torch.stack([even, odd], dim=-1).flatten(-2, -1)


BASES = {"pixel": PixelBasis(), "dct": DCTBasis(), "wavelet": HaarBasis()}
