"""An MNIST generator learnt from a sketch alone (prior ``sketch``, method ``csgm-sketch``).

.. math:: G(z) = \\sigma\\big(T_2\\,\\ell(T_1\\,\\ell(W z + b))\\big) \\in [0,1]^{28\\times28},
          \\quad \\ell = \\mathrm{LeakyReLU}(0.2),\\ z \\in \\mathbb R^{20}:

a small DCGAN-style decoder: a dense map to 64 channels of 7×7, then two 4×4 stride-2 transposed
convolutions (7 → 14 → 28, 32 then 1 channel), sigmoid. Local filters make strokes rather than
pixel noise, which a pixel-space sketch alone barely penalises (docs/sketching.md).

It is trained by ``python -m cs_core.train sketch-mnist`` by matching the sketches of the 4,000 train
digits (:mod:`cs_core.sketching.mnist`); it never sees a digit, only those numbers.
Weights in ``checkpoints/sketch_mnist.pt`` (committed, hash-checked).
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from . import CSGMDefaults, Prior, register
from .checkpoints import CHECKPOINT_DIR, read_metadata, verified_load

LATENT_DIM = 20
CHANNELS = (64, 32)
SIDE = 28
ARCHITECTURE = (f"dense {LATENT_DIM} → {CHANNELS[0]}×7×7, LeakyReLU 0.2, transposed conv 4×4/2 → {CHANNELS[1]}×14×14, "
                "LeakyReLU 0.2, transposed conv 4×4/2 → 1×28×28, sigmoid")
CHECKPOINT = CHECKPOINT_DIR / "sketch_mnist.pt"
METADATA = CHECKPOINT_DIR / "sketch_mnist.json"
FIX = ("run `git checkout checkpoints/sketch_mnist.pt checkpoints/sketch_mnist.json` "
       "(or retrain: `python -m cs_core.train sketch-mnist`)")


class SketchGenerator(nn.Module):
    """z (N, 20) → image (N, 1, 28, 28) in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(LATENT_DIM, CHANNELS[0] * 7 * 7)
        self.up = nn.Sequential(nn.LeakyReLU(0.2), nn.ConvTranspose2d(CHANNELS[0], CHANNELS[1], 4, 2, 1),
                                nn.LeakyReLU(0.2), nn.ConvTranspose2d(CHANNELS[1], 1, 4, 2, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.up(self.dense(z).reshape(z.shape[0], CHANNELS[0], 7, 7)))


def load_generator(device: torch.device | str = "cpu") -> SketchGenerator:
    """The frozen, hash-checked generator in eval mode."""
    return _load(str(torch.device(device)))


@lru_cache(maxsize=None)
def _load(device: str) -> SketchGenerator:
    meta = read_metadata(METADATA)
    state = verified_load(CHECKPOINT, meta["sha256"], FIX, map_location=device)
    model = SketchGenerator()
    model.load_state_dict(state)
    return model.to(device).eval().requires_grad_(False)


PRIOR = register(
    Prior(
        name="sketch",
        domain="mnist",
        latent_dim=LATENT_DIM,
        load=load_generator,
        defaults=CSGMDefaults(steps=300, lr=0.03, restarts=10, lam=0.3),  # λ chosen on validation digits (docs/sketching.md)
        source="small transposed-conv decoder (latent 20) trained here by sketch matching only: random Fourier "
               "moments of the 4,000 train digits and of their 7×7 patches (docs/sketching.md)",
    )
)
