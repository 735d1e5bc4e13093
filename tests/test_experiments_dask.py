"""Sweeps on Dask: each cell a task on a 2-worker LocalCluster gives the serial path's rows, in its order, and
resumes like it."""
from dataclasses import replace

import pytest
import torch

from cs_core.experiments import beyond, paper, validation
from cs_core.experiments.beyond_tasks import run_on
from cs_core.experiments.splits import image_seeds
from cs_core.experiments.table import read_rows

distributed = pytest.importorskip("distributed")
CPU = torch.device("cpu")


def without_seconds(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as local, \
            distributed.Client(local, set_as_default=False) as client:
        yield client


def test_a_sweep_on_dask_writes_the_serial_rows_and_resumes(tmp_path, client):
    # lasso-dct at m = 50 reuses the published λ ratio; tv at m = 30 is chosen on validation (a task of its own)
    args = dict(domain="mnist", methods=["lasso-dct", "tv"], ms=[30, 50], source="heldout", count=3, noise=0.01,
                seed=0, device=CPU, progress=False)
    serial = paper.run_sweep(**args, out=tmp_path / "serial")
    on_dask = paper.run_sweep(**args, out=tmp_path / "dask", client=client)
    written = read_rows(tmp_path / "serial" / "results.csv")
    assert len(written) == 2 * 2 * 3 and {r["lam_ratio"] for r in written} != {""}
    assert {int(r["seed"]) for r in written} == set(image_seeds(0, "heldout", 3))  # each image its own draw
    assert without_seconds(read_rows(tmp_path / "dask" / "results.csv")) == without_seconds(written)
    assert len(on_dask) == len(serial)

    paper.run_sweep(**{**args, "count": 2}, out=tmp_path / "resumed", client=client)
    resumed = paper.run_sweep(**args, out=tmp_path / "resumed", client=client)  # only the 3rd image is computed
    first_two = [r for r in written if r["image"] != written[2]["image"]]
    third = [r for r in written if r["image"] == written[2]["image"]]
    assert without_seconds(read_rows(tmp_path / "resumed" / "results.csv")) == without_seconds(first_two + third)
    assert len(resumed) == 12


def test_dip_validation_on_dask_writes_the_serial_files(tmp_path, monkeypatch, client):
    # DIP's validation: a task per validation image and one for the choice, which DIP's cells wait for
    images = validation.validation_images("mnist")[:2]
    monkeypatch.setattr(validation, "DIP_STEP_GRID", (2, 4, 6))
    monkeypatch.setattr(validation, "DIP_EVERY", 2)
    monkeypatch.setattr(validation, "validation_images", lambda domain: images)
    args = dict(domain="mnist", methods=["dip", "lasso-dct"], ms=[30, 50], source="heldout", count=2, noise=0.01,
                seed=0, device=CPU, progress=False)
    paper.run_sweep(**args, out=tmp_path / "serial")
    paper.run_sweep(**args, out=tmp_path / "dask", client=client)
    for name in ("results.csv", "validation.csv"):
        serial = read_rows(tmp_path / "serial" / name)
        assert serial and without_seconds(read_rows(tmp_path / "dask" / name)) == without_seconds(serial)
    assert len(read_rows(tmp_path / "serial" / "validation.csv")) == 2 * 2 * 3  # m, validation image, count


def test_beyond_on_dask_writes_the_serial_files(tmp_path, monkeypatch, client):
    monkeypatch.setattr(beyond, "PHASE_ONE", replace(beyond.PHASE_ONE, steps=5, restarts=1))
    monkeypatch.setitem(beyond.TUNED, "sparse-gen-dcgan",
                        replace(beyond.TUNED["sparse-gen-dcgan"], grid=(0.03, 0.3), steps=4, every=2))
    monkeypatch.setitem(beyond.VALIDATION_COUNT, "val-real", 2)
    monkeypatch.setitem(beyond.VALIDATION_COUNT, "val-inrange", 1)
    monkeypatch.setattr(beyond, "compute_oracle", lambda source, seed, device, count: [])  # the oracle's own test
    args = (["csgm-dcgan", "sparse-gen-dcgan"], [50, 100], 1, 0.01, 0, CPU)  # Lasso: the sweep test above
    beyond.run(*args, tmp_path / "serial", progress=lambda line: None)
    run_on(client, *args, tmp_path / "dask", progress=lambda line: None)
    for name in ("results.csv", "validation.csv"):
        serial = read_rows(tmp_path / "serial" / name)
        assert serial and without_seconds(read_rows(tmp_path / "dask" / name)) == without_seconds(serial)
    assert sorted(p.name for p in (tmp_path / "dask" / "phase1").iterdir()) == \
        sorted(p.name for p in (tmp_path / "serial" / "phase1").iterdir())
