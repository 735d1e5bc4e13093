"""Posterior sampling with a generative prior: K chains of preconditioned MALA over the latent z.

.. math:: p(z \\mid y) \\propto e^{-U(z)},\\quad U(z) = \\frac{\\|y - A G(z)\\|^2}{2\\sigma^2} + \\frac{\\|z\\|^2}{2},
          \\quad x = G(z)

(Jalal, Karmalkar, Dimakis & Price 2021 sample this posterior instead of taking one minimiser.) The image
shown is the posterior mean of x, estimated from the samples; the per-pixel standard deviation says what the
measurements leave open.

**Burn-in 1: descent.** The CSGM solver itself, at the prior's settings but λ = σ² (then its objective
‖y − AG(z)‖² + σ²‖z‖² is 2σ²·U: it descends to posterior modes) from K starts z ~ N(0, I), unpruned. Langevin
dynamics started at prior draws barely leave them at a DCGAN's σ = 0.05 posterior (measured: acceptance 1–5 %,
error unchanged after 100 steps), and a descent is what CSGM does well.

**Pruning, only when a chain explains y.** If the best chain's fit ‖y − AG(z)‖² is at most σ²m + 2σ²√(2m) (χ²_m's
mean plus ``FIT_Z`` = 2 of its standard deviations; at a posterior mode the fit is below σ²m on average), the
chains whose U at the end of the descent exceeds the best chain's by more than ln(K / ``PRUNE_CHAINS``) nats
continue from a chain that passes, drawn at random. With ``PRUNE_CHAINS`` = 1 the bound is ln K: a mode's posterior
mass relative to the best's is ≈ exp(−ΔU) (Laplace, similar curvature), so were the K chains allotted by mass such
a mode would get fewer than one; kept, it would get a whole chain's weight 1/K, and the chains cannot move mass
between modes afterwards. (Chosen on validation draws against a band on the fit, up to 2.5√(2m) nats above the
best, and against ln 4K: on 10 MNIST draws at σ = 0.5, m = 25, the std was 0.88–1.12 × an importance-sampling
reference's with ln K, 1.01–3.11 × with the band, up to 1.55 × with ln 4K; at σ = 0.05 and on faces coverage and
MSE moved within their noise — docs/RESULTS.md.) If no chain explains y (the descents ended in local minima, or the
prior cannot reach the image), every chain stays: the mass lies where no descent arrived, the minima's relative
weights say nothing about it, and their spread (of the search, not of the posterior) is the uncertainty that
remains. (Faces at m = 100 = the latent dimension: the 16 descents' best fits were 1.6–16 × σ²m on 3 validation
draws; restarting every chain from the best collapsed the samples, coverage 0.03–0.49, against 0.96–0.99 with every
chain kept.)

**Start: a Laplace draw.** Each chain then jumps from its descent's end to z + N(0, C) (C below, at that point):
a chain started at a mode would need ~d/h MALA steps to diffuse out to the posterior's typical set at distance
~√d, more than the DCGAN's 100 steps (d = 100).

**Burn-in 2 and sampling: MALA**, K chains per image batched as B·K rows:

    z' = z − (h/2) C ∇U(z) + √h L ξ,   ξ ~ N(0, I),   C = L Lᵀ = (I + (AJ)ᵀAJ / σ²)⁻¹,   J = ∂G/∂z,

accepted with the Metropolis–Hastings probability, so the posterior is the chain's stationary law for any h
(unadjusted Langevin is biased by O(h), and that bias would show as a miscalibrated std). Step rule: C is the
Gauss–Newton inverse Hessian of U at the chain's point (exactly the posterior covariance when G is linear), so
in C's metric the posterior is close to N(·, I) and one scalar h per chain suffices; J is taken by forward
differences every ``refresh`` steps of burn-in (a proposal only needs an approximate C: MH corrects the rest).
During burn-in log h follows a Robbins–Monro step towards acceptance 0.574, optimal for MALA (Roberts &
Rosenthal 1998); h and C are then frozen, so the sampling phase is one fixed MH kernel. The chains mix within
the modes the descent found; the weight between modes is the descent's (its share of the K starts), which a
chain cannot correct. Checked against an independent reference (importance sampling from a mixture of
Student-t's at 64 descents' modes, exact weights) on 4 validation digits at m = 25, 100, 400: std_mean within
3 % of it on 11 of 12 cells (5 % on one); at σ = 0.5 on 10 validation digits, 0.88–1.12 × it at m = 25; below
m ≈ 20 (m = 5, 10) the posterior has several modes and 16 starts can miss the heaviest.

**σ floor.** σ = max(noise, ``SIGMA_FLOOR`` = 0.01): at σ = 0 the posterior is singular (supported on
{z : AG(z) = y}) and the step would have to shrink to 0; 0.01 per measurement (1 % of the pixel range, ‖Ax‖ ≈ ‖x‖)
is below what the pictures' 8-bit quantisation and a generator's fit can tell apart.

**Estimates.** Mean and per-pixel std of G(z) over all chains and all sampling steps (Welford's update);
successive samples are correlated, which costs effective sample size, not bias. Before sampling starts the
mean and std are those of the K current chains.
"""
import math
from dataclasses import dataclass, replace

