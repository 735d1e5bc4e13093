"""FISTA's step rules: backtracking (alone and on working sets, the default) against scikit-learn and the
power-iteration step, its bounds on L, its O(1/k²) guarantee, and the power rule reproducing the published
solver exactly."""
from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

from cs_core.bases import BASES
from cs_core.domains import DOMAINS
from cs_core.errors import InputError
from cs_core.problem import make_problem
from cs_core.solvers import Options, check_options
from cs_core.operators import gaussian as gaussian_module
from cs_core.solvers import lasso
from cs_core.solvers.lasso import (BACKTRACKING_DECREASE, STEPS, BacktrackingStep, LassoSettings, WorkingSetStep,
                                  choose_lambda, fista, lambda_max, soft_threshold)
from helpers import last

MNIST, FACES = DOMAINS["mnist"], DOMAINS["faces"]
CPU = torch.device("cpu")


def reference_problem(m: int = 200, seed: int = 5):
    """The problem of test_solvers' comparison with sklearn: a random 28×28 image, Gaussian A, σ = 0.01."""
    truth = torch.rand((1, *MNIST.shape), generator=torch.Generator().manual_seed(4), dtype=torch.float64).float()
    return make_problem(truth, MNIST, "gaussian", {"m": m}, 0.01, seed=seed, device=CPU)


def sklearn_solution(problem, basis, lam: float):
    """(F*, c*) of ½‖y − AΨc‖² + λ‖c‖₁ from sklearn's Lasso (α = λ/m) run to tol 1e-12, in float64."""
    a = problem.operator.matrix.double()
    psi = basis.synthesis(torch.eye(MNIST.n, dtype=torch.float64).reshape(MNIST.n, *MNIST.shape))  # dense Ψ
    design = (a @ psi.reshape(MNIST.n, -1).T).numpy()
    target = problem.y.double().numpy()[0]
    w = Lasso(alpha=lam / problem.operator.m, fit_intercept=False, tol=1e-12, max_iter=200_000).fit(design, target).coef_
    return 0.5 * np.sum((target - design @ w) ** 2) + lam * np.abs(w).sum(), w


def exact_norm_squared(problem) -> float:
    return torch.linalg.matrix_norm(problem.operator.matrix.double(), ord=2).item() ** 2


@pytest.mark.parametrize("basis_name", ["pixel", "dct", "wavelet"])
@pytest.mark.parametrize("step", ["working-set", "backtracking", "power"])
def test_every_step_rule_reaches_sklearns_objective_to_1e_4(basis_name, step):
    basis = BASES[basis_name]
    problem = reference_problem()
    lam = 0.05 * lambda_max(problem, basis).item()
    f_star, _ = sklearn_solution(problem, basis, lam)
    final = last(fista(problem, basis, LassoSettings(iterations=3000, lam=lam, step=step)))
    assert final.objective[0] == pytest.approx(f_star, rel=1e-4)


@pytest.mark.parametrize("step", lasso.STEP_RULES)
def test_every_step_rule_stays_at_sklearns_objective_to_1e_4_after_10000_iterations(step):
    """The budget of the converged sweeps: a step rule that carries AΨc by linearity must not drift from it."""
    basis = BASES["pixel"]
    problem = reference_problem(m=300, seed=6)
    lam = 0.01 * lambda_max(problem, basis).item()
    f_star, _ = sklearn_solution(problem, basis, lam)
    final = last(fista(problem, basis, LassoSettings(iterations=10_000, lam=lam, step=step)))
    assert final.objective[0] == pytest.approx(f_star, rel=1e-4)


@pytest.mark.parametrize("basis_name", ["dct", "wavelet"])
def test_backtracking_keeps_fistas_guarantee_with_its_own_l_and_t(basis_name):
    """Beck–Teboulle's bound with the accepted L's: F(c_k) − F* ≤ L_k‖c₀ − c*‖² / (2t_k²), c₀ = 0."""
    basis = BASES[basis_name]
    problem = reference_problem()
    lam = 0.05 * lambda_max(problem, basis).item()
    f_star, w = sklearn_solution(problem, basis, lam)
    lam_t = torch.full((1, 1, 1, 1), lam)
    rule = BacktrackingStep(problem, basis, torch.zeros((1, *MNIST.shape)))
    norm = float(np.sum(w ** 2))
    for k in range(1, 301):
        c = rule.step(lam_t)
        objective = 0.5 * ((problem.operator.A(basis.synthesis(c)) - problem.y) ** 2).sum() + lam * c.abs().sum()
        bound = rule.lipschitz.item() * norm / (2 * rule.t.item() ** 2)
        assert objective.item() - f_star <= 1.01 * bound + 1e-5 * f_star, k


