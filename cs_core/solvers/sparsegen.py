"""Sparse-Gen (Dhar, Grover, Ermon, ICML 2018): the generator's output plus a sparse deviation.

    minimise_{z,c}  ‖y − A(G(z) + Ψc)‖² + λ_z‖z‖² + λ_ν‖c‖₁,    x̂ = G(ẑ) + Ψĉ   (ν = Ψc)

Phase 1 is plain CSGM (z alone, ν = 0: the paper's "z first"). Phase 2 moves both: each iteration
takes one Adam step on z and one proximal-gradient (ISTA) step on c from the same gradient
evaluation; the ℓ1 term is handled exactly by soft-thresholding (no smooth surrogate), with step
1/L, L = 2·1.05·‖A‖² (the Lipschitz constant of the data term's gradient in c; Ψ orthonormal).
λ_ν = ``nu_ratio`` · λ_max per image with λ_max = ‖2ΨᵀAᵀ(y − A G(z₀))‖∞, the smallest λ_ν for which
ν = 0 is optimal at the phase-1 latent z₀: scale-free, like Lasso's λ ratio.
"""
from dataclasses import dataclass, replace

import torch

from ..bases import Basis
from ..problem import Problem
from .lasso import soft_threshold
from .snapshot import StopWatch, make_snapshot, wants_snapshot
from .warmstart import csgm_settings, phase_two_steps, then

POWER_MARGIN = 1.05  # ‖A‖² by power iteration approaches from below: 5 % more keeps the step 1/L safe


@dataclass
class SparseGenSettings:
    # steps and ratio: validation's choice for the faces at m = 2500, σ = 0.01 (docs/RESULTS.md)
    steps: int = 150                       # phase-2 iterations
    lr: float = 0.01                       # Adam on z in phase 2 (z is already near a minimum)
    lam_z: float = 0.001                   # λ_z (the prior's CSGM λ)
    nu_ratio: float | torch.Tensor = 0.03  # λ_ν / λ_max, or one ratio per image (B,)


def sparse_gen(problem: Problem, generator: torch.nn.Module, z0: torch.Tensor, basis: Basis,
               settings: SparseGenSettings, every: int | None = None, method: str = "sparsegen",
               first_iteration: int = 0, seconds: float = 0.0, stage: str = "phase 2/2: z and ν"):
    """Yield snapshots of phase 2 (z and ν jointly) from the latent ``z0`` (B, latent_dim)."""
    op, y = problem.operator, problem.y
    batch = y.shape[0]
    watch = StopWatch(problem.device)
    watch.seconds = seconds
    watch.start()
    step_size = 1.0 / max(2 * POWER_MARGIN * op.norm_squared(), 1e-12)
    z = z0.detach().clone().requires_grad_(True)
    optimiser = torch.optim.Adam([z], lr=settings.lr)
    with torch.no_grad():
        residual = y - op.A(generator(z))
        lam_max = basis.analysis(2 * op.A_adjoint(residual)).abs().flatten(1).max(1).values
    ratio = torch.as_tensor(settings.nu_ratio, dtype=y.dtype, device=y.device).expand(batch)
    lam_nu = (ratio * lam_max).reshape(batch, 1, 1, 1)
    coeffs = torch.zeros((batch, *op.image_shape), device=y.device)

    def evaluate():
        x = generator(z)
        nu = basis.synthesis(coeffs)
        residual = op.A(x + nu) - y
        measurement = (residual ** 2).sum(1)
        smooth = measurement + settings.lam_z * (z ** 2).sum(1)
        objective = smooth.detach() + lam_nu.flatten() * coeffs.abs().flatten(1).sum(1)
        return x, nu, residual, measurement.detach(), smooth, objective

    for step in range(1, settings.steps + 1):
        x, nu, residual, measurement, smooth, objective = evaluate()
        optimiser.zero_grad(set_to_none=True)
        smooth.sum().backward()
        with torch.no_grad():
            gradient = basis.analysis(2 * op.A_adjoint(residual.detach()))
            coeffs = soft_threshold(coeffs - step_size * gradient, step_size * lam_nu)
        optimiser.step()
        final = step == settings.steps
        if final or wants_snapshot(step, every):
            with torch.no_grad():
                x, nu, _, measurement, _, objective = evaluate()
            seconds = watch.stop()
            sparsity = (coeffs != 0).flatten(1).float().mean(1)
            yield make_snapshot(method, first_iteration + step, x + nu, measurement.tolist(), objective.tolist(),
                                seconds, problem.truth, final=final, stage=stage, phase="sparse",
                                nu_norm=nu.flatten(1).norm(dim=1).tolist(), nu_density=sparsity.tolist())
            watch.start()


def start(prior_name: str, basis: Basis, defaults: SparseGenSettings = SparseGenSettings()):
    """The registry's ``sparse-gen-<prior>``: CSGM (``options`` as for CSGM), then phase 2; ``options.lam_ratio``
    overrides ν's ratio."""
    def run(problem, options, every):
        settings = csgm_settings(prior_name, options)
        nu_ratio = defaults.nu_ratio if options.lam_ratio is None else options.lam_ratio
        phase2 = replace(defaults, steps=phase_two_steps(defaults.steps, options), lam_z=settings.lam,
                         nu_ratio=nu_ratio)
        method = f"sparse-gen-{prior_name}"
        return then(problem, prior_name, settings, every, method,
                    lambda generator, z, **at: sparse_gen(problem, generator, z, basis, phase2, every, method, **at))
    return run
