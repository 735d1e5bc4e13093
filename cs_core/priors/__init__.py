"""Registry of pretrained generative priors: name → domain, latent size, loader, CSGM defaults.

A prior's generator is a frozen ``torch.nn.Module`` in eval mode mapping latents ``z`` of
shape ``(N, latent_dim)`` to images ``(N, C, H, W)`` in ``[0, 1]``.
"""
from dataclasses import dataclass, field
from typing import Callable

import torch


@dataclass(frozen=True)
class CSGMDefaults:
    """Settings of min_z ‖y − A G(z)‖² + λ‖z‖² solved from ``restarts`` random starts (see
    ``cs_core.solvers.csgm.CSGMSettings``: optimiser, pruning and early stopping)."""
    steps: int
    lr: float
    restarts: int
    lam: float
    optimiser: str = "adam"
    prune_after: int = 0
    patience: int = 0


@dataclass(frozen=True)
class Prior:
    name: str
    domain: str
    latent_dim: int
    load: Callable[[torch.device], torch.nn.Module] = field(repr=False)
    defaults: CSGMDefaults
    source: str
    # The paper's Adam settings, when the default is another optimiser: the one place they are written. Every
    # published sweep of this prior and the bench's "before" row run them (``cs_core.experiments``), and the
    # landscape tab's descent paths follow Adam
    paper: CSGMDefaults | None = None

    @property
    def adam(self) -> CSGMDefaults:
        """The Adam settings: ``paper`` if the default is another optimiser, else the default."""
        return self.paper or self.defaults


PRIORS: dict[str, Prior] = {}


def register(prior: Prior) -> Prior:
    PRIORS[prior.name] = prior
    return prior


# Importing the prior modules registers them (they import Prior/register from here).
from . import vae  # noqa: E402,F401
from . import dcgan  # noqa: E402,F401
from . import sketch_mnist  # noqa: E402,F401
