"""Adjointness, norms and views of every registered operator (one registry drives the tests)."""
import pytest
import torch

from cs_core.domains import DOMAINS
from cs_core.errors import InputError
from cs_core.operators import OPERATORS, add_noise, build_operator
from cs_core.solvers.lasso import LIPSCHITZ_MARGIN

CASES = {
    "gaussian": [{"m": 37}, {"m": 500}],
    "inpaint": [{"mask": "center", "mask_size": 10}, {"mask": "random", "keep": 0.3}],
    "superres": [{"factor": 2}, {"factor": 4}],
    "fourier": [{"accel": 4}, {"accel": 2.5, "center": 0.2, "lines": "variable"}],
    "blur": [{"kernel": "gaussian", "sigma": 2.0}, {"kernel": "motion", "length": 7, "angle": 30}],
}


def test_every_registered_operator_is_covered():
    assert set(CASES) == set(OPERATORS)


def _all_cases():
    for name, params_list in CASES.items():
        for params in params_list:
            for domain in DOMAINS.values():
                yield pytest.param(name, params, domain, id=f"{name}-{domain.name}-{params}")


ALL_CASES = list(_all_cases())


@pytest.mark.parametrize("dtype,tol", [(torch.float32, {"rtol": 1e-4, "atol": 1e-3}),
                                       (torch.float64, {"rtol": 1e-12, "atol": 1e-10})], ids=str)
@pytest.mark.parametrize("name,params,domain", ALL_CASES)
def test_adjoint(name, params, domain, device, dtype, tol):
    """<Ax, y> = <x, Aᵀy> in float32 and float64; A, Aᵀ, the view and the trivial estimate keep the input's dtype."""
    op = build_operator(name, domain, params, torch.Generator().manual_seed(1), device)
    gen = torch.Generator().manual_seed(2)
    x = torch.randn((3, *domain.shape), generator=gen, dtype=dtype).to(device)
    y = torch.randn((3, op.m), generator=gen, dtype=dtype).to(device)
    ax, aty = op.A(x), op.A_adjoint(y)
    assert ax.dtype == aty.dtype == op.view(y).dtype == op.trivial(y).dtype == dtype
    torch.testing.assert_close((ax * y).sum(1), (x * aty).flatten(1).sum(1), **tol)


@pytest.mark.parametrize("name,params,domain", ALL_CASES)
def test_view_is_an_image_in_unit_range(name, params, domain, device):
    op = build_operator(name, domain, params, torch.Generator().manual_seed(1), device)
    x = torch.rand((2, *domain.shape), device=device)
    view = op.view(op.A(x))
    assert view.shape == (2, *domain.shape)
    assert view.min() >= 0 and view.max() <= 1


def test_norms_match_theory(device):
    faces = DOMAINS["faces"]
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert build_operator("superres", faces, {"factor": 4}, gen(), device).norm_squared() == pytest.approx(1 / 16, rel=1e-4)
    assert build_operator("inpaint", faces, {"mask": "center", "mask_size": 32}, gen(), device).norm_squared() == pytest.approx(1.0)
    op = build_operator("gaussian", faces, {"m": 500}, gen(), device)
    dense = op.matrix.double().cpu()
    exact = torch.linalg.matrix_norm(dense, ord=2).item() ** 2
    estimate = op.norm_squared()
    assert estimate <= exact * (1 + 1e-6)  # power iteration approaches from below ...
    assert estimate * LIPSCHITZ_MARGIN >= exact  # ... and FISTA's safety margin covers the gap


def test_gaussian_preserves_norm_on_average():
    op = build_operator("gaussian", DOMAINS["faces"], {"m": 2000}, torch.Generator().manual_seed(3), torch.device("cpu"))
    x = torch.rand((8, 3, 64, 64))
    ratio = op.A(x).norm(dim=1) / x.flatten(1).norm(dim=1)
    assert ratio.mean().item() == pytest.approx(1.0, abs=0.05)


def test_operators_are_reproducible_from_the_seed():
    faces = DOMAINS["faces"]
    a = build_operator("gaussian", faces, {"m": 50}, torch.Generator().manual_seed(7), torch.device("cpu"))
    b = build_operator("gaussian", faces, {"m": 50}, torch.Generator().manual_seed(7), torch.device("cpu"))
    assert torch.equal(a.matrix, b.matrix)
    ma = build_operator("inpaint", faces, {"mask": "random", "keep": 0.5}, torch.Generator().manual_seed(7), torch.device("cpu"))
    mb = build_operator("inpaint", faces, {"mask": "random", "keep": 0.5}, torch.Generator().manual_seed(7), torch.device("cpu"))
    assert torch.equal(ma.keep_mask, mb.keep_mask)


def test_inpaint_view_greys_hidden_pixels():
    op = build_operator("inpaint", DOMAINS["mnist"], {"mask": "center", "mask_size": 10}, torch.Generator(), torch.device("cpu"))
    view = op.view(op.A(torch.ones(1, 1, 28, 28)))
    assert view[0, 0, 14, 14] == 0.5 and view[0, 0, 0, 0] == 1.0
    assert op.m == 28 * 28 - 100


def test_noise_is_seeded_and_has_the_asked_sigma():
    y = torch.zeros(1, 100_000)
    a = add_noise(y, 0.1, torch.Generator().manual_seed(5))
    b = add_noise(y, 0.1, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    assert a.std().item() == pytest.approx(0.1, rel=0.02)


@pytest.mark.parametrize("name,params", [
    ("gaussian", {"m": 0}), ("gaussian", {"m": -3}), ("gaussian", {"m": 785}), ("gaussian", {}),
    ("inpaint", {"mask": "center", "mask_size": 0}), ("inpaint", {"mask": "center", "mask_size": 28}),
    ("inpaint", {"mask": "random", "keep": 0.0}), ("inpaint", {"mask": "random", "keep": 1.5}),
    ("inpaint", {"mask": "square"}), ("superres", {"factor": 3}), ("superres", {"factor": 1}),
    ("unknown", {}),
    ("fourier", {"accel": 0.5}), ("fourier", {"accel": 29}), ("fourier", {"accel": float("nan")}),
    ("fourier", {"accel": 8, "center": 0.5}), ("fourier", {"center": -0.1}), ("fourier", {"lines": "radial"}),
    ("blur", {"size": 29}), ("blur", {"size": 0}), ("blur", {"sigma": 0.0}), ("blur", {"kernel": "box"}),
    ("blur", {"kernel": "motion", "length": 0.5}), ("blur", {"kernel": "motion", "angle": float("inf")}),
])
def test_bad_parameters_raise_input_errors(name, params):
    with pytest.raises(InputError):
        build_operator(name, DOMAINS["mnist"], params, torch.Generator(), torch.device("cpu"))
