"""Draw one image from a prior: z ~ N(0, I) from a seeded CPU generator, then x = G(z)."""
from __future__ import annotations

import torch

from ..errors import InputError
from . import PRIORS


def sample_latent(prior_name: str, seed: int, n: int = 1) -> torch.Tensor:
    """``(n, latent_dim)`` standard normal latents from ``torch.Generator('cpu').manual_seed(seed)``."""
    prior = _get(prior_name)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn(n, prior.latent_dim, generator=gen)


@torch.no_grad()
def sample(prior_name: str, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``G(z)`` as a ``(1, C, H, W)`` tensor in ``[0, 1]`` on ``device``; same seed → same image on any device."""
    G = _get(prior_name).load(torch.device(device))
    return G(sample_latent(prior_name, seed).to(device)).clamp(0, 1)


def _get(prior_name: str):
    try:
        return PRIORS[prior_name]
    except KeyError:
        raise InputError(f"unknown prior {prior_name!r}; choose one of {', '.join(sorted(PRIORS))}") from None
