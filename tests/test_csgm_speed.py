"""CSGM's faster search: batched L-BFGS, pruning of restarts and early stopping never lose the best estimate."""
import pytest
import torch

from cs_core.domains import DOMAINS
from cs_core.problem import make_problem
from cs_core.solvers.csgm import CSGMSettings, csgm
from cs_core.solvers.lbfgs import BatchedLBFGS
from tiny_generator import TinyGenerator

MNIST = DOMAINS["mnist"]


def _problem(device, noise=0.0, images=2):
    generator = TinyGenerator().to(device)
    z_star = torch.randn((images, 5), generator=torch.Generator().manual_seed(11)).to(device)
    return generator, make_problem(generator(z_star), MNIST, "gaussian", {"m": 60}, noise, seed=1, device=device)


def test_batched_lbfgs_minimises_independent_quadratics(device):
    """Rows with different conditioning each reach their own minimiser, one evaluation per step."""
    scales = torch.tensor([[1.0, 10.0, 100.0], [3.0, 0.3, 30.0]], device=device)
    centre = torch.tensor([[1.0, -2.0, 0.5], [0.0, 4.0, -1.0]], device=device)
    solver = BatchedLBFGS(torch.zeros(2, 3, device=device), history=5)
    z = solver.trial()
    for _ in range(60):
        f = 0.5 * (scales * (z - centre) ** 2).sum(1)
        z = solver.step(f, scales * (z - centre))
    assert torch.allclose(solver.z, centre, atol=1e-4)


def test_lbfgs_csgm_recovers_a_point_in_the_range(device):
    generator, problem = _problem(device)
    settings = CSGMSettings(steps=150, lr=1.0, restarts=3, lam=0.0, optimiser="lbfgs")
    snaps = list(csgm(problem, generator, 5, settings, every=10))
    assert max(snaps[-1].mse) < 1e-5
    for image in range(2):
        losses = [s.measurement_loss[image] for s in snaps]
        assert losses == sorted(losses, reverse=True)  # best-so-far never gets worse


@pytest.mark.parametrize("optimiser", ["adam", "lbfgs"])
def test_pruning_keeps_the_best_estimate_it_had(optimiser):
    """Pruned or not, the same steps up to the pruning point; afterwards the best-so-far never rises."""
    generator, problem = _problem(torch.device("cpu"))
    lr = 0.05 if optimiser == "adam" else 1.0
    full = CSGMSettings(steps=40, lr=lr, restarts=4, lam=0.01, optimiser=optimiser)
    pruned = CSGMSettings(steps=40, lr=lr, restarts=4, lam=0.01, optimiser=optimiser, prune_after=10)
    a = list(csgm(problem, generator, 5, full, every=1))
    b = list(csgm(problem, generator, 5, pruned, every=1))
    assert [s.measurement_loss for s in a[:10]] == [s.measurement_loss for s in b[:10]]
    for image in range(2):
        losses = [s.measurement_loss[image] for s in b]
        assert losses == sorted(losses, reverse=True)
        assert b[-1].measurement_loss[image] <= b[9].measurement_loss[image]


@pytest.mark.parametrize("optimiser", ["adam", "lbfgs"])
def test_early_stopping_returns_the_best_estimate_it_had(optimiser):
    """A run that stops early ends with the estimate it was showing: the running best, never a later iterate."""
    generator, problem = _problem(torch.device("cpu"), noise=0.05, images=1)
    lr = 0.05 if optimiser == "adam" else 1.0
    settings = CSGMSettings(steps=2000, lr=lr, restarts=2, lam=0.0, optimiser=optimiser, patience=10)
    snaps = list(csgm(problem, generator, 5, settings, every=1))
    final = snaps[-1]
    assert final.final and final.iteration < 2000 and "stopped at step" in final.message
    assert final.measurement_loss == min(s.measurement_loss for s in snaps)
    assert final.measurement_loss[0] <= snaps[-2].measurement_loss[0]


def test_early_stopping_at_the_noise_level():
    """With noise σ the run stops once ‖y − A G(z)‖² ≤ σ²m, the discrepancy principle's level."""
    generator, problem = _problem(torch.device("cpu"), noise=0.05, images=1)
    settings = CSGMSettings(steps=500, lr=1.0, restarts=2, lam=0.0, optimiser="lbfgs", patience=1000)
    final = list(csgm(problem, generator, 5, settings))[-1]
    assert "noise level" in final.message and final.measurement_loss[0] <= 0.05 ** 2 * 60
