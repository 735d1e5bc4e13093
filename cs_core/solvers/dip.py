"""Deep Image Prior for compressed sensing (Ulyanov et al. 2018; Van Veen et al. 2018, "CS-DIP").

    minimise_θ  ‖y − A f_θ(u)‖²,    x̂ = f_θ(u)

f_θ is an *untrained* convolutional decoder, one per image, with a fixed random input u; the
architecture alone is the prior (no training data, no shared weights). Decoder: u (width × H/32 × W/32,
N(0, 1), sides rounded up) → 5 × [bilinear ×2 upsampling → 3×3 conv → instance norm → LeakyReLU(0.2)] → 3×3 conv →
sigmoid, so x̂ ∈ [0, 1]. The B images of a batch get B independent nets run as one grouped convolution.
Weights (He-uniform) and u come from the problem's solver stream, so a run is reproducible from its seed.
Adam (lr ``DEFAULT_LR``) for a fixed ``DEFAULT_ITERATIONS`` steps — DIP eventually fits the noise too, and
with no ground truth at run time a fixed budget is the honest stopping rule. The app's fixed count is a
compromise between sensors (one count, announced before the run, must serve every sensor within the app's run-time
cap); the sweeps choose theirs per sensor on validation images (``experiments.validation.DIP_STEP_GRID``). The width
was chosen on validation images (docs/RESULTS.md, "MRI and deblurring"). The estimate shown is the current one.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..problem import SOLVER_STREAM, Problem, stream
from .snapshot import StopWatch, make_snapshot, wants_snapshot

DEFAULT_ITERATIONS = 1000
DEFAULT_LR = 0.01
DEFAULT_WIDTH = 32
UPSAMPLINGS = 5
LEAK = 0.2
OBJECTIVE = "min_θ ‖y − A f_θ(u)‖², f_θ an untrained conv decoder"


@dataclass
class DIPSettings:
    iterations: int = DEFAULT_ITERATIONS
    lr: float = DEFAULT_LR
    width: int = DEFAULT_WIDTH


class BatchedDecoder:
    """B independent decoders as grouped convolutions on a (1, B·channels, h, w) tensor."""

    def __init__(self, batch: int, channels: int, size: tuple[int, int], width: int,
                 generator: torch.Generator, device: torch.device):
        self.batch, self.width = batch, width
        h, w = size
        self.sizes = [(math.ceil(h / 2 ** k), math.ceil(w / 2 ** k)) for k in range(UPSAMPLINGS, -1, -1)]
        self.input = torch.randn((1, batch * width, *self.sizes[0]), generator=generator).to(device)
        shapes = [(width, width)] * UPSAMPLINGS + [(channels, width)]
        self.weights = [self._he_uniform(batch, out, inp, generator).to(device).requires_grad_(True)
                        for out, inp in shapes]

    @staticmethod
    def _he_uniform(batch, out, inp, generator):
        bound = math.sqrt(6 / (inp * 9))
        return (torch.rand((batch * out, inp, 3, 3), generator=generator) * 2 - 1) * bound

    def __call__(self) -> torch.Tensor:
        h = self.input
        for weight, size in zip(self.weights[:-1], self.sizes[1:]):
            h = F.interpolate(h, size=size, mode="bilinear", align_corners=False)
            h = F.conv2d(h, weight, padding=1, groups=self.batch)
            h = F.leaky_relu(F.instance_norm(h), LEAK)
        out = torch.sigmoid(F.conv2d(h, self.weights[-1], padding=1, groups=self.batch))
        return out.reshape(self.batch, -1, *out.shape[-2:])


def dip(problem: Problem, settings: DIPSettings, every: int | None = None, method: str = "dip"):
    """Yield snapshots of Adam on ‖y − A f_θ(u)‖² every ``every`` steps and at the end."""
    op, y = problem.operator, problem.y
    watch = StopWatch(problem.device)
    watch.start()
    channels, h, w = op.image_shape
    net = BatchedDecoder(problem.batch, channels, (h, w), settings.width, stream(problem.seed, SOLVER_STREAM),
                         problem.device)
    optimiser = torch.optim.Adam(net.weights, lr=settings.lr)
    for step in range(1, settings.iterations + 1):
        residual = ((op.A(net()) - y) ** 2).sum(1)
        optimiser.zero_grad(set_to_none=True)
        residual.sum().backward()
        optimiser.step()
        final = step == settings.iterations
        if final or wants_snapshot(step, every):
            with torch.no_grad():
                x = net()
                residual = ((op.A(x) - y) ** 2).sum(1)
            seconds = watch.stop()
            yield make_snapshot(method, step, x, residual.tolist(), residual.tolist(), seconds, problem.truth,
                                final=final)
            watch.start()
