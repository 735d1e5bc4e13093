"""Inpainting: observe a subset of pixels (all channels of each kept pixel).

Masks: ``center`` (a centred square hidden), ``random`` (each pixel kept with probability ``keep``) or
``drawn`` (``mask_image``: an array ``(H, W)`` or ``(H, W, C)`` in [0, 1], white = hidden, of any size;
a pixel is hidden when at least half of its area is white after centre-cropping to a square).
"""
import numpy as np
import torch
from PIL import Image

from ..errors import InputError
from .base import LinearOperator

HIDDEN_GREY = 0.5


class InpaintOperator(LinearOperator):
    """y = x restricted to the kept pixels (a 0/1 selection, so AAᵀ = I)."""

    name = "inpaint"

    def __init__(self, image_shape, keep_mask: torch.Tensor):
        channels = image_shape[0]
        super().__init__(image_shape, channels * int(keep_mask.sum()))
        self.register_buffer("keep_mask", keep_mask.bool())

    def A(self, x):
        return x[:, :, self.keep_mask].reshape(x.shape[0], -1)

    def A_adjoint(self, y):
        out = y.new_zeros((y.shape[0], *self.image_shape))
        out[:, :, self.keep_mask] = y.reshape(y.shape[0], self.image_shape[0], -1)
        return out

    def trivial(self, y):
        """Zero-filled: the observed pixels, 0 elsewhere (Aᵀy = A⁺y)."""
        return self.A_adjoint(y).clamp(0, 1)

    def view(self, y):
        """Observed pixels, with the hidden ones grey."""
        hidden = (~self.keep_mask).to(y.dtype) * HIDDEN_GREY
        return (self.A_adjoint(y) + hidden).clamp(0, 1)


def center_mask(size: int, hidden: int) -> torch.Tensor:
    mask = torch.ones(size, size, dtype=torch.bool)
    start = (size - hidden) // 2
    mask[start:start + hidden, start:start + hidden] = False
    return mask


def drawn_mask(picture, size: int) -> torch.Tensor:
    """Keep-mask ``(size, size)`` from a painted picture (white = hidden): centre-crop to a square, area-resize,
    hide a pixel when at least half of it is painted."""
    arr = np.asarray(picture, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr.mean(axis=2)
    if arr.ndim != 2 or arr.size == 0 or not np.isfinite(arr).all():
        raise InputError("a drawn mask must be a finite 2-D picture (white = hidden)")
    h, w = arr.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(np.clip(arr[top:top + side, left:left + side], 0, 1).astype(np.float32), mode="F")
    painted = np.asarray(square.resize((size, size), Image.BOX), dtype=np.float64)
    return torch.from_numpy(painted < 0.5)


def build(domain, params, generator, device):
    kind = params.get("mask") or "center"
    size = domain.size
    if kind == "center":
        hidden = params.get("mask_size")
        if hidden is None:
            hidden = size // 2
        if not isinstance(hidden, int) or not 1 <= hidden < size:
            raise InputError(f"mask size must be a whole number from 1 to {size - 1} for {domain.name}; got {hidden}")
        mask = center_mask(size, hidden)
    elif kind == "random":
        keep = params.get("keep")
        keep = 0.5 if keep is None else keep
        if not isinstance(keep, (int, float)) or not 0 < keep <= 1:
            raise InputError(f"keep fraction must lie in (0, 1]; got {keep}")
        mask = torch.rand((size, size), generator=generator) < keep
        if not mask.any():
            raise InputError(f"keep fraction {keep} kept no pixel; use a larger --keep")
    elif kind == "drawn":
        if params.get("mask_image") is None:
            raise InputError("the drawn mask is empty: paint the region to hide (or pass --mask-image PATH)")
        mask = drawn_mask(params["mask_image"], size)
        if mask.all():
            raise InputError("the drawn mask hides no pixel: paint over at least half of a pixel to hide it")
        if not mask.any():
            raise InputError("the drawn mask hides every pixel: leave some of the image visible")
    else:
        raise InputError(f"unknown mask {kind!r}; choose center, random or drawn")
    return InpaintOperator(domain.shape, mask.to(device))