def test_backtracking_l_stays_between_its_start_and_twice_the_norm_and_backtracks_rarely_once_converged():
    basis = BASES["dct"]
    problem = reference_problem(m=100, seed=1)
    lam = 0.02 * lambda_max(problem, basis).item()
    snaps = list(fista(problem, basis, LassoSettings(iterations=2000, lam=lam, step="backtracking"), every=1))
    norm = exact_norm_squared(problem)
    floor = BacktrackingStep(problem, basis, torch.zeros((1, *MNIST.shape))).floor
    lipschitz = np.array([s.extra["lipschitz"][0] for s in snaps])
    backtracks = np.array([s.extra["backtracks"][0] for s in snaps])
    assert floor <= norm and lipschitz.min() >= floor
    assert lipschitz.max() <= 2 * norm * (1 + 1e-5)
    # a step is retried at most log₂(‖A‖²/L₀) + 1 times, and after convergence no more often than the
    # per-iteration decrease makes necessary: one doubling per log(2)/log(1/decrease) iterations (13.5 at 0.95)
    assert np.diff(backtracks).max() <= np.log2(norm / floor) + 1
    late = backtracks[-1] - backtracks[999]
    assert late <= 1000 * np.log(1 / BACKTRACKING_DECREASE) / np.log(2) + 2
    objectives = np.array([s.objective[0] for s in snaps])
    assert objectives[-1] <= objectives[999] * (1 + 1e-6)  # still at the minimum, no drift


def test_backtracking_at_a_fixed_point_decreases_l_to_its_floor_and_never_backtracks():
    """λ above λ_max: c = 0 from the start, every step is d = 0, which passes the test exactly."""
    basis = BASES["wavelet"]
    problem = reference_problem(m=100)
    lam = 2 * lambda_max(problem, basis).item()
    snaps = list(fista(problem, basis, LassoSettings(iterations=500, lam=lam, step="backtracking"), every=100))
    floor = BacktrackingStep(problem, basis, torch.zeros((1, *MNIST.shape))).floor
    assert snaps[-1].extra["backtracks"] == [0] and snaps[-1].extra["lipschitz"] == [pytest.approx(floor)]
    assert snaps[-1].objective[0] == pytest.approx(0.5 * (problem.y ** 2).sum().item())


def test_a_batch_of_different_images_equals_each_image_alone():
    """Per-image L and t: one image's backtracking never changes another's iterates."""
    images = torch.rand((3, *MNIST.shape), generator=torch.Generator().manual_seed(8))
    problem = make_problem(images, MNIST, "gaussian", {"m": 120}, 0.01, seed=2, device=CPU)
    settings = LassoSettings(iterations=150, lam_ratio=torch.tensor([0.003, 0.03, 0.1]), step="backtracking")
    together = last(fista(problem, BASES["wavelet"], settings))
    for i in range(3):
        alone = last(fista(replace(problem, y=problem.y[i:i + 1], truth=problem.truth[i:i + 1]), BASES["wavelet"],
                           LassoSettings(iterations=150, lam_ratio=settings.lam_ratio[i].item(), step="backtracking")))
        assert together.extra["lipschitz"][i] == pytest.approx(alone.extra["lipschitz"][0], rel=1e-4)
        assert together.extra["backtracks"][i] == alone.extra["backtracks"][0]
        # the working set reports F from AΨc through its float32 columns, backtracking from A(Ψc): they round
        # differently, by ≈ 1e-5 of this small objective
        assert together.objective[i] == pytest.approx(alone.objective[0], rel=1e-4)
        # batched and single matrix products round differently; 150 iterations amplify it to ~1e-4
        torch.testing.assert_close(together.estimate[i], alone.estimate[0], atol=5e-4, rtol=0)
    assert len(set(together.extra["backtracks"])) > 1  # the images really backtracked differently


