"""Per-image randomness in the sweeps: each image's A, mask, noise and solver starts come from its own image seed
(the sweep's seed, the split, the image's index), recorded in the row; validation seeds are not test seeds."""
from dataclasses import replace

import pandas as pd
import pytest
import torch

from cs_core.domains import get_domain
from cs_core.errors import InputError
from cs_core.experiments import beyond, paper, validation
from cs_core.experiments.splits import (SPLIT_CODES, image_seed, image_seeds, load_images, seed_parts,
                                        validation_images)
from cs_core.experiments.table import RESULT_FIELDS, RESULTS_DIR, append_rows
from cs_core.problem import make_problem
from cs_core.solvers import Options

CPU = torch.device("cpu")
TEST_SPLITS = ("heldout", "inrange", "real")
VALIDATION_SPLITS = ("validation", "val-inrange", "val-real")


def test_image_seeds_are_distinct_and_validation_never_draws_a_test_seed():
    test = {image_seed(seed, split, i) for seed in range(3) for split in TEST_SPLITS for i in range(500)}
    validation = {image_seed(seed, split, i) for seed in range(3) for split in VALIDATION_SPLITS for i in range(500)}
    assert len(test) == 3 * 3 * 500 and not test & validation
    assert len(validation) == 3 * 2 * 500  # val-inrange is the faces validation set
    assert seed_parts(image_seed(7, "real", 41)) == (7, SPLIT_CODES["real"], 41)
    assert seed_parts(0)[1] == 0 and min(test | validation) >= 2 ** 20  # never a plain small seed
    with pytest.raises(InputError):
        image_seed(0, "train", 0)
    with pytest.raises(InputError):
        image_seed(0, "real", 2 ** 20)


def test_two_images_get_different_matrices_masks_and_noise():
    images = load_images("mnist", "heldout", 2).images
    dom = get_domain("mnist")
    seeds = image_seeds(0, "heldout", 2)
    a, b = (make_problem(images[i:i + 1], dom, "gaussian", {"m": 30}, 0.1, seeds[i], CPU) for i in range(2))
    assert not torch.equal(a.operator.matrix, b.operator.matrix)
    same_image = make_problem(images[:1], dom, "gaussian", {"m": 30}, 0.1, seeds[1], CPU)
    assert torch.equal(same_image.operator.matrix, b.operator.matrix)
    assert not torch.allclose(same_image.y - same_image.operator.A(same_image.truth), a.y - a.operator.A(a.truth))
    masks = {tuple(make_problem(images[:1], dom, "fourier", {"accel": 4, "center": 0.04}, 0.0, s, CPU)
                   .operator.rows.tolist()) for s in image_seeds(0, "heldout", 4)}
    assert len(masks) > 1  # the random lines differ between images


@pytest.mark.parametrize("method", ["lasso-dct", "csgm-vae"])
def test_each_row_is_its_image_solved_alone_with_the_seed_it_records(tmp_path, method):
    rows = paper.run_sweep("mnist", [method], [40], "heldout", 2, 0.01, 3, CPU, tmp_path, progress=False)
    data = load_images("mnist", "heldout", 2)
    assert [int(r["seed"]) for r in rows] == image_seeds(3, "heldout", 2)
    assert len({r["seed"] for r in rows}) == 2
    for i, row in enumerate(rows):
        problem = make_problem(data.images[i:i + 1], get_domain("mnist"), "gaussian", {"m": 40}, 0.01,
                               int(row["seed"]), CPU)
        ratio = float(row["lam_ratio"]) if row["lam_ratio"] else None
        final = paper.solve(problem, method, Options(lam_ratio=ratio, lasso_step=validation.PUBLISHED_LASSO_STEP
                                                     if ratio else None))
        assert final.mse[0] == pytest.approx(float(row["mse"]), rel=1e-6), (method, i)


def test_validation_draws_its_lambda_from_validation_seeds_only(monkeypatch):
    drawn = []
    real = validation.make_problem

    def recording(truth, domain, operator, params, noise, seed, device):
        drawn.append(seed)
        return real(truth, domain, operator, params, noise, seed, device)
    monkeypatch.setattr(validation, "make_problem", recording)
    validation.choose_lambda_ratio("mnist", "lasso-dct", 40, 0.0, 0, CPU)
    assert drawn == image_seeds(0, "validation", len(validation_images("mnist")))
    assert not set(drawn) & {image_seed(0, split, i) for split in TEST_SPLITS for i in range(len(drawn))}


