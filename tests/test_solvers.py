"""FISTA: exact recovery of sparse signals and agreement with scikit-learn's Lasso; CSGM recovery."""
import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

from cs_core.bases import BASES
from cs_core.domains import DOMAINS
from cs_core.problem import make_problem
from cs_core.solvers.csgm import CSGMSettings, csgm
from cs_core.solvers.lasso import RATIO_PATH, LassoSettings, fista, lambda_max, path_steps
from helpers import last
from tiny_generator import TinyGenerator

MNIST = DOMAINS["mnist"]


def sparse_dct_image(k: int, seed: int) -> torch.Tensor:
    """A (1, 1, 28, 28) image with exactly k nonzero DCT coefficients, pixels inside [0, 1]."""
    rng = np.random.default_rng(seed)
    coeffs = np.zeros(MNIST.n)
    coeffs[0] = 0.5 * MNIST.size  # mean pixel 0.5
    support = rng.choice(np.arange(1, MNIST.n), size=k - 1, replace=False)
    coeffs[support] = rng.choice([-0.5, 0.5], size=k - 1)
    image = BASES["dct"].synthesis(torch.tensor(coeffs, dtype=torch.float32).reshape(1, *MNIST.shape))
    assert 0 < image.min() and image.max() < 1
    return image


def test_fista_recovers_a_sparse_dct_image(device):
    k = 10
    m = int(np.ceil(4 * k * np.log(MNIST.n / k)))
    truth = sparse_dct_image(k, seed=0)
    problem = make_problem(truth, MNIST, "gaussian", {"m": m}, 0.0, seed=3, device=device)
    lam = 1e-4 * lambda_max(problem, BASES["dct"]).item()
    final = last(fista(problem, BASES["dct"], LassoSettings(iterations=3000, lam=lam)))
    relative = (final.estimate - truth).norm() / truth.norm()
    assert relative < 1e-2


def test_fista_streams_at_the_asked_cadence_and_ends_with_a_final_snapshot():
    truth = sparse_dct_image(5, seed=1)
    problem = make_problem(truth, MNIST, "gaussian", {"m": 100}, 0.0, seed=0, device=torch.device("cpu"))
    snaps = list(fista(problem, BASES["dct"], LassoSettings(iterations=25, lam_ratio=0.01), every=10))
    assert [s.iteration for s in snaps] == [10, 20, 25]
    assert [s.final for s in snaps] == [False, False, True]
    assert snaps[-1].estimate.shape == (1, *MNIST.shape)
    assert snaps[-1].mse is not None and snaps[-1].ssim is not None


def test_fista_with_one_lambda_ratio_per_image_equals_separate_runs():
    truth = sparse_dct_image(5, seed=2).repeat(3, 1, 1, 1)
    problem = make_problem(truth, MNIST, "gaussian", {"m": 100}, 0.0, seed=0, device=torch.device("cpu"))
    ratios = [0.001, 0.01, 0.1]
    together = last(fista(problem, BASES["dct"], LassoSettings(iterations=50, lam_ratio=torch.tensor(ratios))))
    for i, ratio in enumerate(ratios):
        alone = last(fista(problem, BASES["dct"], LassoSettings(iterations=50, lam_ratio=ratio)))
        assert torch.allclose(together.estimate[i], alone.estimate[i], atol=1e-5)
    assert together.mse[0] != together.mse[2]  # the ratios really differ per image


@pytest.mark.parametrize("basis_name", ["pixel", "dct", "wavelet"])
def test_fista_objective_matches_sklearn_lasso(basis_name):
    """sklearn minimises 1/(2m)‖y − Xw‖² + α‖w‖₁; with X = AΨ and α = λ/m this is our objective / m."""
    basis = BASES[basis_name]
    gen = torch.Generator().manual_seed(4)
    truth = torch.rand((1, *MNIST.shape), generator=gen, dtype=torch.float64).float()
    problem = make_problem(truth, MNIST, "gaussian", {"m": 200}, 0.01, seed=5, device=torch.device("cpu"))
    lam = 0.05 * lambda_max(problem, basis).item()
    final = last(fista(problem, basis, LassoSettings(iterations=5000, lam=lam)))

    a = problem.operator.matrix.double()
    psi = basis.synthesis(torch.eye(MNIST.n, dtype=torch.float64).reshape(MNIST.n, *MNIST.shape))  # test-only dense Ψ
    design = (a @ psi.reshape(MNIST.n, -1).T).numpy()
    target = problem.y.double().numpy()[0]
    m = problem.operator.m
    reference = Lasso(alpha=lam / m, fit_intercept=False, tol=1e-12, max_iter=200_000).fit(design, target)
    w = reference.coef_
    sklearn_objective = 0.5 * np.sum((target - design @ w) ** 2) + lam * np.abs(w).sum()
    assert final.objective[0] == pytest.approx(sklearn_objective, rel=1e-3)


def test_csgm_recovers_a_point_in_the_range(device):
    generator = TinyGenerator().to(device)
    z_star = torch.randn((2, 5), generator=torch.Generator().manual_seed(11)).to(device)
    truth = generator(z_star)
    problem = make_problem(truth, MNIST, "gaussian", {"m": 60}, 0.0, seed=1, device=device)
    settings = CSGMSettings(steps=600, lr=0.05, restarts=4, lam=0.0)
    snaps = list(csgm(problem, generator, 5, settings, every=100))
    assert [s.iteration for s in snaps] == [100, 200, 300, 400, 500, 600]
    final = snaps[-1]
    assert final.final and final.estimate.shape == (2, *MNIST.shape)
    assert max(final.mse) < 1e-5
    losses = [s.measurement_loss[0] for s in snaps]
    assert losses == sorted(losses, reverse=True)  # best-so-far never gets worse


def test_csgm_is_reproducible_from_the_seed():
    generator = TinyGenerator()
    truth = generator(torch.randn(1, 5, generator=torch.Generator().manual_seed(2)))
    settings = CSGMSettings(steps=30, lr=0.05, restarts=3, lam=0.1)
    runs = [last(csgm(make_problem(truth, MNIST, "gaussian", {"m": 40}, 0.05, 9, torch.device("cpu")),
                      generator, 5, settings)) for _ in range(2)]
    assert torch.equal(runs[0].estimate, runs[1].estimate)


def test_csgm_stops_a_diverging_run_with_a_message():
    generator = TinyGenerator()
    truth = generator(torch.zeros(1, 5))
    problem = make_problem(truth, MNIST, "gaussian", {"m": 40}, 0.0, 0, torch.device("cpu"))
    final = last(csgm(problem, generator, 5, CSGMSettings(steps=50, lr=1e30, restarts=2, lam=1.0)))
    assert final.final and "diverged" in final.message
    assert torch.isfinite(final.estimate).all()


@pytest.mark.parametrize("iterations", [None, 7])
def test_every_method_runs_the_iterations_it_announces(iterations):
    from cs_core.session import run_to_end
    from cs_core.solvers import METHODS, Options, methods_for
    images = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    problem = make_problem(images, DOMAINS["mnist"], "gaussian", {"m": 50}, 0.0, 0, torch.device("cpu"))
    names = methods_for("mnist")
    options = Options(iterations=iterations, restarts=1)
    finals = run_to_end(problem, names, options)
    for name in names:
        announced, extra = METHODS[name].iterations(options), finals[name].extra
        skipped = (len(RATIO_PATH) - extra["path_ratios"]) * path_steps(announced) if "path_ratios" in extra else 0
        assert finals[name].iteration == announced - skipped  # Lasso's λ path skips the ratios it no longer needs
