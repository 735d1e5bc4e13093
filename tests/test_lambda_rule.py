"""Lasso's per-image λ rule: cross-validation for Gaussian measurements, the discrepancy principle otherwise."""
from dataclasses import replace

import numpy as np
import torch

from cs_core.assets import list_assets
from cs_core.bases import BASES
from cs_core.domains import DOMAINS
from cs_core.experiments.splits import validation_images
from cs_core.images import load_image
from cs_core.metrics import all_metrics
from cs_core.problem import make_problem
from cs_core.solvers import lasso
from cs_core.solvers.lasso import (DEFAULT_ITERATIONS, PATH_ITERATIONS, RATIO_PATH, RULE_ITERATIONS,
                                     LassoSettings, fista)
from helpers import last

CPU = torch.device("cpu")


def at_ratios(problem, basis, ratios, iterations=DEFAULT_ITERATIONS):
    """The final snapshot of fixed-ratio FISTA, every ratio × every image in one batch (ratio-major)."""
    many = replace(problem, y=problem.y.repeat(len(ratios), 1), truth=problem.truth.repeat(len(ratios), 1, 1, 1))
    per_image = torch.tensor(ratios).repeat_interleave(problem.batch)
    return last(fista(many, basis, LassoSettings(iterations, lam_ratio=per_image)))


def test_the_rule_streams_its_path_then_the_chosen_lambda_within_the_iteration_count(device):
    problem = make_problem(validation_images("mnist")[:2], DOMAINS["mnist"], "gaussian", {"m": 200}, 0.01, 0, device)
    snaps = list(fista(problem, BASES["dct"], LassoSettings(), every=60))
    ran = snaps[-1].extra["path_ratios"]
    end = RULE_ITERATIONS - PATH_ITERATIONS * (len(RATIO_PATH) - ran)  # the skipped ratios are not run
    assert lasso.PATH_PATIENCE < ran < len(RATIO_PATH)  # here every image's choice is settled before the path's end
    assert [s.iteration for s in snaps] == list(range(60, end, 60)) + [end]
    on_path = [s for s in snaps if s.iteration <= ran * PATH_ITERATIONS]
    assert on_path and all("cross-validation" in s.message for s in on_path)
    assert not any("cross-validation" in s.message for s in snaps if s.iteration > ran * PATH_ITERATIONS)
    assert all(min(abs(ratio - r) for r in RATIO_PATH) < 1e-6 for ratio in snaps[-1].extra["lam_ratio"])
    short = list(fista(problem, BASES["dct"], LassoSettings(iterations=30), every=5))
    assert short[-1].iteration == 30 and short[-1].final


def test_the_path_stops_only_once_every_choice_is_settled(monkeypatch):
    """Stopping the path early changes no choice: the discrepancy principle's is final at the first ratio that
    meets it, where the path stops; cross-validation's (here) at ``PATH_PATIENCE`` ratios past the lowest
    held-out error, against the whole path."""
    images = validation_images("mnist")
    noisy = make_problem(images, DOMAINS["mnist"], "inpaint", {"mask": "random", "keep": 0.5}, 0.05, 0, CPU)
    chosen = last(fista(noisy, BASES["dct"], LassoSettings())).extra
    stages = [int(np.argmin(np.abs(np.array(RATIO_PATH) - ratio))) for ratio in chosen["lam_ratio"]]
    assert chosen["path_ratios"] == max(stages) + 1 < len(RATIO_PATH)

    gaussian = make_problem(images[:2], DOMAINS["mnist"], "gaussian", {"m": 200}, 0.01, 0, CPU)
    early = last(fista(gaussian, BASES["dct"], LassoSettings()))
    monkeypatch.setattr(lasso.path, "PATH_PATIENCE", len(RATIO_PATH))
    whole = last(fista(gaussian, BASES["dct"], LassoSettings()))
    assert early.extra["path_ratios"] < whole.extra["path_ratios"] == len(RATIO_PATH)
    assert early.extra["lam_ratio"] == whole.extra["lam_ratio"]
    assert early.iteration == whole.iteration - PATH_ITERATIONS * (len(RATIO_PATH) - early.extra["path_ratios"])


