"""The record every solver streams: one per reported iteration, always one final."""
import time
from dataclasses import dataclass, field

import torch

from ..metrics import all_metrics


@dataclass
class Snapshot:
    method: str
    iteration: int
    estimate: torch.Tensor            # (B, C, H, W) in [0, 1], on the CPU
    measurement_loss: list[float]     # ‖y − A x̂‖² per image
    objective: list[float]            # the solver's own objective per image
    seconds: float                    # solver compute time so far (metrics excluded)
    final: bool = False
    message: str = ""                 # e.g. why a run stopped early
    mse: list[float] | None = None    # per-pixel MSE on [0, 1], when the truth is known
    psnr: list[float] | None = None
    ssim: list[float] | None = None
    extra: dict = field(default_factory=dict)


class StopWatch:
    """Accumulates compute time between ``start()`` and ``stop()``, syncing CUDA so times are honest."""

    def __init__(self, device: torch.device):
        self.device = device
        self.seconds = 0.0
        self._since = None

    def start(self):
        self._since = time.perf_counter()

    def stop(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.seconds += time.perf_counter() - self._since
        return self.seconds


def make_snapshot(method, iteration, estimate, measurement_loss, objective, seconds, truth,
                  final=False, message="", **extra) -> Snapshot:
    """Build a snapshot; the estimate is clamped to [0, 1] and metrics are added when ``truth`` is known."""
    estimate = estimate.detach().clamp(0, 1).float().cpu()
    snap = Snapshot(method, iteration, estimate, [float(v) for v in measurement_loss],
                    [float(v) for v in objective], seconds, final, message, extra=extra)
    if truth is not None:
        values = all_metrics(estimate, truth.detach().float().cpu())
        snap.mse, snap.psnr, snap.ssim = values["mse"], values["psnr"], values["ssim"]
    return snap


def wants_snapshot(iteration: int, every: int | None) -> bool:
    return bool(every) and iteration % every == 0
