"""Priors: registry contract, hash-checked weights-only loading, output ranges, held-out data."""
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from cs_core.assets import list_assets
from cs_core.errors import InputError
from cs_core.priors import PRIORS, dcgan, vae
from cs_core.priors.checkpoints import sha256_file, verified_load
from cs_core.priors.mnist_data import SPLIT_SIZES, load_split, split_indices
from cs_core.priors.sampling import sample, sample_latent

needs_dcgan = pytest.mark.skipif(
    not dcgan.CHECKPOINT.is_file(),
    reason=f"{dcgan.CHECKPOINT} missing: run `python -m cs_core.fetch_weights` first",
)


@pytest.fixture
def fresh_caches():
    vae._load_vae.cache_clear()
    dcgan._load.cache_clear()
    yield
    vae._load_vae.cache_clear()
    dcgan._load.cache_clear()


class NotAWeight:
    """A custom class: a weights-only unpickler must refuse it."""

    def __init__(self):
        self.payload = "code could run here"


def test_registry_contract():
    assert PRIORS["vae"].domain == "mnist" and PRIORS["vae"].latent_dim == 20
    assert PRIORS["dcgan"].domain == "faces" and PRIORS["dcgan"].latent_dim == 100
    for prior in PRIORS.values():
        d = prior.defaults
        assert d.steps > 0 and d.lr > 0 and d.restarts >= 1 and d.lam >= 0


def test_vae_output_shape_range_frozen(device):
    G = PRIORS["vae"].load(device)
    assert G is PRIORS["vae"].load(device), "loader must cache per device"
    assert not G.training and not any(p.requires_grad for p in G.parameters())
    x = G(torch.randn(5, 20, device=device))
    assert x.shape == (5, 1, 28, 28) and x.device.type == device.type
    assert 0 <= x.min() and x.max() <= 1


@needs_dcgan
def test_dcgan_output_shape_range_frozen(device):
    G = PRIORS["dcgan"].load(device)
    assert G is PRIORS["dcgan"].load(device), "loader must cache per device"
    assert not G.training and not any(p.requires_grad for p in G.parameters())
    assert not any(m.training for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d))
    z = torch.randn(2, 100, device=device, requires_grad=True)
    x = G(z)
    assert x.shape == (2, 3, 64, 64) and 0 <= x.min() and x.max() <= 1
    assert x.std() > 0.05, "generated faces should not be flat"
    x.sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0, "gradients must flow to z"


def test_sampling_is_seeded(device):
    a, b = sample("vae", 7, device), sample("vae", 7, device)
    assert a.shape == (1, 1, 28, 28) and torch.equal(a, b)
    assert not torch.equal(a, sample("vae", 8, device))
    assert torch.equal(sample_latent("vae", 7), torch.randn(1, 20, generator=torch.Generator().manual_seed(7)))
    with pytest.raises(InputError, match="unknown prior"):
        sample("nope", 0, device)