def test_a_sweep_refuses_to_add_to_rows_measured_with_a_shared_matrix(tmp_path):
    row = dict.fromkeys(RESULT_FIELDS, "")
    append_rows(tmp_path / "results.csv", RESULT_FIELDS, [{**row, "domain": "mnist", "source": "heldout",
                                                          "method": "lasso-dct", "m": "40", "image": "test-row-0",
                                                          "noise": "0.0", "seed": "0", "operator": "gaussian"}])
    with pytest.raises(InputError, match="not an image seed"):
        paper.run_sweep("mnist", ["lasso-dct"], [40], "heldout", 1, 0.0, 0, CPU, tmp_path, progress=False)


def test_published_lambda_ratios_come_only_from_rows_with_image_seeds(tmp_path, monkeypatch):
    row = {**dict.fromkeys(RESULT_FIELDS, ""), "domain": "mnist", "source": "heldout", "method": "lasso-dct",
           "m": "40", "noise": "0.0", "operator": "gaussian", "mse": "0.1"}
    append_rows(tmp_path / "a" / "results.csv", RESULT_FIELDS, [
        {**row, "image": "test-row-0", "seed": "0", "lam_ratio": "0.3"},
        {**row, "image": "test-row-0", "seed": str(image_seed(2, "heldout", 0)), "lam_ratio": "0.01"}])
    monkeypatch.setattr(validation, "RESULTS_DIR", tmp_path)
    validation.published_lambda_ratios.cache_clear()
    try:
        assert validation.published_lambda_ratios() == {("mnist", "", "lasso-dct", 40, "", 0.0, 2, "gaussian"): 0.01}
    finally:
        validation.published_lambda_ratios.cache_clear()


def test_beyond_rows_record_image_seeds_and_ignore_a_phase_one_cache_without_them(tmp_path, monkeypatch):
    monkeypatch.setattr(beyond, "PHASE_ONE", replace(beyond.PHASE_ONE, steps=3, restarts=1))
    first = beyond.phase_one("real", 50, 0.01, 0, CPU, tmp_path, 2)
    assert first["seeds"] == image_seeds(0, "real", 2)
    rows = beyond.method_rows("csgm-dcgan", "real", 50, 0.01, 0, CPU, tmp_path, 2, None)
    assert [int(r["seed"]) for r in rows] == image_seeds(0, "real", 2)
    path = beyond.phase_one_path("real", 50, 0.01, 0, tmp_path)
    torch.save({k: v for k, v in first.items() if k != "seeds"}, path)  # as cached with a shared matrix
    assert beyond.cached_phase_one("real", 50, 0.01, 0, tmp_path, 2) is None
    alone = make_problem(beyond.image_set("real", 2).images[1:2], get_domain("faces"), "gaussian", {"m": 50}, 0.01,
                         image_seeds(0, "real", 2)[1], CPU)
    run = beyond.csgm_phase(alone, beyond.PRIOR, beyond.PHASE_ONE, None, beyond.CSGM)
    try:
        while True:
            next(run)
    except StopIteration as done:
        assert done.value.final.mse[0] == pytest.approx(first["mse"][1], rel=1e-5)


def test_the_lambda_check_measures_each_image_from_its_own_seed(monkeypatch):
    from cs_core.experiments import lambda_check
    from cs_core.metrics import all_metrics
    monkeypatch.setattr(lambda_check, "TRIVIAL_PRESETS", (("inpaint", {"mask": "random", "keep": 0.3}),))
    monkeypatch.setitem(lambda_check.TRIVIAL_BASES, "mnist", ("dct",))
    rows = [r for r in lambda_check.against_trivial("mnist", 0.01, 1, CPU) if r["set"] == "validation"][:2]
    for i, row in enumerate(rows):
        alone = make_problem(validation_images("mnist")[i:i + 1], get_domain("mnist"), "inpaint",
                             {"mask": "random", "keep": 0.3}, 0.01, image_seed(1, "validation", i), CPU)
        trivial = all_metrics(alone.operator.trivial(alone.y), alone.truth)["mse"][0]
        assert row["trivial_mse"] == pytest.approx(trivial, rel=1e-6)
        assert row["seed"] == image_seed(1, "validation", i)
    assert rows[0]["trivial_mse"] != rows[1]["trivial_mse"]


@pytest.mark.parametrize("path", sorted(p for p in RESULTS_DIR.rglob("*.csv")
                                        if {"image", "seed"} <= set(pd.read_csv(p, nrows=0).columns)),
                         ids=lambda p: str(p.relative_to(RESULTS_DIR)))
def test_every_published_image_was_measured_with_its_own_draw(path):
    """In every published table with an image column, the images of one cell (everything but the image, its seed
    and what was measured) have distinct seeds: no A, mask or noise is shared between two images."""
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    cell = [c for c in ("domain", "source", "method", "m", "noise", "operator") if c in rows]
    groups = rows.groupby(cell) if cell else [((), rows)]
    repeated = [(key, group[["image", "seed"]].values.tolist()[:4]) for key, group in groups
                if group.seed.nunique() < group.image.nunique()]
    assert repeated == []