@pytest.mark.parametrize("operator,params", [("inpaint", {"mask": "random", "keep": 0.5}),
                                             ("superres", {"factor": 2}), ("fourier", {"accel": 4}),
                                             ("blur", {"sigma": 1.5})])
def test_backtracking_reaches_the_power_steps_minimum_on_every_operator(operator, params, device):
    truth = torch.rand((2, *FACES.shape), generator=torch.Generator().manual_seed(3))
    problem = make_problem(truth, FACES, operator, params, 0.01, seed=0, device=device)
    basis = BASES["wavelet"]
    power = last(fista(problem, basis, LassoSettings(iterations=1500, step="power")))
    backtracking = last(fista(problem, basis, LassoSettings(iterations=1500)))
    assert backtracking.objective == pytest.approx(power.objective, rel=1e-4)


def test_the_power_rule_is_the_published_solver_bit_for_bit():
    """The published sweeps pin step="power": it must compute exactly what FISTA computed before the
    step rules existed (this loop, copied from that version)."""
    images = torch.rand((2, *MNIST.shape), generator=torch.Generator().manual_seed(6))
    problem = make_problem(images, MNIST, "gaussian", {"m": 150}, 0.01, seed=4, device=CPU)
    basis, settings = BASES["dct"], LassoSettings(iterations=60, lam_ratio=torch.tensor([0.01, 0.1]), step="power")
    op, y = problem.operator, problem.y
    lipschitz = max(1.05 * op.norm_squared(), 1e-12)
    lam = choose_lambda(problem, basis, settings).reshape(2, 1, 1, 1)
    coeffs = torch.zeros((2, *op.image_shape))
    momentum, t = coeffs, 1.0
    for _ in range(settings.iterations):
        gradient = basis.analysis(op.A_adjoint(op.A(basis.synthesis(momentum)) - y))
        new = soft_threshold(momentum - gradient / lipschitz, lam / lipschitz)
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        momentum = new + ((t - 1) / t_next) * (new - coeffs)
        coeffs, t = new, t_next
    final = last(fista(problem, basis, settings))
    assert torch.equal(final.estimate, basis.synthesis(coeffs).clamp(0, 1))


def test_the_step_rule_is_checked():
    with pytest.raises(ValueError, match="step"):
        LassoSettings(step="armijo")
    with pytest.raises(InputError, match="step rule"):
        check_options(Options(lasso_step="armijo"))
    assert check_options(Options(lasso_step="power")).lasso_step == "power"


def full_gradient(problem, basis, coeffs):
    """∇f(c) = ΨᵀAᵀ(AΨc − y) on every coefficient, in float64."""
    a = problem.operator.matrix.double()
    residual = basis.synthesis(coeffs.double()).flatten(1) @ a.T - problem.y.double()
    return basis.analysis((residual @ a).reshape(coeffs.shape)).flatten(1)


@pytest.mark.parametrize("basis_name", ["pixel", "dct", "wavelet"])
def test_the_working_sets_minimiser_is_optimal_on_every_coefficient_not_only_on_its_set(basis_name, device):
    """Lasso's optimality off the support, |∇ⱼf(c)| ≤ λ, checked on all n coefficients (on the support float32
    leaves ∇ⱼf + λ sign cⱼ at a few % of λ with every rule), for a batch of different images whose sets stay well
    below n; and the same objective as backtracking on every coefficient."""
    basis = BASES[basis_name]
    images = torch.rand((3, *MNIST.shape), generator=torch.Generator().manual_seed(11))
    problem = make_problem(images, MNIST, "gaussian", {"m": 120}, 0.01, seed=3, device=device)
    lam = torch.tensor([0.02, 0.05, 0.2], device=device) * lambda_max(problem, basis)
    rule = lasso_working_set(problem, basis, lam)
    sizes = rule.size.tolist()
    assert max(sizes) < MNIST.n / 2 and len(set(sizes)) == 3  # one set per image, far from all coefficients
    gradient = full_gradient(problem, basis, rule.coeffs).cpu()
    c, lam = rule.coeffs.flatten(1).double().cpu(), lam.double().cpu()[:, None].expand(3, MNIST.n)
    off = c == 0
    assert ((gradient.abs() - lam)[off] <= 1e-3 * lam[off]).all()
    full = last(fista(problem, basis, LassoSettings(iterations=1500, lam_ratio=torch.tensor([0.02, 0.05, 0.2]),
                                                    step="backtracking")))
    objective = 0.5 * ((problem.operator.A(basis.synthesis(rule.coeffs)) - problem.y) ** 2).sum(1) + \
        lam[:, 0].to(device) * rule.coeffs.flatten(1).abs().sum(1)
    assert objective.tolist() == pytest.approx(full.objective, rel=1e-5)


