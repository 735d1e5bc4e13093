"""Posterior sampling with a generative prior: K chains of preconditioned MALA over the latent z.

.. math:: p(z \\mid y) \\propto e^{-U(z)},\\quad U(z) = \\frac{\\|y - A G(z)\\|^2}{2\\sigma^2} + \\frac{\\|z\\|^2}{2},
          \\quad x = G(z)

(Jalal, Karmalkar, Dimakis & Price 2021 sample this posterior instead of taking one minimiser.) The image
shown is the posterior mean of x, estimated from the samples; the per-pixel standard deviation says what the
measurements leave open.

**Sampler.** Metropolis-adjusted Langevin (MALA), K chains per image batched as B·K rows:

    z' = z − (h/2) C ∇U(z) + √h L ξ,   ξ ~ N(0, I),   C = L Lᵀ = (I + (AJ)ᵀAJ / σ²)⁻¹,   J = ∂G/∂z,

accepted with the Metropolis–Hastings probability, so the posterior is the chain's stationary law for any h
(unadjusted Langevin is biased by O(h), and that bias would show as a miscalibrated std). Step rule: C is the
Gauss–Newton inverse Hessian of U at the chain's point (exactly the posterior covariance when G is linear), so
in C's metric the posterior is close to N(·, I) and one scalar h per chain suffices; J is taken by forward
differences every ``refresh`` steps of burn-in (a proposal only needs an approximate C: MH corrects the rest).
During burn-in log h follows a Robbins–Monro step towards acceptance 0.574, optimal for MALA (Roberts &
Rosenthal 1998); h and C are then frozen, so the sampling phase is one fixed MH kernel.

**Annealing.** Over the first ``anneal`` fraction of burn-in σ falls geometrically from σ₀ = rms(y) (a noise
level at which y says nothing) to σ, as in annealed Langevin dynamics (Song & Ermon 2019; Jalal et al.), so the
chains, started from the prior, first spread over every latent that fits y coarsely, then settle.

**σ floor.** σ = max(noise, ``SIGMA_FLOOR`` = 0.01): at σ = 0 the posterior is singular (supported on
{z : AG(z) = y}) and the step would have to shrink to 0; 0.01 per measurement (1 % of the pixel range, ‖Ax‖ ≈ ‖x‖)
is below what the pictures' 8-bit quantisation and a generator's fit can tell apart.

**Estimates.** Mean and per-pixel std of G(z) over all chains and all sampling steps (Welford's update);
successive samples are correlated, which costs effective sample size, not bias. Before sampling starts the
mean and std are those of the K current samples.
"""
import math
from dataclasses import dataclass

import torch

from ..priors import PRIORS
from ..problem import SOLVER_STREAM, Problem, stream
from .snapshot import StopWatch, make_snapshot, wants_snapshot

OBJECTIVE = "sample p(z | y) ∝ exp(−‖y − A G(z)‖² / 2σ² − ‖z‖² / 2)"
SIGMA_FLOOR = 0.01
TARGET_ACCEPTANCE = 0.574
ADAPT_RATE = 0.1
COVERAGE_STDS = 2.0
CHUNK = 1024  # rows of G per call when taking the Jacobian


@dataclass(frozen=True)
class PosteriorSettings:
    """``steps`` MALA steps per chain, the first ``burn_in`` fraction of them burn-in (annealing over its first
    ``anneal`` fraction, h adapted throughout, J refreshed every ``refresh`` steps); the rest are collected."""
    steps: int
    chains: int = 16
    burn_in: float = 0.5
    anneal: float = 0.6
    refresh: int = 25


# Per prior: a VAE step costs ~4 ms for 16 chains on one CPU thread, a DCGAN step ~0.2 s and its Jacobian ~40 steps
DEFAULTS = {"vae": PosteriorSettings(steps=600), "sketch": PosteriorSettings(steps=600),
            "dcgan": PosteriorSettings(steps=200, refresh=50)}
SAMPLED_PRIORS = tuple(DEFAULTS)


def settings_for(prior_name: str, options) -> PosteriorSettings:
    """The prior's defaults; ``options.iterations`` sets the steps and ``options.restarts`` the chains K."""
    d = DEFAULTS[prior_name]
    return PosteriorSettings(steps=options.iterations or d.steps, chains=options.restarts or d.chains,
                             burn_in=d.burn_in, anneal=d.anneal, refresh=d.refresh)


def start(prior_name: str):
    """The registry's ``posterior-<prior>``: the prior is loaded (and fails) before the first snapshot."""
    def run(problem, options, every):
        generator = PRIORS[prior_name].load(problem.device)
        return sample_posterior(problem, generator, PRIORS[prior_name].latent_dim, settings_for(prior_name, options),
                                every, method=f"posterior-{prior_name}")
    return run


