"""Exports (GIF, PNG, CSV) drawn from the run's own snapshots, and the drawn inpainting mask, through the CLI."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cs_core.domains import get_domain
from cs_core.errors import InputError
from cs_core.operators import build_operator
from cs_core.operators.inpaint import drawn_mask

ROOT = Path(__file__).resolve().parents[1]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "cs_core", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    run = cli("reconstruct", "--asset", "digit-test-0254", "--domain", "mnist", "--operator", "gaussian", "--m", 100,
              "--method", "lasso-dct", "--method", "lasso-pixel", "--iters", 80, "--device", "cpu", "--json",
              "--gif", out / "run.gif", "--png", out / "final.png", "--csv", out / "curve.csv")
    assert run.returncode == 0, run.stderr
    return out, json.loads(run.stdout)


def test_gif_has_a_frame_every_few_iterations_of_the_right_size(exported):
    out, _ = exported
    with Image.open(out / "run.gif") as gif:
        assert gif.n_frames >= 10  # 80 iterations, a snapshot every 5: 16 frames
        size = gif.size
        gif.seek(0)
        first = np.asarray(gif.convert("RGB")).astype(float)
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB")).astype(float)
    with Image.open(out / "final.png") as png:
        assert png.size == size  # the same grid: truth, sensor view and the two methods
    side = 28 * 6  # each 28×28 image is upscaled 6× to about 160 px
    assert size[0] > 4 * side and size[1] > side
    assert np.abs(first - last).mean() > 1  # the estimates moved between the first and the last frame


def test_csv_holds_every_snapshot_and_ends_with_the_reported_result(exported):
    out, report = exported
    with (out / "curve.csv").open() as f:
        rows = list(csv.DictReader(f))
    for method in ("lasso-dct", "lasso-pixel"):
        mine = [r for r in rows if r["method"] == method]
        assert [int(r["iteration"]) for r in mine] == list(range(5, 81, 5))
        assert [r["final"] for r in mine] == ["0"] * 15 + ["1"]
        reported = next(r for r in report["results"] if r["method"] == method)
        assert float(mine[-1]["mse"]) == pytest.approx(reported["mse"], rel=1e-6)
        assert float(mine[-1]["measurement_loss"]) <= float(mine[0]["measurement_loss"])


def test_drawn_mask_hides_exactly_the_painted_pixels():
    size = 28
    picture = np.zeros((size * 4, size * 4))
    picture[8:40, 12:28] = 1.0                  # pixels rows 2..9, columns 3..6, painted whole
    picture[60:62, 60:64] = 1.0                 # half of pixel (15, 15): hidden (at least half painted)
    picture[80:81, 80:84] = 1.0                 # a quarter of pixel (20, 20): kept
    keep = drawn_mask(picture, size)
    expected = torch.ones(size, size, dtype=torch.bool)
    expected[2:10, 3:7] = False
    expected[15, 15] = False
    assert torch.equal(keep, expected)


def test_drawn_mask_operator_observes_only_the_unpainted_pixels():
    domain = get_domain("faces")
    picture = np.zeros((64, 64, 3))
    picture[10:20, 30:50] = 1.0
    op = build_operator("inpaint", domain, {"mask": "drawn", "mask_image": picture}, torch.Generator(), "cpu")
    assert op.m == 3 * (64 * 64 - 10 * 20)
    x = torch.rand((1, *domain.shape))
    view = op.view(op.A(x))
    assert torch.equal(view[:, :, 10:20, 30:50], torch.full((1, 3, 10, 20), 0.5))
    outside = torch.ones(64, 64, dtype=torch.bool)
    outside[10:20, 30:50] = False
    assert torch.equal(view[:, :, outside], x[:, :, outside])


@pytest.mark.parametrize("picture,message", [(np.zeros((50, 50)), "hides no pixel"),
                                             (np.ones((50, 50)), "hides every pixel"),
                                             (None, "empty")])
def test_bad_drawn_masks_are_clear_errors(picture, message):
    with pytest.raises(InputError, match=message):
        build_operator("inpaint", get_domain("mnist"), {"mask": "drawn", "mask_image": picture}, torch.Generator(),
                       "cpu")


def test_cli_mask_image_white_is_hidden(tmp_path):
    picture = np.zeros((56, 56), np.uint8)
    picture[0:28, 0:56] = 255                   # the top half of the digit
    Image.fromarray(picture).save(tmp_path / "mask.png")
    run = cli("reconstruct", "--asset", "digit-test-0254", "--domain", "mnist", "--operator", "inpaint",
              "--mask-image", tmp_path / "mask.png", "--method", "lasso-dct", "--iters", 5, "--json",
              "--out", tmp_path / "out")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["params"]["mask"] == "drawn" and report["params"]["m_measurements"] == 28 * 14
    view = np.asarray(Image.open(tmp_path / "out" / "measurements.png").convert("L")).astype(int)
    assert (np.abs(view[:14] - 128) <= 1).all()  # hidden pixels are grey


@pytest.mark.parametrize("args,message", [
    (["--mask-image", "missing.png"], "not found"),
    (["--mask", "center", "--mask-image", "assets/letter-A.png"], "--mask-image draws the mask"),
])
def test_cli_mask_errors_are_one_line(args, message):
    run = cli("reconstruct", "--asset", "digit-test-0254", "--domain", "mnist", "--operator", "inpaint", *args,
              "--method", "lasso-dct", "--iters", 5)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: ") and message in run.stderr
