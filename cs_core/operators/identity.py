"""The identity sensor y = x (every pixel seen, no noise): what an oracle that knows x* measures."""
import math

import torch

from .base import LinearOperator


class IdentityOperator(LinearOperator):
    """y = vec(x); Aᵀ = A⁻¹, ‖A‖² = 1."""

    name = "identity"

    def __init__(self, image_shape, device: torch.device):
        super().__init__(image_shape, math.prod(image_shape))
        self.register_buffer("_device_anchor", torch.zeros(0, device=device))

    def A(self, x):
        return x.reshape(x.shape[0], -1)

    def A_adjoint(self, y):
        return y.reshape(y.shape[0], *self.image_shape)

    def view(self, y):
        return self.A_adjoint(y).clamp(0, 1)