def lasso_working_set(problem, basis, lam, iterations: int = 1500):
    """The working-set stepper run by hand (to read its coefficients, which the clamped estimate hides)."""
    rule = STEPS["working-set"](problem, basis, torch.zeros((problem.batch, *problem.operator.image_shape),
                                                            device=problem.device))
    assert isinstance(rule, WorkingSetStep)
    for _ in range(iterations):
        rule.step(lam.reshape(-1, 1, 1, 1))
    return rule


def test_a_batch_on_working_sets_reaches_each_images_own_minimum():
    images = torch.rand((3, *MNIST.shape), generator=torch.Generator().manual_seed(8))
    problem = make_problem(images, MNIST, "gaussian", {"m": 120}, 0.01, seed=2, device=CPU)
    ratios = torch.tensor([0.003, 0.03, 0.1])
    together = last(fista(problem, BASES["dct"], LassoSettings(iterations=1500, lam_ratio=ratios)))
    for i in range(3):
        alone = last(fista(replace(problem, y=problem.y[i:i + 1], truth=problem.truth[i:i + 1]), BASES["dct"],
                           LassoSettings(iterations=1500, lam_ratio=ratios[i].item(), step="backtracking")))
        # the working set reports F from AΨc through its float32 columns, backtracking from A(Ψc): they round
        # differently, by ≈ 1e-5 of this small objective
        assert together.objective[i] == pytest.approx(alone.objective[0], rel=1e-4)


def test_working_sets_need_a_design_and_fall_back_to_every_coefficient(monkeypatch):
    basis, zeros = BASES["dct"], torch.zeros((1, *MNIST.shape))
    gaussian = reference_problem()
    masked = make_problem(gaussian.truth, MNIST, "inpaint", {"mask": "random", "keep": 0.5}, 0.0, seed=0, device=CPU)
    assert isinstance(STEPS["working-set"](gaussian, basis, zeros), WorkingSetStep)
    assert isinstance(STEPS["working-set"](masked, basis, zeros), BacktrackingStep)  # no dense A to copy
    many = torch.zeros((12, *MNIST.shape))  # 12 images · 2m = 4800 > n · 1.2: one shared product is cheaper
    assert isinstance(STEPS["working-set"](replace(gaussian, y=gaussian.y.repeat(12, 1)), basis, many), BacktrackingStep)
    monkeypatch.setattr(lasso.working_set, "WORKING_SET_LIMIT", 1000)
    assert isinstance(STEPS["working-set"](gaussian, basis, zeros), BacktrackingStep)  # the columns would not fit
    monkeypatch.setattr(gaussian_module, "DESIGN_LIMIT", 1000)
    assert gaussian.operator.__class__(MNIST.shape, 200, torch.Generator().manual_seed(0), CPU).design(basis) is None


def test_the_columns_operator_is_the_designs_columns_and_its_adjoint():
    problem, basis = reference_problem(), BASES["wavelet"]
    design = problem.operator.design(basis)
    gen = torch.Generator().manual_seed(1)
    index = torch.randint(0, MNIST.n, (2, 40), generator=gen)
    columns = problem.operator.on_columns(design[:, index].permute(1, 0, 2).contiguous())
    c = torch.randn((2, 1, 1, 40), generator=gen, dtype=torch.float64).float()
    r = torch.randn((2, problem.operator.m), generator=gen)
    full = torch.zeros((2, MNIST.n)).scatter_add_(1, index, c.flatten(1)).reshape(2, *MNIST.shape)
    torch.testing.assert_close(columns.A(c), problem.operator.A(basis.synthesis(full)), atol=1e-4, rtol=1e-4)
    assert (columns.A(c) * r).sum().item() == pytest.approx((c * columns.A_adjoint(r)).sum().item(), rel=1e-5)
    torch.testing.assert_close(columns.select(torch.tensor([1])).A(c[1:]), columns.A(c)[1:])
