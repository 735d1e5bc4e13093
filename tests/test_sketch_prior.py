"""The MNIST prior ``sketch``: the one-pass digit sketches, a trainer that reads only them, the checkpoint."""
import inspect

import pytest
import torch

from cs_core.priors import mnist_data
from cs_core.priors.sketch_mnist import LATENT_DIM, SketchGenerator
from cs_core.sketching import mnist as sm
from cs_core.sketching.sketch import features

SMALL = sm.SketchSpec(m=60, global_scales=(0.5, 2.0), m_patch=40, stride=3, seed=4)


def digits(n: int = 120, seed: int = 0) -> torch.Tensor:
    """Blurry random strokes in [0, 1], (n, 1, 28, 28): enough structure for the scales, no MNIST needed."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, 1, 28, 28, generator=g) > 0.85).float()
    x = torch.nn.functional.avg_pool2d(x, 3, 1, 1)
    return (x * 2).clamp(0, 1)


def test_patch_rows_are_the_patches_and_their_positions():
    x = torch.rand(3, 1, 28, 28, dtype=torch.float64)
    positions = torch.tensor([0, 23, 22 * 21 + 21])  # (0, 0), (1, 1), (21, 21)
    rows = sm.patch_rows(x, positions, 0.5).reshape(3, 3, 51)
    for k, (r, c) in enumerate(((0, 0), (1, 1), (21, 21))):
        torch.testing.assert_close(rows[:, k, :49], x[:, 0, r:r + 7, c:c + 7].reshape(3, 49))
        torch.testing.assert_close(rows[:, k, 49:], torch.tensor([[r * 0.5, c * 0.5]] * 3, dtype=torch.float64))
    assert len(sm.grid_positions(2)) == 11 * 11 and len(sm.grid_positions(1)) == 22 * 22


def test_digit_sketches_are_the_means_of_their_features_whatever_the_chunks():
    x = digits()
    whole = sm.sketch_digits([x], SMALL)
    patches = sm.patch_rows(x.double(), sm.grid_positions(SMALL.stride), SMALL.position_weight)
    torch.testing.assert_close(whole.global_sketch.values, features(x.flatten(1).double(), whole.global_omega).mean(0))
    torch.testing.assert_close(whole.patch_sketch.values, features(patches, whole.patch_omega).mean(0),
                               atol=1e-6, rtol=0)  # patch features in float32, summed in float64
    assert whole.global_sketch.count == 120 and whole.patch_sketch.count == 120 * 8 * 8
    assert whole.nbytes == (2 * 60 + 2 * 40) * 8 and whole.floats == 200
    # σ comes from the first chunk (here all of it): the rest may arrive in any chunks
    first = sm.sketch_digits([x[:100], x[100:]], SMALL)
    chunked = sm.sketch_digits([x[:100], x[100:107], x[107:]], SMALL)
    assert chunked.sigma == first.sigma and torch.equal(chunked.global_omega, first.global_omega)
    torch.testing.assert_close(chunked.global_sketch.values, first.global_sketch.values, atol=1e-14, rtol=0)
    torch.testing.assert_close(chunked.patch_sketch.values, first.patch_sketch.values, atol=1e-12, rtol=0)


def test_the_trainer_reads_only_the_sketch_lowers_its_loss_and_is_seeded(monkeypatch):
    sketch = sm.sketch_digits([digits()], SMALL)
    assert list(inspect.signature(sm.train_from_sketch).parameters) == ["sketch", "model", "settings", "generator",
                                                                         "every"]

    def no_data(*_args, **_kwargs):
        raise AssertionError("the trainer reached the MNIST data")
    monkeypatch.setattr(mnist_data, "load_split", no_data)
    monkeypatch.setattr(mnist_data, "_raw", no_data)
    settings = sm.TrainSettings(steps=60, batch=64, lr=3e-3, positions=4, patch_weight=3.0)

    def run():
        torch.manual_seed(0)
        model = SketchGenerator()
        history = list(sm.train_from_sketch(sketch, model, settings, torch.Generator().manual_seed(1), every=20))
        return model, history

    model, history = run()
    assert [step for step, _ in history] == [0, 20, 40, 60]
    first, last = history[0][1], history[-1][1]
    assert last["loss"] < 0.7 * first["loss"] and last["global"] < first["global"]
    again, _ = run()
    for a, b in zip(model.parameters(), again.parameters()):
        assert torch.equal(a, b)


def test_sketch_prior_is_registered_frozen_and_in_range(device):
    from cs_core.priors import PRIORS
    from cs_core.solvers import METHODS
    assert PRIORS["sketch"].domain == "mnist" and "mnist" in METHODS["csgm-sketch"].domains
    G = PRIORS["sketch"].load(device)
    assert not G.training and not any(p.requires_grad for p in G.parameters())
    x = G(torch.randn(6, PRIORS["sketch"].latent_dim, device=device))
    assert x.shape == (6, 1, 28, 28) and 0 <= x.min() and x.max() <= 1 and x.std() > 0.05


def test_shipped_sketch_is_at_most_one_percent_of_the_train_digits():
    from cs_core.priors.checkpoints import read_metadata
    from cs_core.priors.sketch_mnist import METADATA
    meta = read_metadata(METADATA)
    assert meta["sketch"]["bytes"] == 8 * meta["sketch"]["floats"] == 8 * 2 * (meta["sketch"]["m"] + meta["sketch"]["m_patch"])
    assert meta["sketch"]["bytes"] <= 0.01 * meta["data_bytes_float32"]
    assert meta["command"].startswith("python -m cs_core.train sketch-mnist")


@pytest.mark.parametrize("argv", [["--scales", "1,x"], ["--m", "0"], ["--steps", "0"]])
def test_cli_bad_input_is_one_error_line(capsys, monkeypatch, tmp_path, argv):
    from cs_core.train import main
    monkeypatch.setattr(mnist_data, "load_split", lambda name: (digits(1200 if name == "train" else 50), None, None))
    with pytest.raises(SystemExit) as exit_:
        main(["sketch-mnist", "--out-dir", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "sketch_mnist.pt").exists()


def test_training_writes_a_hash_checked_checkpoint_from_the_train_split(tmp_path):
    from cs_core.priors.checkpoints import sha256_file
    meta = sm.train_sketch_mnist(SMALL, sm.TrainSettings(steps=3, batch=8), out_dir=tmp_path, every=None,
                                 log=lambda _: None)
    assert meta["sha256"] == sha256_file(tmp_path / "sketch_mnist.pt")
    assert meta["sketch"]["floats"] == 200 and meta["sketch"]["global_scales"] == [0.5, 2.0]
    assert meta["sketch"]["patch_count"] == 4000 * 64 and meta["trained_on"].startswith("the sketch of the train split only")
    assert [h["step"] for h in meta["history"]] == [0, 3]
    state = torch.load(tmp_path / "sketch_mnist.pt", weights_only=True)
    SketchGenerator().load_state_dict(state)
    assert LATENT_DIM == 20


def test_without_patch_frequencies_only_the_whole_digits_are_sketched():
    spec = sm.SketchSpec(m=50, global_scales=(1.0,), m_patch=0, seed=2)
    sketch = sm.sketch_digits([digits(60)], spec)
    assert sketch.patch_sketch is None and sketch.nbytes == 2 * 50 * 8
    images = digits(5, seed=1)
    loss_g, loss_p = sm.sketch_losses(sketch, images, 4, torch.Generator().manual_seed(0))
    expected = (sketch.global_sketch.values - features(images.flatten(1).double(), sketch.global_omega).mean(0)).pow(2).sum()
    torch.testing.assert_close(loss_g, expected.float())
    assert float(loss_p) == 0.0
