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


def test_haar_of_a_batch_larger_than_a_chunk_equals_pywavelets_and_is_batch_last():
    """A batch beyond ``HAAR_CHUNK`` (a measurement matrix's rows, for the design AΨ) is transformed chunk by chunk
    and comes back batch-last in memory: the same coefficients as PyWavelets (and, bit for bit, as each member
    alone), and AΨ's columns contiguous."""
    from cs_core.bases import HAAR_CHUNK
    batch = 2 * HAAR_CHUNK + 3
    x = np.random.default_rng(2).random((batch, 1, 16, 16)).astype(np.float32)
    ours = HaarBasis().analysis(torch.from_numpy(x))
    assert ours.permute(1, 2, 3, 0).is_contiguous()
    assert ours.reshape(batch, -1).T.is_contiguous()  # the design's (n, m) memory, no copy
    for b in range(batch):
        expected, _ = pywt.coeffs_to_array(pywt.wavedec2(x[b, 0].astype(np.float64), "haar", mode="periodization",
                                                         level=4))
        np.testing.assert_allclose(ours[b, 0].numpy(), expected, rtol=1e-6, atol=1e-6)  # float32
    alone = np.concatenate([HaarBasis().analysis(torch.from_numpy(x[i:i + 1])).numpy() for i in range(batch)])
    np.testing.assert_array_equal(ours.numpy(), alone)  # bit for bit: each member as if transformed alone
