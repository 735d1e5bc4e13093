"""Sketches (formula, chunking, shards, Dask), frequency laws, sketch-matching training, and the ``sketch`` CLI."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cs_core.cli import main
from cs_core.errors import InputError
from cs_core.sketching.dask_sketch import sketch_dask
from cs_core.sketching.distance import energy_distance, gaussian_samples
from cs_core.sketching.fit import FitSettings, fit_sketch, mlp_generator
from cs_core.sketching.frequencies import draw_frequencies, estimate_sigma
from cs_core.sketching.sketch import features, iter_chunks, merge, sketch_stream
from cs_core.sketching.figures import learn_toy
from cs_core.sketching.learn import DEFAULT
from cs_core.sketching.points import MIN_POINTS, RADIUS, load_points, stroke_points
from cs_core.sketching.toys import toy_split

ROOT = Path(__file__).resolve().parents[1]


def omega_for(d=3, m=64, sigma=0.5, law="gaussian", seed=0):
    return draw_frequencies(law, m, d, sigma, torch.Generator().manual_seed(seed))


def test_sketch_equals_direct_formula():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(257, 3))
    omega = omega_for()
    direct = np.exp(1j * x @ omega.numpy()).mean(0) / math.sqrt(omega.shape[1])  # (1/N) Σ e^{iΩᵀx} / √m
    sketch = sketch_stream([x], omega)
    assert sketch.count == 257
    np.testing.assert_allclose(sketch.values.numpy(), np.concatenate([direct.real, direct.imag]), atol=1e-13)


def test_chunking_invariance_arrays_and_tensors():
    x = torch.randn(1001, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    omega = omega_for()
    reference = sketch_stream([x], omega).values
    for size in (1, 7, 100, 5000):
        for source in (x, x.numpy()):
            np.testing.assert_allclose(sketch_stream(iter_chunks(source, size), omega).values, reference, atol=1e-14)


def test_shards_merge_as_count_weighted_mean():
    x = torch.randn(900, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    omega = omega_for()
    shards = [sketch_stream([x[a:b]], omega) for a, b in ((0, 100), (100, 650), (650, 900))]
    merged = merge(shards)
    assert merged.count == 900
    np.testing.assert_allclose(merged.values, sketch_stream([x], omega).values, atol=1e-14)
    unweighted = sum(s.values for s in shards) / 3  # the plain mean of unequal shards is wrong
    assert (unweighted - merged.values).abs().max() > 1e-3


@pytest.mark.parametrize("law, mean_radius", [
    ("gaussian", math.sqrt(2) * math.gamma(1.5) / math.gamma(1.0)),  # E‖N(0, I_2)‖ = √2 Γ(3/2)/Γ(1)
    ("folded", math.sqrt(2 / math.pi)),                               # E|N(0, 1)|
    ("adapted", None),
])
def test_frequency_laws_radius_and_seed(law, mean_radius):
    sigma = 0.25
    omega = omega_for(d=2, m=40_000, sigma=sigma, law=law, seed=3)
    assert torch.equal(omega, omega_for(d=2, m=40_000, sigma=sigma, law=law, seed=3))
    radius = omega.norm(dim=0) * sigma
    if mean_radius is None:  # p(R) ∝ √(R² + R⁴/4) e^{−R²/2}: its mean by quadrature
        r = np.linspace(0, 12, 200_001)
        p = np.sqrt(r**2 + r**4 / 4) * np.exp(-r**2 / 2)
        mean_radius = float((r * p).sum() / p.sum())
    assert float(radius.mean()) == pytest.approx(mean_radius, rel=0.02)
    angles = torch.atan2(omega[1], omega[0])  # directions uniform on the circle
    assert float(torch.cos(angles).mean()) == pytest.approx(0, abs=0.02)


def test_gaussian_frequencies_give_the_gaussian_kernel():
    sigma = 0.7
    omega = omega_for(d=4, m=100_000, sigma=sigma, seed=4)
    x, y = torch.randn(2, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 0.5
    kernel = float(features(x[None], omega) @ features(y[None], omega).T)  # ⟨Φ(x), Φ(y)⟩ = mean_j cos(ω_jᵀ(x − y))
    assert kernel == pytest.approx(math.exp(-float((x - y).pow(2).sum()) / (2 * sigma**2)), abs=0.01)


def test_estimated_sigma_scales_with_the_data():
    x = torch.randn(1000, 5, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    assert estimate_sigma(3 * x) == pytest.approx(3 * estimate_sigma(x))


def test_dask_path_equals_local_path_on_a_local_cluster(tmp_path):
    da = pytest.importorskip("dask.array")
    from distributed import LocalCluster
    x = np.random.default_rng(7).normal(size=(5003, 3))
    np.save(tmp_path / "x.npy", x)
    omega = omega_for()
    local = sketch_stream(iter_chunks(x, 1000), omega)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        remote = sketch_dask(da.from_array(x, chunks=(700, 3)), omega, cluster.scheduler_address)
        args = ["sketch", "compute", "--data", str(tmp_path / "x.npy"), "--m", "16", "--seed", "2", "--chunk", "900"]
        assert main([*args, "--dask", cluster.scheduler_address, "--out", str(tmp_path / "dask.npz")]) == 0
    assert main([*args, "--out", str(tmp_path / "local.npz")]) == 0
    assert remote.count == local.count == 5003
    np.testing.assert_allclose(remote.values, local.values, atol=1e-13)
    by_dask, by_stream = np.load(tmp_path / "dask.npz"), np.load(tmp_path / "local.npz")
    assert int(by_dask["count"]) == 5003 and np.array_equal(by_dask["omega"], by_stream["omega"])
    np.testing.assert_allclose(by_dask["sketch"], by_stream["sketch"], atol=1e-13)


@pytest.mark.parametrize("name", ["gmm", "circles", "spiral"])
def test_the_default_recipe_learns_each_toy_set_far_better_than_a_single_gaussian(name):
    """``sketch fit --dataset name`` (the tab's default) at seed 0: at most half the Gaussian's held-out distance."""
    result = learn_toy(name)
    final, untrained, gaussian = result["final"], result["first"].distance, result["gaussian"]
    assert final.step == DEFAULT.steps and final.final and len(final.losses) == DEFAULT.steps
    print(f"{name}: held-out energy distance trained {final.distance:.5f}, untrained {untrained:.5f}, "
          f"gaussian {gaussian:.5f}")
    assert final.distance <= untrained / 3 and final.distance <= 0.5 * gaussian


def test_fit_snapshots_protocol(device):
    train, heldout = toy_split("circles", 3000, 500, seed=0)
    g = torch.Generator().manual_seed(0)
    omega = draw_frequencies("gaussian", 100, 2, estimate_sigma(train[:1000]), g)
    sketch = sketch_stream(iter_chunks(train, 1024), omega)
    model = mlp_generator(10, 2, 16, 2, g).to(device)
    snaps = list(fit_sketch(sketch, omega.to(device), model, 10, FitSettings(60, 100, 3e-3, 500), heldout, g,
                            every=30))
    assert [s.step for s in snaps] == [0, 30, 60] and snaps[-1].final and len(snaps[-1].losses) == 60
    assert snaps[-1].samples.shape == (500, 2)


def test_cli_fit_defaults_are_the_recipe():
    """One source of defaults: the flags of ``sketch fit`` default to :data:`learn.DEFAULT` (the tab's too)."""
    import argparse
    from cs_core.sketching import cli as sketch_cli
    parser = argparse.ArgumentParser()
    sketch_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sketch", "fit", "--dataset", "gmm"])
    assert {k: getattr(args, k) for k in ("n", "m", "steps", "batch", "lr")} == \
        {k: getattr(DEFAULT, k) for k in ("n", "m", "steps", "batch", "lr")}
    assert args.freq == DEFAULT.freq


def test_the_gaussian_baseline_has_the_data_mean_and_covariance():
    data = torch.from_numpy(np.random.default_rng(5).normal(size=(4000, 2)) @ np.array([[2.0, 0.0], [1.5, 0.5]]) + 3)
    draws = gaussian_samples(data, 200_000, torch.Generator().manual_seed(0)).numpy()
    np.testing.assert_allclose(draws.mean(0), data.numpy().mean(0), atol=0.02)
    np.testing.assert_allclose(np.cov(draws.T), np.cov(data.numpy().T), rtol=0.03, atol=0.02)


def test_energy_distance_is_zero_for_equal_samples_and_positive_otherwise():
    x = torch.randn(300, 2, generator=torch.Generator().manual_seed(8))
    assert energy_distance(x, x) == pytest.approx(0, abs=1e-12)
    assert energy_distance(x, x + 0.5) > 0.1


def cli(*args):
    return subprocess.run([sys.executable, "-m", "cs_core", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_cli_fit_json_reports_sizes_loss_and_distances():
    run = cli("sketch", "fit", "--dataset", "circles", "--n", 3000, "--m", 50, "--freq", "folded", "--steps", 20,
              "--batch", 200, "--seed", 1, "--device", "cpu", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["sketch"] == {"floats": 100, "bytes": 800} and report["data_bytes"] == 3000 * 2 * 8
    assert report["steps"] == 20 and report["final_loss"] >= 0
    assert report["distance"]["metric"] == "energy distance"
    assert all(report["distance"][k] > 0 for k in ("trained", "untrained", "gaussian"))


def test_cli_compute_writes_the_sketch(tmp_path):
    x = np.random.default_rng(9).normal(size=(2500, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["sketch", "compute", "--data", str(tmp_path / "x.npy"), "--m", "32", "--seed", "5", "--chunk", "300",
                 "--out", str(tmp_path / "s.npz")]) == 0
    saved = np.load(tmp_path / "s.npz")
    assert saved["sketch"].shape == (64,) and saved["omega"].shape == (4, 32) and int(saved["count"]) == 2500
    expected = sketch_stream([x], torch.from_numpy(saved["omega"]))
    np.testing.assert_allclose(saved["sketch"], expected.values, atol=1e-13)


@pytest.mark.parametrize("data, m, message", [
    (np.ones((10, 2)), 0, "from 1 to"),
    (np.ones((10, 2)), -3, "from 1 to"),
    (np.ones((10, 2)), 10**9, "from 1 to"),
    (np.ones((10, 784)), 100_000, "too large"),
    (np.ones((0, 2)), 10, "empty"),
    (np.array([[0.0, 1.0], [np.nan, 2.0]] * 20), 10, "NaN"),
    (np.ones(10), 10, "2-D"),
    (np.ones((4, 3, 2)), 10, "2-D"),
])
def test_cli_compute_bad_input_is_one_error_line(tmp_path, capsys, data, m, message):
    np.save(tmp_path / "x.npy", data)
    code = main(["sketch", "compute", "--data", str(tmp_path / "x.npy"), "--m", str(m), "--sigma", "1",
                 "--out", str(tmp_path / "s.npz")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "s.npz").exists()


def test_cli_fit_bad_input(capsys):
    for argv, message in ((["--m", "0"], "from 1 to"), (["--n", "0"], "number of points"), (["--steps", "0"], "steps")):
        code = main(["sketch", "fit", "--dataset", "gmm", *argv])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err


# A visitor's own data: drawn strokes and files ---------------------------------------------------

def test_strokes_become_points_along_them_scaled_like_the_toys():
    """A drawn ring of radius 100 px (y down on the canvas) gives points on a ring of radius RADIUS, centred."""
    yy, xx = np.mgrid[:320, :320]
    ring = np.abs(np.hypot(xx - 150.5, yy - 170.5) - 100) < 2.5
    points = stroke_points(ring, 5000, seed=3)
    r = points.norm(dim=1)
    assert points.shape == (5000, 2) and points.dtype == torch.float64
    assert abs(float(r.median()) - RADIUS * 100 / 102.5) < 0.02 and float(r.max()) <= RADIUS + 1e-9
    assert float(points.mean(0).norm()) < 0.03
    ell = np.zeros((320, 320), bool)                                  # an "L": on the canvas rows grow downwards
    ell[10:200, 10:16] = ell[194:200, 10:200] = True
    foot = stroke_points(ell, 2000, 1)
    assert (foot[foot[:, 0] > 0, 1] < 0).all()                        # its foot's right end is at the bottom
    assert torch.equal(stroke_points(ell, 10, 1), stroke_points(ell, 10, 1))
    with pytest.raises(InputError, match="empty"):
        stroke_points(np.zeros((50, 50), bool), 10, 0)
    with pytest.raises(InputError, match=f"at least {MIN_POINTS}"):
        stroke_points(np.eye(50, dtype=bool), 10, 0)


def test_files_of_points_load_from_npy_and_csv(tmp_path):
    x = np.random.default_rng(2).normal(size=(300, 2))
    np.save(tmp_path / "p.npy", x)
    (tmp_path / "p.csv").write_text("x,y\n" + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in x) + "\n")
    assert np.array_equal(load_points(tmp_path / "p.npy"), x) and np.array_equal(load_points(tmp_path / "p.csv"), x)


@pytest.mark.parametrize("name, content, message", [
    ("few.npy", np.ones((99, 2)), "at least 100"),
    ("many.npy", np.zeros((1_000_001, 2), np.float32), "at most 1,000,000"),
    ("three.npy", np.ones((200, 3)), "2 columns"),
    ("flat.npy", np.ones(400), "2 columns"),
    ("nan.npy", np.array([[0.0, 1.0], [np.inf, 2.0]] * 100), "NaN or infinite"),
    ("text.csv", "a,b\n1,x\n", "numbers separated by commas"),
    ("ragged.csv", "1,2\n" * 150 + "1,2,3\n", "different numbers of columns"),
    ("points.txt", "1,2\n", ".npy or .csv"),
    ("missing.npy", None, "no such file"),
])
def test_cli_fit_data_bad_input_is_one_error_line_exit_2(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(path, content)
    elif content is not None:
        path.write_text(content)
    code = main(["sketch", "fit", "--data", str(path), "--steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_files_over_the_upload_cap_are_refused(tmp_path, monkeypatch, capsys):
    from cs_core.sketching import points
    np.save(tmp_path / "p.npy", np.ones((300, 2)))
    monkeypatch.setattr(points, "MAX_FILE_BYTES", 1000)
    assert main(["sketch", "fit", "--data", str(tmp_path / "p.npy"), "--steps", "1"]) == 2
    assert "files of at most" in capsys.readouterr().err


def test_cli_fit_on_a_file_holds_out_a_fifth(tmp_path):
    x = np.random.default_rng(4).normal(size=(500, 2)) * 7 + 3
    np.save(tmp_path / "p.npy", x)
    run = cli("sketch", "fit", "--data", tmp_path / "p.npy", "--m", 40, "--steps", 5, "--device", "cpu", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["n"] == 400 and report["heldout"] == 100 and report["data"].endswith("p.npy")


def test_the_tab_runs_exactly_what_sketch_fit_runs(capsys):
    """A visitor's Train in the tab is reproducible from the CLI: same held-out distances, same Gaussian baseline."""
    from ui import sketch as tab
    assert main(["sketch", "fit", "--dataset", "circles", "--seed", "3", "--steps", "100", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    *_, (state, _, curve, status) = tab.train("circles", DEFAULT.m, DEFAULT.freq, 100, 3, None)
    distance = curve[curve[tab.CURVE_COLOR].str.startswith("held-out")][tab.CURVE_Y]
    assert 10 ** distance.iloc[-1] == pytest.approx(report["distance"]["trained"], rel=1e-9)
    assert 10 ** distance.iloc[0] == pytest.approx(report["distance"]["untrained"], rel=1e-9)
    assert state["gaussian"] == pytest.approx(report["distance"]["gaussian"], rel=1e-12)
    assert status.startswith("step 100/100") and status.endswith("done")


def test_sketch_fit_with_no_other_flag_hands_training_what_the_tabs_defaults_do(monkeypatch, capsys):
    """``sketch fit --dataset D --seed S --json`` and the tab's Train at its controls' defaults (the rows of
    ``cs_core.tab_settings.SKETCH``) reach training with the same recipe, seed, device, data split and sketch."""
    from cs_core.sketching import cli as sketch_cli
    from cs_core.tab_settings import SKETCH
    from ui import sketch as tab

    class Reached(Exception):
        pass

    seen = {}

    def at_training(where):
        def learn(prepared, recipe, seed, device, **_):
            seen[where] = (prepared, recipe, seed, device)
            raise Reached
        return learn

    monkeypatch.setattr(sketch_cli, "learn", at_training("cli"))
    monkeypatch.setattr(tab, "learn", at_training("tab"))
    with pytest.raises(Reached):
        main(["sketch", "fit", "--dataset", "gmm", "--seed", "4", "--json"])
    shown = {r.name: r.default for r in SKETCH}
    training = tab._training(None, tab._settings("gmm", shown["m"], shown["law"], shown["steps"], 4), None, None,
                             lambda: False)
    next(training)  # the sketch
    with pytest.raises(Reached):
        next(training)
    (cli_data, cli_recipe, *cli_rest), (tab_data, tab_recipe, *tab_rest) = seen["cli"], seen["tab"]
    assert cli_recipe == tab_recipe == DEFAULT and cli_rest == tab_rest == [4, cli_rest[1]]
    for name in ("train", "heldout", "omega"):
        assert torch.equal(getattr(cli_data, name), getattr(tab_data, name)), name
    assert torch.equal(cli_data.sketch.values, tab_data.sketch.values) and cli_data.sigma == tab_data.sigma
