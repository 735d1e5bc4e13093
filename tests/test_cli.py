"""The CLI contract: JSON schema, PNG outputs, and one-line errors with exit status 2."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import assert_input_error, bomb_png, in_process

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "cs_core", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("img") / "photo.png"
    rng = np.random.default_rng(0)
    gradient = np.linspace(0, 255, 80)[None, :, None] * np.ones((60, 80, 3))
    Image.fromarray(np.clip(gradient + rng.normal(0, 10, gradient.shape), 0, 255).astype(np.uint8)).save(path)
    return path


def test_reconstruct_json_schema_and_pngs(photo, tmp_path):
    out = tmp_path / "out"
    run = cli("reconstruct", "--image", photo, "--domain", "faces", "--operator", "gaussian", "--m", 300,
              "--method", "lasso-dct", "--method", "lasso-wavelet", "--iters", 50, "--seed", 3, "--noise", 0.01,
              "--device", "cpu", "--out", out, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)  # exactly one JSON object on stdout
    assert report["domain"] == "faces" and report["operator"] == "gaussian" and report["device"] == "cpu"
    assert report["params"]["m"] == 300 and report["params"]["seed"] == 3
    assert [r["method"] for r in report["results"]] == ["lasso-dct", "lasso-wavelet"]
    for r in report["results"]:
        assert set(r) >= {"method", "mse", "psnr", "ssim", "seconds", "iterations"}
        assert 0 <= r["mse"] <= 1 and r["iterations"] == 50 and r["seconds"] > 0
        assert r["psnr"] == pytest.approx(10 * np.log10(1 / r["mse"]))
    for name in ["truth", "measurements", "lasso-dct", "lasso-wavelet"]:
        with Image.open(out / f"{name}.png") as img:
            assert img.size == (64, 64) and img.format == "PNG"


def test_same_seed_same_numbers(photo):
    args = ["reconstruct", "--image", photo, "--domain", "mnist", "--operator", "inpaint", "--mask", "random",
            "--keep", "0.4", "--method", "lasso-wavelet", "--iters", 40, "--seed", 7, "--json"]
    first, second = json.loads(cli(*args).stdout), json.loads(cli(*args).stdout)
    assert first["results"][0]["mse"] == second["results"][0]["mse"]


def test_human_readable_table(photo):
    run = cli("reconstruct", "--image", photo, "--domain", "mnist", "--operator", "superres", "--factor", 4,
              "--method", "lasso-pixel", "--iters", 20)
    assert run.returncode == 0, run.stderr
    assert "MSE [0,1]" in run.stdout and "lasso-pixel" in run.stdout


def bad_files(tmp: Path) -> dict[str, Path]:
    text = tmp / "notes.png"
    text.write_text("this is not an image")
    good = tmp / "good.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(good)
    truncated = tmp / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:60])
    empty = tmp / "empty.png"
    empty.write_bytes(b"")
    return {"missing": tmp / "nope.png", "text": text, "truncated": truncated, "empty": empty,
            "bomb": bomb_png(tmp / "bomb.png", 20000)}


BASE = ["reconstruct", "--domain", "mnist", "--operator", "gaussian", "--m", "50", "--method", "lasso-dct"]
BAD_ARGUMENTS = {
    "unknown method": ["--method", "lasso-fourier"],
    "unknown operator": ["--operator", "radon"],
    "m zero": ["--m", "0"],
    "m negative": ["--m", "-5"],
    "m too large": ["--m", "100000"],
    "m not a number": ["--m", "ten"],
    "factor does not divide": ["--operator", "superres", "--factor", "3"],
    "mask size too large": ["--operator", "inpaint", "--mask", "center", "--mask-size", "28"],
    "mask size zero": ["--operator", "inpaint", "--mask", "center", "--mask-size", "0"],
    "keep zero": ["--operator", "inpaint", "--mask", "random", "--keep", "0"],
    "keep above one": ["--operator", "inpaint", "--mask", "random", "--keep", "1.5"],
    "unknown mask": ["--operator", "inpaint", "--mask", "triangle"],
    "negative noise": ["--noise", "-0.1"],
    "nan noise": ["--noise", "nan"],
    "infinite noise": ["--noise", "inf"],
    "negative lambda": ["--lam", "-1"],
    "nan lambda": ["--lam", "nan"],
    "zero iterations": ["--iters", "0"],
    "zero learning rate": ["--lr", "0"],
    "unknown domain": ["--domain", "cifar"],
    "method does not fit the domain": ["--method", "csgm-dcgan"],
    "unknown asset": ["--asset", "no-such-asset"],
    "cuda without a GPU": ["--device", "cuda"] if not torch.cuda.is_available() else ["--device", "tpu"],
    "missing method": None,
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_arguments_give_one_error_line(case, photo, capsys):
    if BAD_ARGUMENTS[case] is None:
        args = ["reconstruct", "--image", photo, "--domain", "mnist", "--operator", "gaussian", "--m", "5"]
    else:
        source = [] if "--asset" in BAD_ARGUMENTS[case] else ["--image", photo]
        args = BASE + source + BAD_ARGUMENTS[case]
    assert_input_error(in_process(args, capsys))


@pytest.mark.parametrize("kind", ["missing", "text", "truncated", "empty", "bomb"])
def test_bad_image_files_give_one_error_line(kind, tmp_path, capsys):
    path = bad_files(tmp_path)[kind]
    assert_input_error(in_process([*BASE, "--image", path], capsys))


@pytest.mark.parametrize("extra", [["--m", "0"], ["--image", "does-not-exist.png"]])
def test_errors_end_to_end_in_a_subprocess(extra, photo):
    args = [*BASE, "--image", photo, *extra] if "--m" in extra else [*BASE, *extra]
    assert_input_error(cli(*args))


def test_sample_writes_an_image_of_the_domain(tmp_path):
    for domain, size in [("mnist", (28, 28)), ("faces", (64, 64))]:
        run = cli("sample", "--domain", domain, "--seed", 5, "--out", tmp_path / f"{domain}.png")
        assert run.returncode == 0, run.stderr
        with Image.open(tmp_path / f"{domain}.png") as img:
            assert img.size == size