def calibration(mean: torch.Tensor, std: torch.Tensor, truth: torch.Tensor | None) -> dict:
    """Per image: ``std_mean``, the mean per-pixel std, and (when the truth is known) ``coverage``, the fraction
    of pixel values with |x* − mean| ≤ 2·std."""
    out = {"std_mean": std.flatten(1).mean(1).tolist()}
    if truth is not None:
        inside = (truth.to(mean) - mean).abs() <= COVERAGE_STDS * std
        out["coverage"] = inside.flatten(1).float().mean(1).tolist()
    return out


class _Moments:
    """Running mean and variance of samples (B, K, C, H, W), K at a time (Chan et al.'s pairwise Welford)."""

    def __init__(self):
        self.count, self.mean, self.m2 = 0, None, None

    def add(self, x):
        k = x.shape[1]
        batch_mean = x.mean(1)
        batch_m2 = ((x - batch_mean[:, None]) ** 2).sum(1)
        if self.count == 0:
            self.count, self.mean, self.m2 = k, batch_mean, batch_m2
            return
        total = self.count + k
        delta = batch_mean - self.mean
        self.mean = self.mean + delta * (k / total)
        self.m2 = self.m2 + batch_m2 + delta ** 2 * (self.count * k / total)
        self.count = total

    def std(self):
        return (self.m2 / max(self.count - 1, 1)).sqrt()


