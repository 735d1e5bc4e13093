"""Sweeps: CSV rows, resumption, λ chosen on validation images, the figure."""
import csv

import pytest
import torch

from cs_core.cli import main
from cs_core.errors import InputError
from cs_core.experiments.figure import summarise
from cs_core.experiments.paper import run_sweep
from cs_core.experiments.splits import load_images
from cs_core.experiments.table import KINDS, RESULT_FIELDS, RESULTS_DIR, VALIDATION_FIELDS, append_rows, read_rows
from cs_core.experiments.validation import LAMBDA_GRID
from cs_core.solvers.lasso import PATH_ITERATIONS, RATIO_PATH


def test_small_sweep_writes_rows_figure_and_resumes(tmp_path):
    args = dict(domain="mnist", methods=["lasso-dct", "lasso-wavelet"], ms=[50, 200], source="heldout", count=3,
                noise=0.0, seed=0, device=torch.device("cpu"), out=tmp_path, progress=False)
    rows = run_sweep(**args)
    assert len(rows) == 2 * 2 * 3
    with (tmp_path / "results.csv").open() as f:
        written = list(csv.DictReader(f))
    assert len(written) == 12
    assert {float(r["lam_ratio"]) for r in written} <= set(LAMBDA_GRID)
    assert (tmp_path / "figure.png").stat().st_size > 10_000
    summary = summarise(written)
    for method in ("lasso-dct", "lasso-wavelet"):
        (m1, e1, _, n1), (m2, e2, _, n2) = summary[("mnist", "heldout", method)]
        assert (m1, m2, n1, n2) == (50, 200, 3, 3)
        assert e2 < e1  # more measurements, less error

    modified = (tmp_path / "results.csv").stat().st_mtime_ns
    again = run_sweep(**{**args, "count": 4})  # resumes: only the 4th image is computed
    assert len(again) == 16
    with (tmp_path / "results.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 16
    assert (tmp_path / "results.csv").stat().st_mtime_ns != modified


@pytest.mark.parametrize("path", sorted(RESULTS_DIR.rglob("*.csv")), ids=lambda p: str(p.relative_to(RESULTS_DIR)))
def test_every_published_csv_reads_with_pandas_and_has_the_writers_columns(path):
    """Each CSV under docs/results has the header of one of the writer's row kinds, and every row has as many
    fields as the header (pandas reads it with no index column or unnamed columns)."""
    import pandas as pd
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert tuple(table.columns) in KINDS and len(table) > 0
    assert table.index.equals(pd.RangeIndex(len(table)))
    with path.open(newline="") as f:
        assert {len(row) for row in csv.reader(f)} == {len(table.columns)}
    if tuple(table.columns) == RESULT_FIELDS:
        measured = table[table["method"] != "oracle-dcgan"]
        assert (measured["operator"] != "").all()  # every measured row names its operator


def test_appending_rows_keeps_the_header_and_refuses_other_columns(tmp_path):
    path = tmp_path / "rows.csv"
    row = dict.fromkeys(VALIDATION_FIELDS, "1")
    append_rows(path, VALIDATION_FIELDS, [row])
    append_rows(path, VALIDATION_FIELDS, [{**row, "mse": "2"}])
    assert [r["mse"] for r in read_rows(path)] == ["1", "2"]
    with pytest.raises(InputError, match="columns"):
        append_rows(path, RESULT_FIELDS, [])
    with pytest.raises(ValueError):
        append_rows(path, VALIDATION_FIELDS, [{**row, "extra": "x"}])


def test_heldout_images_are_the_test_split():
    data = load_images("mnist", "heldout", 5)
    assert data.images.shape == (5, 1, 28, 28) and all(n.startswith("test-row-") for n in data.names)


def test_sweep_cli_rejects_bad_lists(tmp_path, capsys):
    assert main(["sweep", "--domain", "mnist", "--methods", "lasso-dct", "--m", "10,x", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["sweep", "--domain", "faces", "--methods", "lasso-dct", "--source", "heldout", "--images", "1",
                 "--m", "10", "--out", str(tmp_path)]) == 2
    assert main(["sweep", "--domain", "mnist", "--methods", "csgm-dcgan", "--images", "1", "--m", "10",
                 "--out", str(tmp_path)]) == 2
    assert main(["sweep", "--domain", "mnist", "--methods", "lasso-dct", "--lasso-iters", "0", "--images", "1",
                 "--m", "10", "--out", str(tmp_path)]) == 2
    assert "--lasso-iters" in capsys.readouterr().err


def test_sweep_runs_lasso_for_the_iterations_asked(tmp_path):
    """``--lasso-iters`` sets Lasso's iterations in all: with the validation λ exactly; with the per-image rule less
    the path's skipped ratios (``PATH_ITERATIONS`` each)."""
    run = lambda rule: [int(r["iterations"]) for r in run_sweep(  # noqa: E731
        "mnist", ["lasso-dct"], [50], "heldout", 2, 0.0, 0, torch.device("cpu"), tmp_path / rule, progress=False,
        lam_rule=rule, lasso_iterations=1000)]
    assert run("validation") == [1000, 1000]
    skipped = [1000 - iterations for iterations in run("per-image")]
    assert all(0 <= s < len(RATIO_PATH) * PATH_ITERATIONS and s % PATH_ITERATIONS == 0 for s in skipped)


def test_cli_sweep_with_csgm(tmp_path, capsys):
    assert main(["sweep", "--domain", "mnist", "--methods", "lasso-pixel,csgm-vae", "--m", "100", "--images", "2",
                 "--out", str(tmp_path), "--device", "cpu"]) == 0
    with (tmp_path / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    by_method = {r["method"]: [] for r in rows}
    for r in rows:
        by_method[r["method"]].append(float(r["mse"]))
    assert len(by_method["csgm-vae"]) == 2 and rows[-1]["lam_ratio"] == ""
    assert max(by_method["csgm-vae"]) < min(by_method["lasso-pixel"])  # the prior wins at m = 100


def test_measurement_saving_interpolates_in_log_log():
    from cs_core.experiments.paper import m_at_error, measurement_saving
    lasso = [(10, 0.1, 0, 5), (100, 0.01, 0, 5), (1000, 0.001, 0, 5)]
    assert m_at_error(lasso, 0.01) == pytest.approx(100)
    assert m_at_error(lasso, 10 ** -1.5) == pytest.approx(10 ** 1.5)
    assert m_at_error(lasso, 1e-6) is None
    csgm = [(10, 0.01, 0, 5), (100, 0.005, 0, 5), (1000, 0.004, 0, 5)]
    summary = {("d", "s", "lasso"): lasso, ("d", "s", "csgm"): csgm}
    result = measurement_saving(summary, "d", "s", "lasso", "csgm", 10)
    assert result["saving"] == pytest.approx(10) and result["lasso_overtakes_at"] == 1000


def test_the_published_mnist_lambda_choices_are_what_validation_chooses():
    """The sweeps in docs/results record their λ ratios and later sweeps reuse them: they must still be what
    the validation rule picks (re-run the sweeps after changing the rule, the grid or the solver)."""
    from cs_core.experiments.validation import choose_lambda_ratio, published_lambda_ratios
    published = {key: ratio for key, ratio in published_lambda_ratios().items() if key[0] == "mnist"}
    assert len(published) == 2 * 9 * 2  # lasso-pixel and lasso-dct at the paper's 9 values of m, σ = 0 and 0.01
    for (domain, _, method, m, _, noise, seed, operator), ratio in published.items():
        assert operator == "gaussian"
        assert choose_lambda_ratio(domain, method, m, noise, seed, torch.device("cpu")) == ratio, (method, m)


def test_published_sweeps_keep_the_papers_csgm_where_the_default_moved_on(monkeypatch):
    """DCGAN's default is now L-BFGS; the faces sweeps in docs/results ran (and rerun) the paper's Adam."""
    import sys
    from types import SimpleNamespace
    from cs_core.experiments.paper import published_csgm
    from cs_core.priors import PRIORS
    seen = []

    def fake_csgm(problem, generator, latent_dim, settings, every, method):
        seen.append(settings)
        yield "final"
    monkeypatch.setattr(sys.modules["cs_core.experiments.paper"], "csgm", fake_csgm)
    assert list(published_csgm(SimpleNamespace(device=torch.device("cpu")), "csgm-dcgan")) == ["final"]
    paper = PRIORS["dcgan"].paper
    assert (seen[0].optimiser, seen[0].steps, seen[0].lr, seen[0].restarts, seen[0].lam) == \
        ("adam", paper.steps, paper.lr, paper.restarts, paper.lam) == ("adam", 500, 0.1, 2, 0.001)
    assert PRIORS["dcgan"].defaults.optimiser == "lbfgs"
    assert published_csgm(None, "csgm-vae") is None and published_csgm(None, "lasso-dct") is None
