"""TV (Chambolle–Pock) and Deep Image Prior: each lowers its own objective; TV recovers piecewise-constant
images; DIP is reproducible and never touches a shared prior."""
import hashlib

import pytest
import torch

from skimage.restoration import denoise_tv_chambolle

from cs_core.assets import get_asset
from cs_core.domains import DOMAINS
from cs_core.images import load_image
from cs_core.operators.identity import IdentityOperator
from cs_core.priors import PRIORS
from cs_core.problem import Problem, make_problem
from cs_core.session import run_to_end
from cs_core.solvers import Options
from cs_core.solvers.dip import DIPSettings, dip
from cs_core.solvers.tv import TVSettings, gradient, gradient_adjoint, total_variation, tv

MNIST = DOMAINS["mnist"]


def blocks(batch: int = 2) -> torch.Tensor:
    """Piecewise-constant 28×28 images: a few rectangles of different grey levels."""
    x = torch.full((batch, 1, 28, 28), 0.1)
    x[0, :, 4:14, 5:20] = 0.9
    x[0, :, 16:25, 10:24] = 0.5
    x[-1, :, 6:22, 6:12] = 0.7
    x[-1, :, 9:15, 12:25] = 0.3
    return x


def test_gradient_adjoint_is_exact(device):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((2, 3, 9, 7), generator=gen).to(device)
    g = torch.randn((2, 2, 3, 9, 7), generator=gen).to(device)
    torch.testing.assert_close((gradient(x) * g).sum(), (x * gradient_adjoint(g)).sum(), rtol=1e-5, atol=1e-4)
    assert total_variation(blocks()).tolist() == pytest.approx([0.8 * 48 + 0.4 * 18 + 0.4 * 14 + 0.4 * 23 + 0.4 * 4
                                                                + 0.4 * 9, 0.6 * 44 + 0.2 * 19 + 0.2 * 13 + 0.4 * 6], rel=0.2)


@pytest.mark.parametrize("operator,params", [("fourier", {"accel": 2.5}), ("gaussian", {"m": 300}),
                                             ("blur", {"sigma": 1.0})])
def test_tv_lowers_its_objective_and_recovers_piecewise_constant_images(operator, params, device):
    truth = blocks()
    problem = make_problem(truth, MNIST, operator, params, 0.0, 0, device)
    snaps = list(tv(problem, TVSettings(iterations=400, lam_ratio=0.002), every=50))
    start = 0.5 * (problem.y ** 2).sum(1)  # the objective at x = 0, where the iterations start
    first, last = torch.tensor(snaps[0].objective), torch.tensor(snaps[-1].objective)
    assert (last < first).all() and (last < start.cpu()).all()
    longer = list(tv(problem, TVSettings(iterations=1200, lam_ratio=0.002)))[-1]
    assert last.tolist() == pytest.approx(longer.objective, rel=0.02)  # converged: close to the optimum
    assert max(snaps[-1].mse) < 2e-3
    view_error = ((problem.view().cpu() - truth) ** 2).flatten(1).mean(1)
    assert (torch.tensor(snaps[-1].mse) < view_error / 4).all()


def test_tv_objective_beats_a_perturbed_solution():
    problem = make_problem(blocks(1), MNIST, "fourier", {"accel": 3}, 0.01, 1, torch.device("cpu"))
    final = list(tv(problem, TVSettings(iterations=1000, lam=0.05)))[-1]
    x = final.estimate
    gen = torch.Generator().manual_seed(3)
    for _ in range(5):
        nudged = x + 0.01 * torch.randn(x.shape, generator=gen)
        objective = 0.5 * ((problem.operator.A(nudged) - problem.y) ** 2).sum() + 0.05 * total_variation(nudged).sum()
        assert objective.item() > final.objective[0]


@pytest.mark.parametrize("lam", [0.01, 0.05, 0.2])
def test_tv_denoising_is_within_a_thousandth_of_the_optimum_after_its_default_iterations(lam):
    """Denoising (A = I, a noisy photo): the default run's ½‖y − x‖² + λ·TV(x) is within 1e-3 (relative) of the
    optimum, found by a run 10000 iterations long and checked against scikit-image's Chambolle (2004) projection
    algorithm, which minimises the same objective (its weight is λ)."""
    truth = load_image(get_asset("camera").path, MNIST).double()
    noisy = truth + 0.1 * torch.randn(truth.shape, generator=torch.Generator().manual_seed(0), dtype=truth.dtype)
    op = IdentityOperator(MNIST.shape, torch.device("cpu"))
    problem = Problem(MNIST, op, op.A(noisy), 0.1, 0, truth)
    default = list(tv(problem, TVSettings(lam=lam)))[-1]
    optimum = list(tv(problem, TVSettings(iterations=10_000, lam=lam)))[-1].objective[0]
    reference = torch.from_numpy(denoise_tv_chambolle(noisy[0, 0].numpy(), weight=lam, eps=1e-12, max_num_iter=20_000))
    independent = (0.5 * ((reference - noisy[0, 0]) ** 2).sum() + lam * total_variation(reference[None, None])).item()
    assert optimum <= independent * (1 + 1e-9) and independent <= optimum * (1 + 1e-4)
    assert default.iteration == TVSettings().iterations
    assert (default.objective[0] - optimum) / optimum < 1e-3


def weights_checksum(module: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def test_dip_lowers_its_objective_is_seeded_and_never_touches_a_prior(device):
    priors = {name: prior.load(device) for name, prior in PRIORS.items()}
    before = {name: weights_checksum(g) for name, g in priors.items()}
    problem = make_problem(blocks(), MNIST, "fourier", {"accel": 2}, 0.0, 4, device)
    snaps = list(dip(problem, DIPSettings(iterations=60, width=8), every=10))
    assert all(len(s.objective) == 2 for s in snaps) and snaps[-1].final and snaps[-1].iteration == 60
    assert (torch.tensor(snaps[-1].objective) < torch.tensor(snaps[0].objective) / 2).all()
    again = list(dip(problem, DIPSettings(iterations=60, width=8)))[-1]
    # the same seed gives the same run; on CUDA only up to cuDNN's non-deterministic convolution gradients
    # (2.6e-5 seen on an H200)
    torch.testing.assert_close(again.estimate, snaps[-1].estimate, **({"atol": 1e-4, "rtol": 1e-3}
                                                                     if problem.device.type == "cuda" else {}))
    assert {name: weights_checksum(g) for name, g in priors.items()} == before
    assert all(not p.requires_grad for g in priors.values() for p in g.parameters())


def test_tv_and_dip_run_through_the_registry_on_faces():
    truth = torch.rand(1, *DOMAINS["faces"].shape)
    problem = make_problem(truth, DOMAINS["faces"], "blur", {"kernel": "motion"}, 0.01, 0, torch.device("cpu"))
    results = run_to_end(problem, ["tv", "dip"], Options(iterations=5))
    assert {name: snap.iteration for name, snap in results.items()} == {"tv": 5, "dip": 5}
    assert all(snap.estimate.shape == truth.shape for snap in results.values())
