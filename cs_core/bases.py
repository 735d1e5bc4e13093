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
        out = x.clone()
        h, w = x.shape[-2:]
        for _ in range(self._levels(min(h, w))):
            block = out[..., :h, :w]
            lo_r, hi_r = _haar_pair(block, -2)
            ll, lh = _haar_pair(lo_r, -1)
            hl, hh = _haar_pair(hi_r, -1)
            out[..., :h, :w] = torch.cat([torch.cat([ll, lh], -1), torch.cat([hl, hh], -1)], -2)
            h, w = h // 2, w // 2
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


def _haar_pair(x, dim):
    """One Haar step along ``dim`` (-2 or -1): approximation (x₀+x₁)/√2 and detail (x₀−x₁)/√2 of pairs."""
    even, odd = (x[..., 0::2, :], x[..., 1::2, :]) if dim == -2 else (x[..., 0::2], x[..., 1::2])
    return (even + odd) * _S, (even - odd) * _S


def _haar_merge(approx, detail, dim):
    """Inverse of ``_haar_pair``: interleave (a+d)/√2 and (a−d)/√2 along ``dim``."""
    even, odd = (approx + detail) * _S, (approx - detail) * _S
    if dim == -2:
        return torch.stack([even, odd], dim=-2).flatten(-3, -2)
    return torch.stack([even, odd], dim=-1).flatten(-2, -1)


BASES = {"pixel": PixelBasis(), "dct": DCTBasis(), "wavelet": HaarBasis()}