def _tamper(src, dst):
    shutil.copyfile(src, dst)
    data = bytearray(dst.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dst.write_bytes(bytes(data))


def test_vae_refuses_wrong_hash(tmp_path, monkeypatch, fresh_caches):
    bad = tmp_path / "vae_mnist.pt"
    _tamper(vae.CHECKPOINT, bad)
    monkeypatch.setattr(vae, "CHECKPOINT", bad)
    with pytest.raises(InputError) as err:
        PRIORS["vae"].load(torch.device("cpu"))
    msg = str(err.value)
    assert str(bad) in msg and "sha256" in msg
    assert "git checkout checkpoints/vae_mnist.pt" in msg and "python -m cs_core.train vae-mnist" in msg


def test_vae_missing_checkpoint_names_fix(tmp_path, monkeypatch, fresh_caches):
    monkeypatch.setattr(vae, "CHECKPOINT", tmp_path / "absent.pt")
    with pytest.raises(InputError, match=r"absent\.pt is missing.*python -m cs_core\.train vae-mnist"):
        PRIORS["vae"].load(torch.device("cpu"))


@needs_dcgan
def test_dcgan_refuses_wrong_hash(tmp_path, monkeypatch, fresh_caches):
    bad = tmp_path / "dcgan_faces.tar"
    _tamper(dcgan.CHECKPOINT, bad)
    monkeypatch.setattr(dcgan, "CHECKPOINT", bad)
    with pytest.raises(InputError) as err:
        PRIORS["dcgan"].load(torch.device("cpu"))
    assert str(bad) in str(err.value) and "python -m cs_core.fetch_weights" in str(err.value)


def test_dcgan_missing_checkpoint_names_fix(tmp_path, monkeypatch, fresh_caches):
    monkeypatch.setattr(dcgan, "CHECKPOINT", tmp_path / "dcgan_faces.tar")
    with pytest.raises(InputError, match=r"dcgan_faces\.tar is missing.*python -m cs_core\.fetch_weights"):
        PRIORS["dcgan"].load(torch.device("cpu"))


def test_loading_is_weights_only(tmp_path):
    evil = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(2), "obj": NotAWeight()}, evil)
    # The hash matches, so only the weights-only unpickler stands between us and the custom class.
    with pytest.raises(InputError, match="weights only"):
        verified_load(evil, sha256_file(evil), "run `python -m cs_core.fetch_weights`")
    plain = tmp_path / "plain.pt"
    torch.save({"w": torch.ones(3)}, plain)
    assert torch.equal(verified_load(plain, sha256_file(plain), "-")["w"], torch.ones(3))


def test_split_is_a_fixed_partition():
    parts = {name: split_indices(name) for name in SPLIT_SIZES}
    assert {k: len(v) for k, v in parts.items()} == SPLIT_SIZES
    all_idx = np.concatenate(list(parts.values()))
    assert len(np.unique(all_idx)) == 5000
    # The rule is frozen: these rows are what the committed checkpoint was trained around.
    assert parts["test"][:3].tolist() == split_indices("test")[:3].tolist()


def test_asset_digits_are_held_out():
    x_train, _, train_rows = load_split("train")
    train_u8 = (x_train.reshape(len(x_train), -1).numpy() * 255).round().astype(np.uint8)
    train_set = {row.tobytes() for row in train_u8}
    test_rows = set(split_indices("test").tolist())
    digits = [a for a in list_assets("mnist") if a.name.startswith("digit-test-")]
    assert len(digits) == 12
    for asset in digits:
        row = int(asset.name.rsplit("-", 1)[1])
        assert row in test_rows and row not in set(train_rows.tolist())
        pixels = np.asarray(Image.open(asset.path).convert("L"), dtype=np.uint8).reshape(-1)
        assert pixels.tobytes() not in train_set, f"{asset.name} has the same pixels as a training digit"
        # nearest training digit is clearly different (no near-duplicate leak)
        dists = np.abs(train_u8.astype(np.int16) - pixels.astype(np.int16)).mean(axis=1)
        assert dists.min() > 5, f"{asset.name} nearly duplicates a training digit"


def test_vae_in_range_recovery():
    """CSGM with the VAE recovers a point of its range from m=100 Gaussian measurements."""
    torch.manual_seed(0)
    G = PRIORS["vae"].load(torch.device("cpu"))
    z_true = sample_latent("vae", 2000)
    x = G(z_true)
    m, n = 100, 784
    A = torch.randn(m, n, generator=torch.Generator().manual_seed(1)) / m ** 0.5
    y = A @ x.reshape(-1)
    z = torch.randn(5, 20, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=0.03)
    for _ in range(300):
        loss = ((G(z).reshape(5, -1) @ A.T - y) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        xs = G(z)
        best = ((xs.reshape(5, -1) @ A.T - y) ** 2).sum(1).argmin()
        mse = ((xs[best] - x[0]) ** 2).mean().item()
    assert mse < 1e-3, f"in-range VAE recovery MSE {mse:.4f}"