import torch

from ..priors import PRIORS
from ..problem import SOLVER_STREAM, Problem, stream
from .csgm import CSGMSettings, csgm
from .snapshot import StopWatch, make_snapshot, wants_snapshot
from .warmstart import LatentRecorder

OBJECTIVE = "sample p(z | y) ∝ exp(−‖y − A G(z)‖² / 2σ² − ‖z‖² / 2)"
SIGMA_FLOOR = 0.01
TARGET_ACCEPTANCE = 0.574
ADAPT_RATE = 0.1
MALA_SEED_OFFSET = 2 ** 40  # MALA's generator: the solver stream's seed + this (the descent draws from the stream)
COVERAGE_STDS = 2.0
FIT_Z = 2.0  # standard deviations of χ²_m (σ²√(2m)) the best chain's fit may lie above σ²m to explain y
PRUNE_CHAINS = 1.0  # when it does, a chain stays if its mode would get this many of K chains allotted by mass
CHUNK = 32  # rows of G per call when taking the Jacobian (a DCGAN's activations: ~2 MB a float64 row; the values do not
             # depend on it, batched convolutions give each row the same bits)


@dataclass(frozen=True)
class PosteriorSettings:
    """Burn-in 1: ``descent``, CSGM's settings (its λ, restarts and pruning are set by the sampler). Then ``steps``
    MALA steps per chain, the first ``burn_in`` fraction of them burn-in (h adapted, J refreshed every ``refresh``
    steps), the rest collected."""
    steps: int
    descent: CSGMSettings
    chains: int = 16
    burn_in: float = 0.5
    refresh: int = 25


def _descent(prior_name: str) -> CSGMSettings:
    d = PRIORS[prior_name].defaults
    return CSGMSettings(d.steps, d.lr, d.restarts, d.lam, d.optimiser, patience=d.patience)


# Per prior: a VAE step costs ~4 ms for 16 chains on one CPU thread, a DCGAN step ~0.2 s and its Jacobian ~40 steps
DEFAULTS = {"vae": PosteriorSettings(400, _descent("vae")), "sketch": PosteriorSettings(400, _descent("sketch")),
            "dcgan": PosteriorSettings(100, _descent("dcgan"), refresh=50)}
SAMPLED_PRIORS = tuple(DEFAULTS)


def settings_for(prior_name: str, options) -> PosteriorSettings:
    """The prior's defaults; ``options.iterations`` sets the MALA steps and ``options.restarts`` the chains K."""
    d = DEFAULTS[prior_name]
    return replace(d, steps=options.iterations or d.steps, chains=options.restarts or d.chains)


def planned_iterations(prior_name: str, options) -> int:
    """Descent steps (at most; it may stop early) + MALA steps."""
    settings = settings_for(prior_name, options)
    return settings.descent.steps + settings.steps


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


def std_image(std: torch.Tensor) -> torch.Tensor:
    """The per-pixel std (B, C, H, W) shown as one grey map per image (B, 1, H, W) in [0, 1]: the mean over
    channels, scaled by its maximum (``std_mean`` gives the scale)."""
    grey = std.mean(1, keepdim=True)
    return grey / grey.flatten(1).max(1).values.clamp_min(1e-12)[:, None, None, None]