def sample_posterior(problem: Problem, generator: torch.nn.Module, latent_dim: int, settings: PosteriorSettings,
                     every: int | None = None, method: str = "posterior"):
    """Yield snapshots of K MALA chains per image sampling p(z | y) every ``every`` steps and at the end. The
    chains run in y's dtype (G must accept it); all randomness comes from the seed's solver stream on the CPU.
    ``extra``: ``samples`` (B, K, C, H, W) the chains' current images, ``std`` (B, C, H, W), ``std_mean`` and
    ``coverage`` per image (see :func:`calibration`), ``acceptance`` per image, ``collected``, ``stage``."""
    op, y = problem.operator, problem.y
    batch, k, d = y.shape[0], settings.chains, latent_dim
    dtype, device = y.dtype, y.device
    watch = StopWatch(problem.device)
    watch.start()
    rows_op = op.select(torch.arange(batch, device=device).repeat_interleave(k))
    y_rows = y.repeat_interleave(k, 0)
    sigma = max(problem.noise, SIGMA_FLOOR)
    sigma0 = (y.pow(2).mean(1).sqrt().clamp_min(sigma)).repeat_interleave(k)           # (N,)
    burn_in = int(round(settings.burn_in * settings.steps))
    anneal = max(int(round(settings.anneal * burn_in)), 1)
    rng = stream(problem.seed, SOLVER_STREAM)
    randn = lambda *shape: torch.randn(shape, generator=rng, dtype=dtype).to(device)  # noqa: E731

    def noise_level(step):
        return sigma * (sigma0 / sigma) ** max(0.0, 1.0 - step / anneal)

    def evaluate(z):
        """x = G(z), the data term D = ‖y − A G(z)‖² and ∇D, per row."""
        z = z.detach().requires_grad_(True)
        x = generator(z)
        data = ((rows_op.A(x) - y_rows) ** 2).sum(1)
        (grad,) = torch.autograd.grad(data.sum(), z)
        return x.detach(), data.detach(), grad

    def jacobian_gram(z):
        """(AJ)ᵀAJ per row by forward differences of G, J = ∂G/∂z (d extra evaluations of G per row)."""
        eps = math.sqrt(torch.finfo(dtype).eps)
        with torch.no_grad():
            ax = rows_op.A(generator(z))
            shifted = (z[:, None, :] + eps * torch.eye(d, dtype=dtype, device=device)).reshape(-1, d)
            image = torch.arange(batch, device=device).repeat_interleave(k * d)
            columns = torch.cat([op.select(index).A(generator(part))
                                 for part, index in zip(shifted.split(CHUNK), image.split(CHUNK))])
            aj = (columns.reshape(-1, d, columns.shape[-1]) - ax[:, None]) / eps                    # (N, d, m)
        return aj @ aj.mT

    def factor(gram, level):
        """Lower Cholesky factor R of M = I + (AJ)ᵀAJ/σ² (C = M⁻¹ = R⁻ᵀR⁻¹)."""
        return torch.linalg.cholesky(torch.eye(d, dtype=dtype, device=device) + gram / level[:, None, None] ** 2)

    def precondition(r, v):
        """C v = M⁻¹ v."""
        return torch.cholesky_solve(v[..., None], r)[..., 0]

    def energy(data, z, level):
        return data / (2 * level ** 2) + 0.5 * (z ** 2).sum(1)

    def gradient(grad, z, level):
        return grad / (2 * level[:, None] ** 2) + z

    z = randn(batch * k, d)
    x, data, grad = evaluate(z)
    log_h = torch.full((batch * k,), math.log(d ** (-1 / 3)), dtype=dtype, device=device)
    accepted = torch.zeros(batch * k, dtype=dtype, device=device)
    moments = _Moments()
    gram = r = None

    def snapshot(step, final):
        seconds = watch.stop()
        samples = x.reshape(batch, k, *op.image_shape).clamp(0, 1)
        if moments.count:
            mean, std = moments.mean, moments.std()
        else:
            mean, std = samples.mean(1), samples.std(1)
        level = noise_level(step)
        objective = energy(data, z, level).reshape(batch, k).mean(1)
        measurement = ((op.A(mean) - y) ** 2).sum(1)
        stage = (f"sampling: {moments.count} samples" if step > burn_in
                 else f"burn-in {step}/{burn_in}: σ = {float(level.max()):.3g} → {sigma:g}")
        return make_snapshot(method, step, mean, measurement.tolist(), objective.tolist(), seconds, problem.truth,
                             final=final, samples=samples.detach().float().cpu(), std=std.detach().float().cpu(),
                             acceptance=(accepted.reshape(batch, k).mean(1) / (step - burn_in if step > burn_in else step)).tolist(),
                             collected=moments.count, stage=stage,
                             **calibration(mean.float().cpu(), std.float().cpu(), problem.truth))

    previous = torch.full_like(sigma0, math.inf)
    log_weight = torch.zeros(batch * k, dtype=dtype, device=device)
    for step in range(1, settings.steps + 1):  # acceptance counts restart with sampling
        burning = step <= burn_in
        level = noise_level(step)
        if burning:  # reweight for the new noise level, resample when the weights degenerate
            log_weight = log_weight - 0.5 * data * (level ** -2 - previous ** -2)
            previous = level
            rows = _resample(log_weight.reshape(batch, k), rng)
            if rows is not None:
                z, x, data, grad, log_h = z[rows], x[rows], data[rows], grad[rows], log_h[rows]
                gram = None if gram is None else gram[rows]
                log_weight = torch.zeros_like(log_weight)
        if gram is None or (burning and (step - 1) % settings.refresh == 0 and step - 1 + settings.refresh <= burn_in):
            gram = jacobian_gram(z)
        if burning or r is None:
            r = factor(gram, level)
        h = log_h.exp()[:, None]
        u, g = energy(data, z, level), gradient(grad, z, level)
        forward_mean = z - 0.5 * h * precondition(r, g)
        xi = randn(batch * k, d)
        proposal = forward_mean + h.sqrt() * torch.linalg.solve_triangular(r.mT, xi[..., None], upper=True)[..., 0]
        x_new, data_new, grad_new = evaluate(proposal)
        u_new, g_new = energy(data_new, proposal, level), gradient(grad_new, proposal, level)
        backward_mean = proposal - 0.5 * h * precondition(r, g_new)
        log_q_forward = -_norm_m(r, proposal - forward_mean) / (2 * h[:, 0])
        log_q_backward = -_norm_m(r, z - backward_mean) / (2 * h[:, 0])
        log_alpha = (u - u_new + log_q_backward - log_q_forward).nan_to_num(nan=-math.inf)
        uniform = torch.rand(batch * k, generator=rng, dtype=dtype).to(device)
        accept = uniform.log() < log_alpha
        z = torch.where(accept[:, None], proposal, z)
        x = torch.where(accept[:, None, None, None], x_new, x)
        data = torch.where(accept, data_new, data)
        grad = torch.where(accept[:, None], grad_new, grad)
        accepted = accepted * (step != burn_in + 1) + accept.to(dtype)
        if burning:
            log_h = log_h + ADAPT_RATE * (log_alpha.clamp(max=0).exp() - TARGET_ACCEPTANCE)
        else:
            moments.add(x.reshape(batch, k, *op.image_shape).clamp(0, 1))
        final = step == settings.steps
        if final or wants_snapshot(step, every):
            yield snapshot(step, final)
            watch.start()


def _norm_m(r, v):
    """vᵀ M v = ‖Rᵀ v‖² for M = R Rᵀ."""
    return ((r.mT @ v[..., None])[..., 0] ** 2).sum(-1)



def _resample(log_weight: torch.Tensor, rng: torch.Generator) -> torch.Tensor | None:
    """Row indices (B·K,) of a systematic resampling of each image's K chains by their weights, or None while every
    image's effective sample size (Σw)²/Σw² stays at least K/2."""
    batch, k = log_weight.shape
    w = torch.softmax(log_weight.double(), 1).cpu()
    if bool(((1 / (w ** 2).sum(1)) >= k / 2).all()):
        return None
    positions = (torch.rand((batch, 1), generator=rng, dtype=torch.float64) + torch.arange(k)) / k
    index = torch.searchsorted(w.cumsum(1).clamp(max=1), positions).clamp(max=k - 1)
    return (index + k * torch.arange(batch)[:, None]).reshape(-1).to(log_weight.device)
