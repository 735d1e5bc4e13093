"""Super-resolution: the sensor averages f×f blocks (a low-resolution image)."""
import torch
import torch.nn.functional as F

from ..errors import InputError
from .base import LinearOperator


class SuperResOperator(LinearOperator):
    """y = average-pool_f(x); Aᵀ spreads each value over its block divided by f², so ‖A‖² = 1/f²."""

    name = "superres"

    def __init__(self, image_shape, factor: int, device):
        c, h, w = image_shape
        super().__init__(image_shape, c * (h // factor) * (w // factor))
        self.factor = factor
        self.register_buffer("_device_anchor", torch.zeros(0, device=device))

    @property
    def low_shape(self):
        c, h, w = self.image_shape
        return (c, h // self.factor, w // self.factor)

    def A(self, x):
        return F.avg_pool2d(x, self.factor).reshape(x.shape[0], -1)

    def A_adjoint(self, y):
        low = y.reshape(y.shape[0], *self.low_shape)
        return F.interpolate(low, scale_factor=self.factor, mode="nearest") / self.factor**2

    def view(self, y):
        """The low-resolution image, nearest-upscaled to the full size."""
        low = y.reshape(y.shape[0], *self.low_shape)
        return F.interpolate(low, scale_factor=self.factor, mode="nearest").clamp(0, 1)


def build(domain, params, generator, device):
    factor = params.get("factor")
    factor = 2 if factor is None else factor
    if not isinstance(factor, int) or factor < 2 or domain.size % factor:
        divisors = [f for f in range(2, domain.size + 1) if domain.size % f == 0]
        raise InputError(f"factor must divide the {domain.size}-pixel side of {domain.name}: one of {divisors}; got {factor}")
    return SuperResOperator(domain.shape, factor, device)
