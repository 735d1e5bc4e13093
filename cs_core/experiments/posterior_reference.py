"""An independent reference for the posterior samplers: self-normalised importance sampling of
p(z | y) ∝ exp(−U(z)), U(z) = ‖y − A G(z)‖² / 2σ² + ‖z‖² / 2, for a small latent (the MNIST VAE's 20 dimensions).

The proposal is a mixture of Student-t's (ν = ``NU``), one per distinct mode of U found by Adam then L-BFGS from
``starts`` prior draws, centred there with scale ``INFLATE`` × the inverse Hessian's and weighted by its Laplace
mass exp(−U)·det(H)^(−1/2); each draw's weight is exp(−U)/q, exact. It shares nothing with the sampler (no
descent schedule, pruning or MALA); its effective sample size says when it is itself unreliable (a posterior of
many modes, below m ≈ 20).
"""
import math

import torch

NU, INFLATE = 6, 1.15
MASS = 1e-6  # a local minimum counts as a mode of the posterior if its share of the Laplace mass exceeds this
MODE_SEPARATION = 25.0  # two modes are one if (z − z')ᵀH(z − z') is below this (5 of the posterior's std)


def importance_reference(generator, a: torch.Tensor, y: torch.Tensor, sigma: float, latent_dim: int,
                         starts: int = 32, adam_steps: int = 400, draws: int = 20000, seed: int = 1) -> dict:
    """``a`` (m, n) and ``y`` (m,) of one image. Returns the draws' images clamp(G(z)) (``images``, (draws, n)) and
    normalised ``weights``, the per-pixel ``mean`` and ``std`` under them, the effective sample size ``ess``, the
    number of distinct local minima found (``minima``) and of those with a Laplace mass above ``MASS`` (``modes``)."""
    d = latent_dim

    def energy(z):
        return ((generator(z).reshape(len(z), -1) @ a.T - y) ** 2).sum(1) / (2 * sigma ** 2) + 0.5 * (z ** 2).sum(1)

    z = torch.randn(starts, d, generator=torch.Generator().manual_seed(seed)).requires_grad_(True)
    adam = torch.optim.Adam([z], lr=0.05)
    for _ in range(adam_steps):
        adam.zero_grad()
        energy(z).sum().backward()
        adam.step()
    lbfgs = torch.optim.LBFGS([z], max_iter=200, line_search_fn="strong_wolfe", tolerance_grad=1e-9,
                          tolerance_change=1e-12)
    lbfgs.step(lambda: (lbfgs.zero_grad(), energy(z).sum().backward(), energy(z).sum())[-1])
    z, modes = z.detach(), []
    for i in energy(z).argsort().tolist():
        h = torch.autograd.functional.hessian(lambda v: energy(v[None])[0], z[i])
        h = 0.5 * (h + h.T)
        if torch.linalg.eigvalsh(h).min() > 0 and all((z[i] - c) @ hc @ (z[i] - c) > MODE_SEPARATION
                                                       for c, hc, _ in modes):
            modes.append((z[i], h, -energy(z[i:i + 1])[0] - 0.5 * torch.logdet(h)))
    mass = torch.stack([w for *_, w in modes]).softmax(0)
    chol = [torch.linalg.cholesky(torch.linalg.inv(h.double())).float() * INFLATE for _, h, _ in modes]
    gen = torch.Generator().manual_seed(seed + 1)
    pick = torch.multinomial(mass, draws, replacement=True, generator=gen)
    chi2 = (torch.randn(draws, NU, generator=gen) ** 2).sum(1)  # χ²_ν from the seeded generator, not the global one
    scale = (chi2 / NU).rsqrt()[:, None]
    centres, chols = torch.stack([c for c, _, _ in modes]), torch.stack(chol)
    zs = centres[pick] + scale * (chols[pick] @ torch.randn(draws, d, 1, generator=gen))[..., 0]

    def log_t(centre, lc):
        v = torch.linalg.solve_triangular(lc, (zs - centre).T, upper=False).T
        return (math.lgamma((NU + d) / 2) - math.lgamma(NU / 2) - d / 2 * math.log(NU * math.pi)
                - lc.diagonal().log().sum() - (NU + d) / 2 * torch.log1p((v ** 2).sum(1) / NU))
    log_q = torch.stack([mass[j].log() + log_t(c, chol[j]) for j, (c, _, _) in enumerate(modes)]).logsumexp(0)
    with torch.no_grad():
        weights = (-torch.cat([energy(part) for part in zs.split(2000)]) - log_q).softmax(0)[:, None]
        xs = torch.cat([generator(part).clamp(0, 1).reshape(len(part), -1) for part in zs.split(2000)])
    mean = (weights * xs).sum(0)
    return {"images": xs, "weights": weights[:, 0], "mean": mean, "std": (weights * (xs - mean) ** 2).sum(0).sqrt(),
            "ess": float(1 / (weights ** 2).sum()),
            "minima": len(modes), "modes": int((mass > MASS).sum())}
