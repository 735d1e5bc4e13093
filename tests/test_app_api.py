"""The demo's API endpoint /reconstruct, driven by gradio_client: it streams, it matches the CLI, bad input is an error."""
import json
import subprocess
import sys

import pytest
from helpers import ROOT
from PIL import Image
from skimage import data

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]


def arguments(image, domain="mnist", operator="gaussian", m=100, methods=("lasso-pixel",), iterations=None,
              seed=0, **overrides) -> dict:
    """Every parameter of /reconstruct (docs/app.md), by name."""
    args = dict(asset=None, upload=handle_file(str(image)), domain=domain, operator=operator, m=m, mask="center",
                mask_size=None, keep=0.5, factor=None, noise=0.0, methods=list(methods), iterations=iterations,
                restarts=None, lr=None, lam=None, csgm_lam=None, seed=seed, device="cpu")
    args.update(overrides)
    return args


@pytest.fixture(scope="module")
def client(running_app):
    with running_app() as url:
        yield Client(url, verbose=False)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("app") / "camera.png"
    Image.fromarray(data.camera()).save(path)
    return path


def cli_results(image, methods, iterations, restarts, seed, m=100, domain="mnist") -> dict:
    cmd = [sys.executable, "-m", "cs_core", "reconstruct", "--image", str(image), "--domain", domain,
           "--operator", "gaussian", "--m", str(m), "--iters", str(iterations), "--restarts", str(restarts),
           "--seed", str(seed), "--device", "cpu", "--json"]
    for name in methods:
        cmd += ["--method", name]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return {r["method"]: r for r in json.loads(done.stdout)["results"]}


def test_run_streams_and_matches_the_cli(client, image, vae_available):
    methods = ["lasso-pixel", "lasso-dct"] + (["csgm-vae"] if vae_available else [])
    iterations, restarts, seed = 200, 2, 3
    job = client.submit(**arguments(image, methods=methods, iterations=iterations, restarts=restarts, seed=seed),
                        api_name="/reconstruct")
    updates = list(job)
    assert len(updates) >= 5, f"expected a start and 3 intermediate frames before the final one, got {len(updates)}"
    status, *_, table = updates[-1]
    assert status.endswith("done"), status
    assert updates[0][0].endswith("starting")
    assert all(u[0].endswith("running") for u in updates[1:-1])
    # the recon slots: one per method, the rest hidden on the first frame
    first = updates[1]
    for i in range(4):
        assert first[3 + i].get("visible") is (i < len(methods))

    rows = {row[0]: dict(zip(table["headers"], row)) for row in table["data"]}
    # a finished method reads k/k, also where it ended before its announced count (Lasso's λ path once settled)
    assert all(f"{label} {int(row['iters'])}/{int(row['iters'])}" in status for label, row in rows.items()), status
    expected = cli_results(image, methods, iterations, restarts, seed)
    from cs_core.solvers import METHODS
    assert set(rows) == {METHODS[name].label for name in methods}
    for name in methods:
        got, want = rows[METHODS[name].label], expected[name]
        assert got["MSE [0,1]"] == pytest.approx(want["mse"], rel=1e-5), name
        assert got["PSNR dB"] == pytest.approx(want["psnr"], rel=1e-5), name
        assert got["SSIM"] == pytest.approx(want["ssim"], rel=1e-4, abs=1e-6), name
        assert got["iters"] == want["iterations"] == iterations


@pytest.mark.parametrize("overrides, message", [
    ({"m": 0}, "m must be a whole number"),
    ({"methods": ["csgm-dcgan"]}, "does not fit domain mnist"),
    ({"methods": []}, "choose at least one method"),
    ({"iterations": -5}, "iterations must be a whole number"),
    ({"upload": None}, "choose a gallery image or upload one"),
])
def test_bad_input_is_an_error_and_the_server_lives_on(client, image, overrides, message):
    with pytest.raises(AppError, match=message):
        client.predict(**arguments(image, **overrides), api_name="/reconstruct")
    # the server still answers, here with another domain than the page shows
    status, *_ = client.predict(**arguments(image, domain="faces", m=50, methods=["lasso-wavelet"], iterations=10),
                                api_name="/reconstruct")
    assert status.endswith("done")