def test_cross_validation_is_within_ten_percent_of_the_best_fixed_ratio_on_gaussian_measurements():
    """For Gaussian A the held-out error estimates the image error: the per-image choice must be about as good
    as the best single ratio chosen knowing the truth."""
    images = validation_images("mnist")
    problem = make_problem(images, DOMAINS["mnist"], "gaussian", {"m": 300}, 0.01, 0, CPU)
    ruled = np.mean(last(fista(problem, BASES["dct"], LassoSettings())).mse)
    fixed = np.array(at_ratios(problem, BASES["dct"], RATIO_PATH).mse).reshape(len(RATIO_PATH), -1).mean(1)
    assert ruled <= 1.1 * fixed.min(), (ruled, fixed)
    assert ruled < 0.5 * fixed.max()  # and the choice matters


def test_the_discrepancy_principle_picks_the_largest_ratio_whose_residual_is_at_the_noise_level(device):
    """Local measurements (inpainting) use ‖y − Ax̂‖ ≤ σ√m: the chosen ratio meets it, the next larger does not."""
    sigma = 0.05
    problem = make_problem(validation_images("mnist")[:4], DOMAINS["mnist"], "inpaint",
                           {"mask": "random", "keep": 0.5}, sigma, 0, device)
    bound = sigma * problem.operator.m ** 0.5
    final = last(fista(problem, BASES["dct"], LassoSettings()))
    assert "lam_ratio" in final.extra
    fixed = at_ratios(problem, BASES["dct"], RATIO_PATH, iterations=1000)
    residual = np.sqrt(np.array(fixed.measurement_loss)).reshape(len(RATIO_PATH), -1)
    for image, ratio in enumerate(final.extra["lam_ratio"]):
        stage = int(np.argmin(np.abs(np.array(RATIO_PATH) - ratio)))
        assert np.sqrt(final.measurement_loss[image]) <= 1.01 * bound
        assert residual[stage, image] <= 1.01 * bound
        assert stage == 0 or residual[stage - 1, image] > bound


def test_noiseless_super_resolution_of_a_photo_is_never_worse_than_block_average_upsampling():
    """With a fixed λ ratio Haar-Lasso would be worse than the low-resolution image itself; the per-image rule
    ties with it (Haar's λ → 0 limit is block-average upsampling; the path's smallest ratio, 10⁻⁴, costs < 0.2 %)."""
    photos = [a for a in list_assets("faces") if not a.in_range][:3]
    truth = torch.cat([load_image(a.path, DOMAINS["faces"]) for a in photos])
    problem = make_problem(truth, DOMAINS["faces"], "superres", {"factor": 2}, 0.0, 0, CPU)
    upsampled = np.array(all_metrics(problem.view(), truth)["mse"])
    for basis in ("wavelet", "dct"):
        mse = np.array(last(fista(problem, BASES[basis], LassoSettings())).mse)
        assert (mse <= upsampled * 1.002).all(), (basis, mse, upsampled)


def test_the_trivial_estimates_are_least_norm_and_zero_filled():
    images = validation_images("mnist")[:2]
    gaussian = make_problem(images, DOMAINS["mnist"], "gaussian", {"m": 100}, 0.0, 0, CPU)
    least_norm = (torch.linalg.pinv(gaussian.operator.matrix) @ gaussian.y.T).T.reshape(images.shape).clamp(0, 1)
    assert torch.allclose(gaussian.operator.trivial(gaussian.y), least_norm, atol=1e-5)
    inpaint = make_problem(images, DOMAINS["mnist"], "inpaint", {"mask": "center"}, 0.0, 0, CPU)
    filled = inpaint.operator.trivial(inpaint.y)
    hidden = ~inpaint.operator.keep_mask
    assert (filled[:, :, hidden] == 0).all() and torch.equal(filled[:, :, ~hidden], images[:, :, ~hidden])


def test_sweep_with_the_per_image_rule_and_lambda_check_from_the_command_line(tmp_path):
    import csv
    import subprocess
    import sys
    run = lambda *args: subprocess.run([sys.executable, "-m", "cs_core", *map(str, args)],  # noqa: E731
                                       capture_output=True, text=True)
    swept = run("sweep", "--domain", "mnist", "--methods", "lasso-dct", "--m", 60, "--images", 3,
                "--lam-rule", "per-image", "--out", tmp_path / "sweep")
    assert swept.returncode == 0, swept.stderr
    rows = list(csv.DictReader((tmp_path / "sweep" / "results.csv").open()))
    assert len(rows) == 3 and all(r["lam_ratio"] == "" for r in rows)
    assert all(DEFAULT_ITERATIONS + PATH_ITERATIONS <= int(r["iterations"]) <= RULE_ITERATIONS for r in rows)
    bad = run("lambda-check", "--domain", "mnist", "--noise", "-1", "--out", tmp_path / "check.csv")
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and len(bad.stderr.strip().splitlines()) == 1
