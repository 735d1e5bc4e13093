"""Orthonormality of the sparsity bases and agreement with scipy (DCT) and PyWavelets (Haar)."""
import numpy as np
import pytest
import pywt
import scipy.fft
import torch

from cs_core.bases import BASES, HaarBasis


@pytest.mark.parametrize("name", list(BASES))
@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 3, 64, 64)])
def test_orthonormal(name, shape, device):
    basis = BASES[name]
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64).to(device)
    c = basis.analysis(x)
    assert c.shape == x.shape
    torch.testing.assert_close(basis.synthesis(c), x)
    torch.testing.assert_close(c.norm(), x.norm())
    y = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64).to(device)
    torch.testing.assert_close((basis.analysis(x) * basis.analysis(y)).sum(), (x * y).sum())


@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (1, 3, 64, 64)])
def test_dct_equals_scipy(shape, device):
    x = np.random.default_rng(0).random(shape)
    ours = BASES["dct"].analysis(torch.from_numpy(x).to(device)).cpu().numpy()
    np.testing.assert_allclose(ours, scipy.fft.dctn(x, axes=(-2, -1), norm="ortho"), atol=1e-12)


@pytest.mark.parametrize("size,levels", [(28, 2), (64, 6), (64, 3)])
def test_haar_equals_pywavelets(size, levels, device):
    x = np.random.default_rng(1).random((2, 3, size, size))
    basis = HaarBasis(levels if levels != HaarBasis()._levels(size) else None)
    ours = basis.analysis(torch.from_numpy(x).to(device)).cpu().numpy()
    for b in range(2):
        for ch in range(3):
            expected, _ = pywt.coeffs_to_array(pywt.wavedec2(x[b, ch], "haar", mode="periodization", level=levels))
            np.testing.assert_allclose(ours[b, ch], expected, atol=1e-12)
