"""DIP's step count in the sweeps: chosen per sweep point on the validation images (one run per image, its MSE
read at every count of the grid), recorded per image and count in ``validation.csv``, used by the test cells and
read back by a resumed sweep. A tiny grid (2, 4, 6 steps) on two MNIST validation digits keeps it fast."""
import pandas as pd
import pytest
import torch

from cs_core.domains import get_domain
from cs_core.experiments import paper, validation
from cs_core.experiments.splits import image_seed, load_images
from cs_core.experiments.table import VALIDATION_FIELDS, append_rows, read_rows
from cs_core.problem import make_problem
from cs_core.solvers.dip import DIPSettings, dip

CPU = torch.device("cpu")
GRID, EVERY, VALIDATION = (2, 4, 6), 2, 2
NOISE = 0.01


@pytest.fixture
def tiny(monkeypatch):
    images = validation.validation_images("mnist")[:VALIDATION]
    monkeypatch.setattr(validation, "DIP_STEP_GRID", GRID)
    monkeypatch.setattr(validation, "DIP_EVERY", EVERY)
    monkeypatch.setattr(validation, "validation_images", lambda domain: images)
    return images


def dip_alone(image, m: int, seed: int, steps: int) -> float:
    """DIP's final MSE run by itself for ``steps`` steps on ``image`` measured from ``seed``."""
    problem = make_problem(image, get_domain("mnist"), "gaussian", {"m": m}, NOISE, seed, CPU)
    *_, final = dip(problem, DIPSettings(iterations=steps))
    return final.mse[0]


def test_the_sweep_runs_dip_for_the_count_validation_chose_and_records_validation(tmp_path, tiny):
    rows = paper.run_sweep("mnist", ["dip"], [30, 60], "heldout", 2, NOISE, 0, CPU, tmp_path, progress=False)
    recorded = pd.read_csv(tmp_path / "validation.csv")
    assert tuple(recorded.columns) == VALIDATION_FIELDS and len(recorded) == 2 * VALIDATION * len(GRID)
    assert set(recorded.method) == {"dip"} and set(recorded.source) == {"validation"}
    assert recorded.value.isna().all()
    tests = load_images("mnist", "heldout", 2).images
    for m in (30, 60):
        at_m = recorded[recorded.m == m]
        for i in range(VALIDATION):  # each validation image's own draw, each count a run of its own
            seed = image_seed(0, "validation", i)
            for steps in GRID:
                (mse,) = at_m[(at_m.seed == seed) & (at_m.steps == steps)].mse
                assert mse == pytest.approx(dip_alone(tiny[i:i + 1], m, seed, steps), rel=1e-6), (m, i, steps)
        chosen = at_m.groupby("steps").mse.mean().idxmin()
        cells = [r for r in rows if int(r["m"]) == m]
        assert len(cells) == 2 and {int(r["iterations"]) for r in cells} == {chosen}
        for i, row in enumerate(cells):
            assert float(row["mse"]) == pytest.approx(dip_alone(tests[i:i + 1], m, int(row["seed"]), chosen),
                                                      rel=1e-6)


def test_the_choice_is_the_lowest_mean_over_the_images():
    def row(seed, steps, mse):
        return {"seed": str(seed), "steps": str(steps), "mse": str(mse)}
    first = [row(10, s, e) for s, e in zip(validation.DIP_STEP_GRID, [0.5] * 12)]
    first[3] = row(10, validation.DIP_STEP_GRID[3], 0.1)   # image 10 is best at the 4th count ...
    second = [row(11, s, 0.5) for s in validation.DIP_STEP_GRID]
    second[5] = row(11, validation.DIP_STEP_GRID[5], 0.2)  # ... image 11 at the 6th, by less
    assert validation.dip_choice(first, second) == validation.DIP_STEP_GRID[3]
    assert validation.dip_choice(first, second, [row(11, validation.DIP_STEP_GRID[5], 0.2)]) == \
        validation.DIP_STEP_GRID[3]  # a row read twice counts once


def test_a_resumed_sweep_reads_the_choice_from_validation_csv(tmp_path, tiny, monkeypatch):
    paper.run_sweep("mnist", ["dip"], [30], "heldout", 1, NOISE, 0, CPU, tmp_path, progress=False)
    before = (tmp_path / "validation.csv").read_text()

    def refuse(*args):
        raise AssertionError("validation ran again")
    monkeypatch.setattr(paper, "dip_validation_image", refuse)
    monkeypatch.setattr(validation, "dip_validation_image", refuse)
    rows = paper.run_sweep("mnist", ["dip"], [30], "heldout", 2, NOISE, 0, CPU, tmp_path, progress=False)
    assert (tmp_path / "validation.csv").read_text() == before
    chosen = pd.read_csv(tmp_path / "validation.csv").groupby("steps").mse.mean().idxmin()
    assert len(rows) == 2 and {int(r["iterations"]) for r in rows} == {chosen}


def test_only_the_validation_images_missing_from_the_file_run(tmp_path, tiny, monkeypatch):
    key = ("mnist", 30, NOISE, 0, CPU, "gaussian", (("m", 30),))
    complete = validation.dip_validation_image(*key, 0) + validation.dip_validation_image(*key, 1)
    append_rows(tmp_path / "validation.csv", VALIDATION_FIELDS, complete[:len(GRID) + 1])  # image 1 partly
    ran = []
    real = validation.dip_validation_image
    monkeypatch.setattr(validation, "dip_validation_image", lambda *args: ran.append(args[-1]) or real(*args))
    assert validation.dip_steps(key, tmp_path) == validation.dip_choice(complete)
    assert ran == [1]


def test_a_sweep_without_dip_runs_no_dip_validation(tmp_path, monkeypatch):
    def refuse(*args):
        raise AssertionError("DIP validation ran")
    monkeypatch.setattr(paper, "dip_steps", refuse)
    monkeypatch.setattr(paper, "dip_validation_image", refuse)
    paper.run_sweep("mnist", ["lasso-dct"], [50], "heldout", 1, NOISE, 0, CPU, tmp_path, progress=False)
    assert not (tmp_path / "validation.csv").exists() and read_rows(tmp_path / "results.csv")


@pytest.mark.parametrize("directory", ["faces-mri-inrange", "faces-mri-real", "faces-blur-inrange", "faces-blur-real"])
def test_the_published_dip_rows_ran_the_count_their_validation_csv_chooses(directory):
    published = validation.RESULTS_DIR / directory
    recorded = pd.read_csv(published / "validation.csv")
    assert set(recorded.steps) == set(validation.DIP_STEP_GRID) and recorded.seed.nunique() == 8
    assert recorded.groupby("steps").size().eq(8).all()  # every validation face at every count
    chosen = recorded.groupby("steps").mse.mean().idxmin()
    dip_rows = pd.read_csv(published / "results.csv").query("method == 'dip'")
    assert len(dip_rows) > 0 and set(dip_rows.iterations) == {chosen}