def sample_grid(samples: torch.Tensor, columns: int = 4) -> torch.Tensor:
    """The K samples of one image (K, C, H, W) tiled row by row into one image (1, C, rows·H, columns·W)."""
    k, c, h, w = samples.shape
    rows = -(-k // columns)
    padded = torch.cat([samples, samples.new_ones((rows * columns - k, c, h, w))])
    return padded.reshape(rows, columns, c, h, w).permute(2, 0, 3, 1, 4).reshape(1, c, rows * h, columns * w)


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
    """Yield snapshots of K chains per image sampling p(z | y) every ``every`` steps and at the end (iterations
    count the descent's steps, then MALA's). The chains run in y's dtype (G must accept it and the descent's
    float32 latents); all randomness comes from the seed's solver stream on the CPU. ``extra``: ``samples``
    (B, K, C, H, W) the chains' current images, ``std`` (B, C, H, W), ``std_mean`` and ``coverage`` per image
    (see :func:`calibration`), ``acceptance`` per image (of the sampling phase once it runs), ``collected``,
    ``stage``."""
    op, y = problem.operator, problem.y
    batch, k, d = y.shape[0], settings.chains, latent_dim
    dtype, device = y.dtype, y.device
    rows_op = op.select(torch.arange(batch, device=device).repeat_interleave(k))
    y_rows = y.repeat_interleave(k, 0)
    sigma = max(problem.noise, SIGMA_FLOOR)
    burn_in = int(round(settings.burn_in * settings.steps))
    rng = torch.Generator().manual_seed(stream(problem.seed, SOLVER_STREAM).initial_seed() + MALA_SEED_OFFSET)
    randn = lambda *shape: torch.randn(shape, generator=rng, dtype=dtype).to(device)  # noqa: E731
    moments = _Moments()

    def energy(data, z):
        return data / (2 * sigma ** 2) + 0.5 * (z ** 2).sum(1)

    def snapshot(step, z, x, final, stage, seconds, acceptance):
        samples = x.reshape(batch, k, *op.image_shape).clamp(0, 1)
        mean, std = (moments.mean, moments.std()) if moments.count else (samples.mean(1), samples.std(1))
        objective = energy(((rows_op.A(x) - y_rows) ** 2).sum(1), z).reshape(batch, k).mean(1)
        measurement = ((op.A(mean) - y) ** 2).sum(1)
        return make_snapshot(method, step, mean, measurement.tolist(), objective.tolist(), seconds, problem.truth,
                             final=final, samples=samples.detach().float().cpu(), std=std.detach().float().cpu(),
                             acceptance=acceptance, collected=moments.count, stage=stage,
                             **calibration(mean.float().cpu(), std.float().cpu(), problem.truth))

    def evaluate(z):
        """x = G(z), U(z) and ∇U(z), per row."""
        z = z.detach().requires_grad_(True)
        x = generator(z)
        u = energy(((rows_op.A(x) - y_rows) ** 2).sum(1), z)
        (grad,) = torch.autograd.grad(u.sum(), z)
        return x.detach(), u.detach(), grad

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

    # burn-in 1: descent to the posterior's modes from K starts
    recorder = LatentRecorder(_Cast(generator, dtype))
    descent = None
    for descent in csgm(replace(problem, y=y.float()), recorder, d, replace(settings.descent, restarts=k, lam=sigma ** 2, prune_after=0),
                        every, method=method):
        if not descent.final:
            with torch.no_grad():  # (never yield inside it: grad mode is global while the generator is suspended)
                z = recorder.last.to(dtype)
                view = snapshot(descent.iteration, z, generator(z), False,
                                f"burn-in 1/2: descent to the modes from {k} starts", descent.seconds, [])
            yield view
    start_step, start_seconds = descent.iteration, descent.seconds
    watch = StopWatch(problem.device)
    watch.start()
    z = recorder.last.reshape(batch * k, d).to(dtype)
    x, u, grad = evaluate(z)
    rows = prune(((rows_op.A(x) - y_rows) ** 2).sum(1).reshape(batch, k), u.reshape(batch, k), sigma ** 2, op.m, rng)
    z = z[rows]
    r = torch.linalg.cholesky(torch.eye(d, dtype=dtype, device=device) + jacobian_gram(z) / sigma ** 2)
    z = z + torch.linalg.solve_triangular(r.mT, randn(batch * k, d)[..., None], upper=True)[..., 0]  # z + N(0, C)
    x, u, grad = evaluate(z)

    # burn-in 2 and sampling: MALA
    log_h = torch.full((batch * k,), math.log(d ** (-1 / 3)), dtype=dtype, device=device)
    accepted = torch.zeros(batch * k, dtype=dtype, device=device)
    for step in range(1, settings.steps + 1):
        burning = step <= burn_in
        if burning and step > 1 and (step - 1) % settings.refresh == 0 and step - 1 + settings.refresh <= burn_in:
            r = torch.linalg.cholesky(torch.eye(d, dtype=dtype, device=device) + jacobian_gram(z) / sigma ** 2)
        h = log_h.exp()[:, None]
        forward_mean = z - 0.5 * h * torch.cholesky_solve(grad[..., None], r)[..., 0]
        noise = torch.linalg.solve_triangular(r.mT, randn(batch * k, d)[..., None], upper=True)[..., 0]
        proposal = forward_mean + h.sqrt() * noise
        x_new, u_new, grad_new = evaluate(proposal)
        backward_mean = proposal - 0.5 * h * torch.cholesky_solve(grad_new[..., None], r)[..., 0]
        log_q_forward = -_norm_m(r, proposal - forward_mean) / (2 * h[:, 0])
        log_q_backward = -_norm_m(r, z - backward_mean) / (2 * h[:, 0])
        log_alpha = (u - u_new + log_q_backward - log_q_forward).nan_to_num(nan=-math.inf)
        accept = torch.rand(batch * k, generator=rng, dtype=dtype).to(device).log() < log_alpha
        z = torch.where(accept[:, None], proposal, z)
        x = torch.where(accept[:, None, None, None], x_new, x)
        u = torch.where(accept, u_new, u)
        grad = torch.where(accept[:, None], grad_new, grad)
        accepted = accepted * (step != burn_in + 1) + accept.to(dtype)  # counted afresh once sampling starts
        if burning:
            log_h = log_h + ADAPT_RATE * (log_alpha.clamp(max=0).exp() - TARGET_ACCEPTANCE)
        else:
            moments.add(x.reshape(batch, k, *op.image_shape).clamp(0, 1))
        final = step == settings.steps
        if final or wants_snapshot(step, every):
            rate = accepted.reshape(batch, k).mean(1) / (step - burn_in if step > burn_in else step)
            stage = (f"sampling: {moments.count} samples from {k} chains" if step > burn_in
                     else f"burn-in 2/2: MALA step {step}/{burn_in}, step size adapting")
            yield snapshot(start_step + step, z, x, final, stage, start_seconds + watch.stop(), rate.tolist())
            watch.start()


class _Cast(torch.nn.Module):
    """G as the descent (float32, like CSGM) sees it: latents cast to the chains' dtype, images back to float32."""

    def __init__(self, generator: torch.nn.Module, dtype: torch.dtype):
        super().__init__()
        self.generator, self.dtype = generator, dtype

    def forward(self, z):
        return self.generator(z.to(self.dtype)).float()


def _norm_m(r, v):
    """vᵀ M v = ‖Rᵀ v‖² for M = R Rᵀ."""
    return ((r.mT @ v[..., None])[..., 0] ** 2).sum(-1)


def prune(data: torch.Tensor, energy: torch.Tensor, variance: float, m: int, rng: torch.Generator) -> torch.Tensor:
    """Row indices (B·K,) from the chains' fits ``data`` = ‖y − AG(z)‖² and energies ``energy`` = U(z) (B, K). If
    an image's best fit is at most σ²m + ``FIT_Z``·σ²√(2m) (y explained to the noise level), its chains with
    U ≤ min U + ln(K / ``PRUNE_CHAINS``) stay and the others continue from one of those, drawn uniformly;
    otherwise every chain stays."""
    batch, k = data.shape
    explains = data.min(1, keepdim=True).values <= variance * (m + FIT_Z * math.sqrt(2 * m))
    limit = torch.where(explains, energy.min(1, keepdim=True).values + math.log(k / PRUNE_CHAINS),
                        torch.full_like(energy[:, :1], math.inf))
    fits = (energy <= limit).cpu()
    draw = torch.multinomial(fits.double(), k, replacement=True, generator=rng)
    index = torch.where(fits, torch.arange(k).expand(batch, k), draw)
    return (index + k * torch.arange(batch)[:, None]).reshape(-1).to(data.device)
