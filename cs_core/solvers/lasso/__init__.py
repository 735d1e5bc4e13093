"""Lasso in an orthonormal basis, solved by FISTA (Beck & Teboulle, 2009).

    minimise_c  F(c) = ½‖y − AΨc‖² + λ‖c‖₁,    x̂ = Ψĉ

Three step rules (``LassoSettings.step``); Ψ orthonormal, so ‖AΨ‖ = ‖A‖:

- ``"working-set"`` (the default): ``"backtracking"`` on a working set of coefficients per image, grown where
  the optimality condition fails outside it (``WorkingSetStep``), when A is a dense matrix (Gaussian) whose
  design AΨ can be copied; otherwise plain ``"backtracking"``. The same minimiser; on the bench's faces
  problem 2–3× faster than backtracking on every coefficient (docs/benchmarks.md).
- ``"backtracking"``: FISTA with backtracking that lets L go down as well as up (Scheinberg,
  Goldfarb & Bai 2014), per image. L₀ is a Rayleigh quotient of AᵀA (≤ ‖A‖²); each iteration first tries
  max(0.95·L, L₀) and doubles it until ‖AΨd‖² ≤ L‖d‖² for the step d = c⁺ − v. For this quadratic f that
  is exactly the sufficient decrease f(c⁺) ≤ f(v) + ⟨∇f(v), d⟩ + L/2‖d‖², computed without cancellation;
  it holds for every d once L ≥ ‖A‖², so L never exceeds 2‖A‖² and a step is retried at most
  log₂(‖A‖²/L₀) + 1 times. Momentum follows L: t⁺ = (1 + √(1 + 4(L'/L)t²))/2 with L' the first trial
  (≤ the accepted L⁺), so (t⁺² − t⁺)/L⁺ ≤ t²/L and Beck–Teboulle's bound F(c_k) − F* ≤ L_k‖c₀ − c*‖²/(2t_k²)
  holds with the local L's in place of ‖A‖². On the bench's faces problem L settles at 3–8 against
  ‖A‖² ≈ 35: 2.3× fewer iterations (docs/benchmarks.md). (Monotone backtracking, L never decreasing, gains little there: the
  first step, along ΨᵀAᵀy, already needs L ≈ 31.)
- ``"power"``: the constant step 1/L with L = 1.05·‖A‖² from a power iteration, which approaches from below
  (within 2 % after 100 steps on Gaussian A), so a 5 % margin keeps it safe. The published sweeps use it.

λ is given (``lam``, absolute, or ``lam_ratio`` · λ_max per image, λ_max = ‖ΨᵀAᵀy‖∞ the smallest λ whose
solution is c = 0), or else chosen per image along ``RATIO_PATH`` from large λ to small (warm-started):
- measurements that each see the whole image (``operator.exchangeable``: Gaussian A): K-fold
  cross-validation on the measurements (Boufounos, Duarte & Baraniuk 2007; Ward 2009): each fold's Lasso is
  fitted without its held-out measurements and scored by ‖y_held − A_held clamp(Ψĉ)‖², and the ratio with the
  lowest held-out error summed over the folds wins. The held-out error estimates ‖x̂ − x*‖² plus the noise,
  so the rule needs neither σ nor tuning, and what the basis cannot represent (a real photo is not sparse)
  counts against small λ just as noise does;
- local measurements (pixels, low-resolution pixels, k-space lines, a blurred image), where a held-out
  measurement says how well its neighbours interpolate it rather than how good x̂ is: the discrepancy
  principle, the largest ratio with ‖y − AΨĉ‖ ≤ σ√m (noiseless: the smallest ratio of the path).
The path stops as soon as every image's choice is settled: under the discrepancy principle at the first ratio
that meets it (the same choice as the whole path), under cross-validation once the held-out error has risen
at ``PATH_PATIENCE`` ratios in a row after its lowest (each image's choice is the lowest error up to there,
whatever else is in the batch); the ratios it skips are not run. The chosen ratio is then solved on all
measurements from the path's coefficients, for the run's iterations less the whole path's (300 by default).
"""
from .path import FOLDS, PATH_PATIENCE, lambda_path
from .settings import (DEFAULT_ITERATIONS, PATH_ITERATIONS, RATIO_PATH, RULE_ITERATIONS, STEP_RULES, LassoSettings,
                       choose_lambda, lambda_max, path_steps, planned_iterations)
from .solver import fista
from .steps import (BACKTRACKING_DECREASE, LIPSCHITZ_MARGIN, REFRESH_EVERY, BacktrackingStep, PowerStep,
                    rayleigh_floor, soft_threshold)
from .working_set import (SHARED_BATCH, STEPS, WORKING_SET_CHECK, WORKING_SET_CHECK_MAX, WORKING_SET_GROWTH,
                          WORKING_SET_LIMIT, WorkingSetStep, working_set_or_full)
