"""Linear measurement operators y = A x on batches of images ``(B, C, H, W)``."""
import torch


class LinearOperator(torch.nn.Module):
    """A linear map from images ``(B, C, H, W)`` to measurements ``(B, m)``.

    Subclasses implement ``A``, ``A_adjoint`` and ``view`` (and ``pattern`` when there is one to show);
    the base class gives the operator norm ‖A‖² by power iteration (the Lipschitz constant of ∇½‖y − Ax‖²).
    """

    name = ""
    # True when every measurement sees the whole image in the same random way (Gaussian rows), so that the error on
    # held-out measurements estimates the image's error (Lasso's λ rule cross-validates then)
    exchangeable = False

    def __init__(self, image_shape: tuple[int, int, int], m: int):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.m = int(m)

    def A(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def A_adjoint(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def view(self, y: torch.Tensor) -> torch.Tensor:
        """What the sensor saw, as images ``(B, C, H, W)`` in [0, 1] for display."""
        raise NotImplementedError

    def trivial(self, y: torch.Tensor) -> torch.Tensor:
        """The estimate the sensor gives with no prior, ``(B, C, H, W)`` in [0, 1]: what a default reconstruction
        should never lose to. Here the view (the low-resolution image upsampled, the zero-filled MRI image,
        the blurred image)."""
        return self.view(y)

    def pattern(self) -> torch.Tensor | None:
        """What the sensor samples, as one image ``(1, 1, H', W')`` in [0, 1] (a k-space mask, a blur
        kernel), or None when the view says it all."""
        return None

    def design(self, basis) -> torch.Tensor | None:
        """AΨ as a dense (m, n) matrix when A is an explicit matrix small enough to copy, else None (then Lasso
        stays matrix-free). Column j is AΨeⱼ, the measurements of the basis' j-th atom."""
        return None

    def on_columns(self, columns: torch.Tensor) -> "LinearOperator":
        """The measurements of coefficient vectors (B, 1, 1, k) through k columns of AΨ per image (``columns``
        (B, m, k), from ``design``): Lasso on a working set."""
        return Columns(columns)

    def select(self, index: torch.Tensor) -> "LinearOperator":
        """The operator for the batch members ``index`` alone: itself, unless it differs per batch member."""
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.A(x)

    @property
    def device(self) -> torch.device:
        return next(iter(self.buffers())).device

    def norm_squared(self, iterations: int = 100, seed: int = 0) -> float:
        """‖A‖₂² = largest eigenvalue of AᵀA, by power iteration from a seeded start."""
        gen = torch.Generator().manual_seed(seed)
        v = torch.randn((1, *self.image_shape), generator=gen).to(self.device)
        v = v / v.norm()
        value = 0.0
        for _ in range(iterations):
            w = self.A_adjoint(self.A(v))
            value = w.norm().item()
            if value == 0.0:
                return 0.0
            v = w / value
        return value


class Columns(LinearOperator):
    """One dense m × k matrix per image (B, m, k): c (B, 1, 1, k) ↦ (B, m). A single c (1, 1, 1, k) is measured
    by every image's matrix."""

    def __init__(self, columns: torch.Tensor):
        super().__init__((1, 1, columns.shape[2]), columns.shape[1])
        self.register_buffer("columns", columns)

    def A(self, c):  # c as a transposed row: 8× faster on the CPU than a (B, k, 1) column (torch 2.13, 1 thread)
        return torch.matmul(self.columns, c.reshape(c.shape[0], 1, -1).mT).squeeze(2)

    def A_adjoint(self, y):
        return torch.matmul(y.unsqueeze(1), self.columns).reshape(y.shape[0], *self.image_shape)

    def select(self, index):
        return Columns(self.columns[index])


def add_noise(y: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """y + σ·ε with ε ~ N(0, I) drawn from ``generator`` (a CPU generator, so results match across devices)."""
    if sigma == 0:
        return y
    noise = torch.randn(y.shape, generator=generator, dtype=y.dtype)
    return y + sigma * noise.to(y.device)
