"""Compressed sensing with a dense Gaussian matrix, as in Bora et al. (one matrix for all channels)."""
import math

import torch

from ..errors import InputError
from .base import LinearOperator

MAX_M = 10_000  # the paper's largest m; a faces matrix at this size takes 490 MB in float32
DESIGN_LIMIT = 2 ** 26  # m·n at most for Lasso's copy AΨ per basis (268 MB): faces up to m = 5461


class GaussianOperator(LinearOperator):
    """y = A vec(x), A ∈ R^{m×n} with i.i.d. N(0, 1/m) entries so that E‖Ax‖² = ‖x‖²."""

    name = "gaussian"
    exchangeable = True

    def __init__(self, image_shape, m: int, generator: torch.Generator, device: torch.device):
        n = math.prod(image_shape)
        super().__init__(image_shape, m)
        matrix = torch.randn((m, n), generator=generator).div_(math.sqrt(m))  # in place: one m × n block at a time
        self.register_buffer("matrix", matrix.to(device))
        self.designs: dict[str, torch.Tensor] = {}  # AΨ per basis name, built on first use
        self.casts: dict[torch.dtype, torch.Tensor] = {}  # A in another dtype, made on first use

    def design(self, basis):
        """AΨ: row i is Ψᵀaᵢ, the analysis of A's i-th row; built once per basis (unless m·n > ``DESIGN_LIMIT``),
        stored column by column (a (m, n) view of (n, m) memory), so that a working set gathers its columns as
        contiguous rows, and scikit-learn takes it without a copy."""
        if self.m * math.prod(self.image_shape) > DESIGN_LIMIT:
            return None
        if basis.name not in self.designs:
            rows = basis.analysis(self.matrix.reshape(self.m, *self.image_shape)).reshape(self.m, -1)
            self.designs[basis.name] = rows.T.contiguous().T
        return self.designs[basis.name]

    def matrix_as(self, dtype: torch.dtype) -> torch.Tensor:
        """A in ``dtype``: the stored matrix, or its copy in that dtype, made once (a float64 sampler applies A
        thousands of times; a cast per product would copy the whole matrix each time)."""
        if dtype == self.matrix.dtype:
            return self.matrix
        cast = self.casts.get(dtype)
        if cast is None or cast.device != self.matrix.device:
            cast = self.casts[dtype] = self.matrix.to(dtype)
        return cast

    def A(self, x):
        return x.reshape(x.shape[0], -1) @ self.matrix_as(x.dtype).T

    def A_adjoint(self, y):
        return (y @ self.matrix_as(y.dtype)).reshape(y.shape[0], *self.image_shape)

    def trivial(self, y, iterations: int = 50):
        """The least-norm solution A⁺y = Aᵀ(AAᵀ)⁻¹y, clamped to [0, 1]; (AAᵀ)⁻¹y by conjugate gradients, matrix-free
        (AAᵀ is well conditioned for m < n: its eigenvalues lie near (n/m)(1 ± √(m/n))²)."""
        gram = lambda v: self.A(self.A_adjoint(v))  # noqa: E731
        w = torch.zeros_like(y)
        residual = y - gram(w)
        direction, norm = residual, (residual ** 2).sum(1, keepdim=True)
        for _ in range(iterations):
            applied = gram(direction)
            step = norm / (direction * applied).sum(1, keepdim=True).clamp_min(1e-30)
            w, residual = w + step * direction, residual - step * applied
            new_norm = (residual ** 2).sum(1, keepdim=True)
            direction, norm = residual + (new_norm / norm.clamp_min(1e-30)) * direction, new_norm
        return self.A_adjoint(w).clamp(0, 1)

    def view(self, y):
        """Back-projection Aᵀy, min–max scaled per image to [0, 1]."""
        back = self.A_adjoint(y)
        flat = back.reshape(back.shape[0], -1)
        low, high = flat.min(1).values, flat.max(1).values
        scale = (high - low).clamp_min(1e-12)
        return ((flat - low[:, None]) / scale[:, None]).reshape(back.shape)


def build(domain, params, generator, device):
    m = params.get("m")
    if m is None:
        raise InputError("the gaussian operator needs --m, the number of measurements")
    limit = min(domain.n, MAX_M)
    if not isinstance(m, int) or m <= 0 or m > limit:
        raise InputError(f"m must be a whole number from 1 to {limit} for {domain.name} (n = {domain.n}); got {m}")
    return GaussianOperator(domain.shape, m, generator, device)
