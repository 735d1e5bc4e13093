"""Total-variation regularised least squares, solved by Chambolle–Pock (primal–dual hybrid gradient).

    minimise_x  ½‖y − Ax‖² + λ·TV(x),    TV(x) = Σ_{c,i,j} ‖(∇x)_{c,i,j}‖₂  (isotropic, per channel)

∇ is forward differences with a zero difference across the last row/column (Neumann boundary),
‖∇‖² ≤ 8. Chambolle & Pock (2011), Algorithm 1 with θ = 1 on K = [A; ∇], duals p (data) and q
(gradient field, projected onto per-pixel ℓ2 balls of radius λ); steps τσ(‖A‖² + 8) = 0.99² with the balance
τ/σ of ``PRIMAL_DUAL_BALANCE``: 100 for compressed sensing (it converged 2–10× faster than 1:1 on gaussian,
fourier and blur problems: the duals are of the size of λ, much smaller than x), 0.1 for denoising (A = I,
where the data term is strongly convex: after 300 iterations at λ = 0.2 on a noisy photo, 2e-4 above the
optimum against 2e-2 at 100:1). Runs in the dtype of y.
Start x = 0. Default λ = ``ratio`` · ‖Aᵀy‖∞ per image (scale-free like Lasso's λ_max: the same
ratio means the same thing whatever the brightness), ``ratio`` per operator in
``DEFAULT_LAMBDA_RATIO``; ``lam`` sets an absolute λ.
"""
from dataclasses import dataclass

import torch

from ..problem import Problem
from .snapshot import StopWatch, make_snapshot, wants_snapshot

DEFAULT_ITERATIONS = 300
GRADIENT_NORM_SQUARED = 8.0
STEP_SAFETY = 0.99
PRIMAL_DUAL_BALANCE = {"identity": 0.1}  # τ / σ per operator name ...
DEFAULT_BALANCE = 100.0                     # ... and for every other operator
# The ratio of experiments.validation.LAMBDA_GRID with the lowest mean MSE on 8 validation images (MNIST validation
# digits; faces G(z), seeds 3000-3007), by experiments.validation.choose_lambda_ratio (docs/RESULTS.md, "MRI and
# deblurring"). Faces / MNIST chose: gaussian 0.001 (m = 500, 2500) / 0.001 (m = 300), 0.003 (m = 100);
# inpaint (centre) 0.01 / 0.1; superres (×2) 0.003 / 0.03 (noiseless); fourier (R = 4) 0.003 / 0.01; blur
# (σ = 1.5) 0.001 / 0.0003 (noise 0.01). Where they differ: the grid value nearest their geometric mean,
# ties to the faces' value.
DEFAULT_LAMBDA_RATIO = {"gaussian": 0.001, "inpaint": 0.03, "superres": 0.01, "fourier": 0.003, "blur": 0.001}
OBJECTIVE = "min_x ½‖y − Ax‖² + λ·TV(x), isotropic TV"


@dataclass
class TVSettings:
    iterations: int = DEFAULT_ITERATIONS
    lam: float | None = None                       # absolute λ, the same for every image
    lam_ratio: float | torch.Tensor | None = None  # else λ = lam_ratio · ‖Aᵀy‖∞ per image ((B,) tensor allowed)


def gradient(x: torch.Tensor) -> torch.Tensor:
    """Forward differences (B, C, H, W) → (B, 2, C, H, W): vertical then horizontal, 0 on the last row/column."""
    g = x.new_zeros((x.shape[0], 2, *x.shape[1:]))
    g[:, 0, ..., :-1, :] = x[..., 1:, :] - x[..., :-1, :]
    g[:, 1, ..., :-1] = x[..., 1:] - x[..., :-1]
    return g


def gradient_adjoint(g: torch.Tensor) -> torch.Tensor:
    """∇ᵀ (minus the discrete divergence): ⟨∇x, g⟩ = ⟨x, ∇ᵀg⟩."""
    gv, gh = g[:, 0], g[:, 1]
    out = torch.zeros_like(gv)
    out[..., :-1, :] -= gv[..., :-1, :]
    out[..., 1:, :] += gv[..., :-1, :]
    out[..., :-1] -= gh[..., :-1]
    out[..., 1:] += gh[..., :-1]
    return out


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Isotropic TV per image, shape (B,)."""
    return gradient(x).pow(2).sum(1).sqrt().flatten(1).sum(1)


def choose_lambda(problem: Problem, settings: TVSettings) -> torch.Tensor:
    """λ per image, shape (B,)."""
    if settings.lam is not None:
        return torch.full((problem.batch,), float(settings.lam), dtype=problem.y.dtype, device=problem.device)
    ratio = DEFAULT_LAMBDA_RATIO[problem.operator.name] if settings.lam_ratio is None else settings.lam_ratio
    return ratio * problem.operator.A_adjoint(problem.y).abs().flatten(1).max(1).values


def tv(problem: Problem, settings: TVSettings, every: int | None = None, method: str = "tv"):
    """Yield snapshots of Chambolle–Pock on ½‖y − Ax‖² + λ·TV(x) every ``every`` iterations and at the end."""
    op, y = problem.operator, problem.y
    watch = StopWatch(problem.device)
    watch.start()
    step = STEP_SAFETY / (op.norm_squared() + GRADIENT_NORM_SQUARED) ** 0.5
    balance = PRIMAL_DUAL_BALANCE.get(op.name, DEFAULT_BALANCE)
    tau, sigma = step * balance ** 0.5, step / balance ** 0.5
    lam = choose_lambda(problem, settings)
    radius = lam.reshape(-1, 1, 1, 1, 1)
    x = y.new_zeros((problem.batch, *op.image_shape))
    x_bar, p, q = x, torch.zeros_like(y), gradient(x)

    def evaluate(x):
        residual = ((op.A(x) - y) ** 2).sum(1)
        return residual, 0.5 * residual + lam * total_variation(x)

    for iteration in range(1, settings.iterations + 1):
        p = (p + sigma * (op.A(x_bar) - y)) / (1 + sigma)
        q = q + sigma * gradient(x_bar)
        q = q * (radius / torch.maximum(q.pow(2).sum(1, keepdim=True).sqrt(), radius).clamp_min(1e-30))
        x_new = x - tau * (op.A_adjoint(p) + gradient_adjoint(q))
        x_bar, x = 2 * x_new - x, x_new
        final = iteration == settings.iterations
        if final or wants_snapshot(iteration, every):
            residual, objective = evaluate(x)
            seconds = watch.stop()
            yield make_snapshot(method, iteration, x, residual, objective, seconds, problem.truth, final=final,
                                lam=lam.tolist())
            watch.start()
