"""Random expansive ReLU generators, T independent nets batched together.

.. math:: G(z) = \\mathrm{relu}(W_d \\cdots \\mathrm{relu}(W_2\\, \\mathrm{relu}(W_1 z))),\\qquad
          W_i \\in \\mathbb{R}^{n_i \\times n_{i-1}},\\ (W_i)_{ab} \\sim \\mathcal N(0, 1/n_i),\\ n_0 = k.

No biases, so G is positively homogeneous: G(cz) = c G(z) for c ≥ 0.
"""
import math

import torch

from ..errors import InputError

MAX_WIDTH = 5000
MAX_DEPTH = 8
MAX_K = 500


class ReLUNet:
    """T independent random ReLU nets; maps latents (T, S, k) to outputs (T, S, n_d)."""

    def __init__(self, weights: list[torch.Tensor]):
        self.weights = weights  # each (T, n_i, n_{i-1})

    @property
    def k(self) -> int:
        return self.weights[0].shape[2]

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def trials(self) -> int:
        return self.weights[0].shape[0]

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        x = z.transpose(1, 2)
        for weight in self.weights:
            x = torch.relu(weight @ x)
        return x.transpose(1, 2)


def check_widths(k: int, widths: list[int]) -> list[str]:
    """Validate k and the widths n_1..n_d; return warnings for layers that are not expansive."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be a whole number from 1 to {MAX_K}; got {k}")
    if not widths or len(widths) > MAX_DEPTH:
        raise InputError(f"give 1 to {MAX_DEPTH} layer widths, e.g. 20,100,500; got {len(widths)}")
    for n in widths:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_WIDTH:
            raise InputError(f"each width must be a whole number from 1 to {MAX_WIDTH}; got {n}")
    warnings = []
    for i, (before, after) in enumerate(zip([k, *widths], widths), start=1):
        if after < before * max(1.0, math.log(before)):
            warnings.append(f"layer {i} is not expansive ({before} → {after}; the theory asks n_i ≳ n_(i-1)·log n_(i-1)"
                            f" = {math.ceil(before * max(1.0, math.log(before)))})")
    return warnings


def random_relu_net(k: int, widths: list[int], trials: int, generator: torch.Generator,
                    device: torch.device) -> ReLUNet:
    """``trials`` independent nets k → n_1 → … → n_d with N(0, 1/n_i) weights (drawn on the CPU from ``generator``)."""
    weights = []
    for before, after in zip([k, *widths], widths):
        weight = torch.randn((trials, after, before), generator=generator) / math.sqrt(after)
        weights.append(weight.to(device))
    return ReLUNet(weights)
