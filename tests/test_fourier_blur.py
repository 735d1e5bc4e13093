"""The MRI (subsampled Fourier) and blur operators against direct formulas: sampling pattern, norms, kernels."""
import json

import numpy as np
import pytest
import torch
from scipy import ndimage

from cs_core.domains import DOMAINS
from cs_core.operators import build_operator

FACES, MNIST = DOMAINS["faces"], DOMAINS["mnist"]
CPU = torch.device("cpu")


def fourier(domain, seed=0, **params):
    return build_operator("fourier", domain, params, torch.Generator().manual_seed(seed), CPU)


def signed(rows, height):
    return {r if r < height / 2 else r - height for r in rows.tolist()}


@pytest.mark.parametrize("domain", [FACES, MNIST], ids=lambda d: d.name)
@pytest.mark.parametrize("accel,center,lines", [(4, 0.08, "random"), (2.5, 0.2, "variable"), (8, 0.1, "variable"),
                                                (3, 0.0, "random")])
def test_fourier_keeps_exactly_the_asked_lines(domain, accel, center, lines):
    h = domain.size
    op = fourier(domain, accel=accel, center=center, lines=lines)
    assert len(op.rows) == round(h / accel) == len(set(op.rows.tolist()))
    n_center = max(1, round(center * h))
    lowest = sorted(range(-(h // 2), (h + 1) // 2), key=lambda k: (abs(k), k))[:n_center]
    assert set(lowest) <= signed(op.rows, h)
    assert op.m == 2 * domain.channels * len(op.rows) * h
    mask = torch.fft.ifftshift(op.pattern()[0, 0], dim=(-2, -1))  # back to FFT order
    assert set(mask.sum(1).unique().tolist()) <= {0.0, float(h)}  # whole rows only
    assert torch.equal(mask[:, 0].nonzero().flatten(), op.rows)


def test_fourier_measures_the_orthonormal_fft_as_real_pairs():
    op = fourier(FACES, accel=4)
    x = torch.rand(2, *FACES.shape)
    k = np.fft.fft2(x.double().numpy()) / 64  # orthonormal: 1/sqrt(64·64)
    kept = k[:, :, op.rows.numpy(), :]
    expected = np.stack([kept.real, kept.imag], 1).reshape(2, -1)
    np.testing.assert_allclose(op.A(x).numpy(), expected, atol=1e-5)


def test_fully_sampled_fourier_is_an_isometry_and_its_adjoint_inverts_it():
    op = fourier(MNIST, accel=1)
    x = torch.rand(3, *MNIST.shape)
    torch.testing.assert_close(op.A(x).norm(dim=1), x.flatten(1).norm(dim=1))
    torch.testing.assert_close(op.A_adjoint(op.A(x)), x, atol=1e-5, rtol=0)
    torch.testing.assert_close(op.view(op.A(x)), x, atol=1e-5, rtol=0)  # the zero-filled image is x itself


def test_fourier_norm_is_one_and_the_zero_filled_image_keeps_the_mean():
    op = fourier(FACES, accel=6)
    assert op.norm_squared() == pytest.approx(1.0, rel=1e-4)
    x = torch.rand(1, *FACES.shape)
    zero_filled = op.A_adjoint(op.A(x))
    torch.testing.assert_close(zero_filled.mean((-2, -1)), x.mean((-2, -1)))  # DC line always measured


def test_variable_density_favours_low_frequencies_and_seeds_reproduce():
    h = FACES.size
    low = lambda op: sum(abs(k) < h // 8 for k in signed(op.rows, h))  # noqa: E731
    counts = {lines: np.mean([low(fourier(FACES, s, accel=4, center=0.0, lines=lines)) for s in range(30)])
              for lines in ("random", "variable")}
    assert counts["variable"] > counts["random"] + 1
    assert torch.equal(fourier(FACES, 5, lines="variable").rows, fourier(FACES, 5, lines="variable").rows)
    assert not torch.equal(fourier(FACES, 5).rows, fourier(FACES, 6).rows)


def blur(domain, **params):
    return build_operator("blur", domain, params, torch.Generator(), CPU)


@pytest.mark.parametrize("params", [{"kernel": "gaussian", "sigma": 1.0, "size": 7},
                                    {"kernel": "motion", "length": 6, "angle": 60}])
def test_blur_is_circular_convolution_with_its_kernel(params):
    op = blur(MNIST, **params)
    x = torch.rand(2, *MNIST.shape)
    kernel = op.kernel.double().numpy()
    expected = np.stack([[ndimage.convolve(img, kernel, mode="wrap") for img in batch]
                         for batch in x.double().numpy()])
    np.testing.assert_allclose(op.A(x).reshape(x.shape).numpy(), expected, atol=1e-5)


def test_blur_kernels_sum_to_one_and_point_the_right_way():
    for params in ({"sigma": 2.0}, {"kernel": "motion", "length": 9, "angle": 90}):
        kernel = blur(FACES, **params).kernel
        assert kernel.sum().item() == pytest.approx(1.0) and kernel.min() >= 0
    horizontal = blur(FACES, kernel="motion", length=5, angle=0).kernel
    assert horizontal.shape == (5, 5) and (horizontal[2] > 0.1).all()  # one row, the whole width ...
    assert horizontal.sum().item() == pytest.approx(horizontal[2].sum().item())  # ... and nothing else
    torch.testing.assert_close(horizontal, horizontal.flip(-1))
    vertical = blur(FACES, kernel="motion", length=5, angle=90).kernel
    torch.testing.assert_close(vertical, horizontal.T)
    gaussian = blur(FACES, sigma=1.5).kernel
    assert gaussian.shape == (11, 11)  # default size 2⌈3σ⌉ + 1
    torch.testing.assert_close(gaussian, gaussian.T)


def test_blur_norm_is_the_largest_transfer_gain_and_the_view_is_the_blurred_image():
    op = blur(FACES, kernel="motion", length=9, angle=20)
    exact = op.transfer.abs().max().item() ** 2
    assert exact == pytest.approx(1.0, rel=1e-5)  # non-negative kernel summing to 1: the DC gain
    assert op.norm_squared(iterations=300) == pytest.approx(exact, rel=1e-3)
    x = torch.rand(1, *FACES.shape)
    torch.testing.assert_close(op.view(op.A(x)), op.A(x).reshape(x.shape).clamp(0, 1))
    assert op.pattern().shape == (1, 1, 9, 9) and op.pattern().max() == 1


def test_cli_flags_reach_the_operators_and_bad_ones_are_one_error_line(capsys):
    from cs_core.cli import main
    base = ["reconstruct", "--asset", "digit-test-0254", "--domain", "mnist", "--method", "tv", "--iters", "5",
            "--json", "--device", "cpu"]
    assert main([*base, "--operator", "fourier", "--accel", "4", "--lines", "variable"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["params"]["accel"] == 4 and report["params"]["lines"] == "variable"
    assert report["params"]["m_measurements"] == 2 * 7 * 28
    assert main([*base, "--operator", "blur", "--kernel", "motion", "--length", "5", "--angle", "45"]) == 0
    assert json.loads(capsys.readouterr().out)["params"]["m_measurements"] == 28 * 28
    for bad, words in ((["--operator", "fourier", "--accel", "0.5"], "acceleration R"),
                       (["--operator", "blur", "--size", "29"], "larger than the 28×28 image"),
                       (["--operator", "blur", "--kernel", "box"], "unknown blur kernel")):
        assert main([*base, *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err


def test_sweep_measures_fourier_and_blur_and_scores_the_sensor_view(tmp_path):
    from cs_core.cli import main
    from cs_core.experiments.table import read_rows
    out = tmp_path / "mri"
    args = ["sweep", "--domain", "mnist", "--methods", "sensor,tv", "--images", "2", "--device", "cpu", "--out", str(out)]
    assert main([*args, "--operator", "fourier", "--accel", "2"]) == 0
    rows = read_rows(out / "results.csv")
    assert {(r["method"], r["m"], r["operator"]) for r in rows} == {(m, "784", "fourier accel=2") for m in ("sensor", "tv")}
    assert all(r["lam_ratio"] for r in rows if r["method"] == "tv")  # chosen on validation digits
    tv_mse = [float(r["mse"]) for r in rows if r["method"] == "tv"]
    sensor_mse = [float(r["mse"]) for r in rows if r["method"] == "sensor"]
    assert sum(tv_mse) < sum(sensor_mse)  # TV improves on the zero-filled image
    assert main([*args, "--operator", "blur"]) == 2  # one operator per directory
    assert main([*args, "--operator", "gaussian", "--out", str(tmp_path / "g")]) == 2  # no sensor view to score
