"""An MNIST generator learnt from a sketch alone (prior ``sketch``, method ``csgm-sketch``).

.. math:: G(z) = \\sigma\\big(D^\\top P\\,[W_3\\,\\ell(W_2\\,\\ell(W_1 z + b_1) + b_2) + b_3]\\big) \\in [0,1]^{28\\times28},
          \\quad \\ell = \\mathrm{LeakyReLU}(0.2),\\ z \\in \\mathbb R^{20}:

the network outputs the 14×14 lowest 2-D DCT coefficients of the logits (P pads them with zeros
to 28×28, Dᵀ is the inverse orthonormal DCT), so every sample is smooth; see docs/sketching.md
for why (a pixel-space sketch barely penalises pixel noise).

It is trained by ``python -m cs_core.train sketch-mnist`` by matching the sketch of the 4,000 train
digits (:mod:`cs_core.sketching.mnist`); it never sees a digit, only 2m numbers.
Weights in ``checkpoints/sketch_mnist.pt`` (committed, hash-checked).
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from . import CSGMDefaults, Prior, register
from ..bases import BASES
from .checkpoints import CHECKPOINT_DIR, read_metadata, verified_load

LATENT_DIM = 20
HIDDEN = (256, 512)
LOWPASS = 14
SIDE = 28
CHECKPOINT = CHECKPOINT_DIR / "sketch_mnist.pt"
METADATA = CHECKPOINT_DIR / "sketch_mnist.json"
FIX = ("run `git checkout checkpoints/sketch_mnist.pt checkpoints/sketch_mnist.json` "
       "(or retrain: `python -m cs_core.train sketch-mnist`)")


class SketchGenerator(nn.Module):
    """z (N, 20) → image (N, 1, 28, 28) in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT_DIM, HIDDEN[0]), nn.LeakyReLU(0.2), nn.Linear(HIDDEN[0], HIDDEN[1]), nn.LeakyReLU(0.2),
            nn.Linear(HIDDEN[1], LOWPASS * LOWPASS))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        coefficients = torch.zeros(z.shape[0], 1, SIDE, SIDE, device=z.device, dtype=z.dtype)
        coefficients[..., :LOWPASS, :LOWPASS] = self.net(z).reshape(z.shape[0], 1, LOWPASS, LOWPASS)
        return torch.sigmoid(BASES["dct"].synthesis(coefficients))


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
        defaults=CSGMDefaults(steps=300, lr=0.03, restarts=10, lam=0.0),
        source="MLP 20-256-512-(14×14 DCT) trained here by sketch matching only: 2m random Fourier moments of the "
               "4,000 train digits (docs/sketching.md)",
    )
)
