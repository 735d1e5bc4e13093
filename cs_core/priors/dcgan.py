"""The 64×64 face DCGAN generator (standard DCGAN, as in Bora et al.'s celebA prior).

.. math:: G(z) = \\tfrac12\\,(\\tanh(\\mathrm{ConvT}_5 \\circ \\cdots \\circ \\mathrm{ConvT}_1(z)) + 1) \\in [0,1]^{3\\times64\\times64}

with ConvT(100→512, k4 s1 p0), then ConvT(512→256), (256→128), (128→64), (64→3) all k4 s2 p1,
BatchNorm + ReLU between them, no conv biases. Weights: ``netG_state_dict`` of
``weights.tar`` in the PyPI wheel ``gan-face-generate==1.1.1`` (MIT; trained on DigiFace-1M
synthetic faces), fetched by ``python -m cs_core.fetch_weights`` into
``checkpoints/dcgan_faces.tar``. That package's Python code is never imported.
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from . import CSGMDefaults, Prior, register
from .checkpoints import CHECKPOINT_DIR, read_metadata, verified_load

LATENT_DIM = 100
CHECKPOINT = CHECKPOINT_DIR / "dcgan_faces.tar"
METADATA = CHECKPOINT_DIR / "dcgan_faces.json"
FIX = "run `python -m cs_core.fetch_weights`"


class DCGANGenerator(nn.Module):
    """z (N,100,1,1) → (N,3,64,64) in [-1,1]; state-dict keys ``main.0.weight`` … ``main.12.weight``."""

    def __init__(self, nz: int = LATENT_DIM, ngf: int = 64, nc: int = 3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class FaceGenerator(nn.Module):
    """Wraps :class:`DCGANGenerator` as a prior: z (N,100) → (N,3,64,64) in [0,1] via (x+1)/2."""

    def __init__(self, net: DCGANGenerator | None = None):
        super().__init__()
        self.net = net if net is not None else DCGANGenerator()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (self.net(z.reshape(z.shape[0], LATENT_DIM, 1, 1)) + 1) / 2


def load_generator(device: torch.device | str = "cpu") -> FaceGenerator:
    """The frozen face generator (eval mode: BatchNorm uses its running statistics)."""
    return _load(str(torch.device(device)))


@lru_cache(maxsize=None)
def _load(device: str) -> FaceGenerator:
    meta = read_metadata(METADATA)
    ckpt = verified_load(CHECKPOINT, meta["sha256"], FIX, map_location=device)
    net = DCGANGenerator()
    net.load_state_dict(ckpt["netG_state_dict"])
    model = FaceGenerator(net)
    model.to(device).eval().requires_grad_(False)
    return model


PRIOR = register(
    Prior(
        name="dcgan",
        domain="faces",
        latent_dim=LATENT_DIM,
        load=load_generator,
        # Batched L-BFGS from 4 starts, pruned to the best after 60 steps, stopped early on a stall, λ = 0.003:
        # chosen on the validation faces and photos against the paper's Adam (docs/benchmarks.md: 3–20× lower error
        # in range, within ±1 % off range, 2.5–3× faster). The published sweeps keep the paper's celebA settings.
        defaults=CSGMDefaults(steps=200, lr=1.0, restarts=4, lam=0.003, optimiser="lbfgs", prune_after=60,
                              patience=25),
        paper=CSGMDefaults(steps=500, lr=0.1, restarts=2, lam=0.001),
        source="DCGAN 64×64 from PyPI gan-face-generate==1.1.1 (MIT), trained on DigiFace-1M synthetic faces",
    )
)
