"""Input conversion: every common image mode is converted to the domain's shape by the documented rule."""
import numpy as np
import pytest
import torch
from PIL import Image

from cs_core.domains import DOMAINS
from cs_core.errors import InputError
from cs_core.images import array_to_domain, load_image, save_png


def write(tmp_path, name, image: Image.Image):
    path = tmp_path / name
    image.save(path)
    return path


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    rgba = np.dstack([rgb, np.full((90, 120), 255, np.uint8)])
    return {
        "rgb.png": write(tmp_path, "rgb.png", Image.fromarray(rgb)),
        "rgb.jpg": write(tmp_path, "rgb.jpg", Image.fromarray(rgb)),
        "rgba.png": write(tmp_path, "rgba.png", Image.fromarray(rgba, "RGBA")),
        "gray.png": write(tmp_path, "gray.png", Image.fromarray(rgb[..., 0])),
        "gray16.png": write(tmp_path, "gray16.png", Image.fromarray(rgb[..., 0].astype(np.uint16) * 257)),
        "palette.png": write(tmp_path, "palette.png", Image.fromarray(rgb).convert("P")),
        "bilevel.png": write(tmp_path, "bilevel.png", Image.fromarray(rgb[..., 0]).convert("1")),
    }


@pytest.mark.parametrize("name", ["rgb.png", "rgb.jpg", "rgba.png", "gray.png", "gray16.png", "palette.png",
                                  "bilevel.png"])
@pytest.mark.parametrize("domain", list(DOMAINS.values()), ids=list(DOMAINS))
def test_every_mode_converts(images, name, domain):
    x = load_image(images[name], domain)
    assert x.shape == (1, *domain.shape) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1


def test_sixteen_bit_keeps_its_scale(images):
    eight = load_image(images["gray.png"], DOMAINS["mnist"])
    sixteen = load_image(images["gray16.png"], DOMAINS["mnist"])
    torch.testing.assert_close(eight, sixteen, atol=1e-3, rtol=0)


def test_transparent_pixels_become_white(tmp_path):
    path = write(tmp_path, "clear.png", Image.fromarray(np.zeros((10, 10, 4), np.uint8), "RGBA"))
    assert load_image(path, DOMAINS["faces"]).min() == 1.0


def test_rule_is_centre_crop_then_area_resize():
    wide = np.zeros((56, 112), np.float64)
    wide[:, 28:84] = 1.0  # the centred square is white, the sides black
    x = array_to_domain(wide, DOMAINS["mnist"])
    assert x.min() == 1.0
    ramp = np.repeat(np.arange(56, dtype=np.float64)[None, :] / 55, 56, axis=0)
    x = array_to_domain(ramp, DOMAINS["mnist"])[0, 0, 0].numpy()
    np.testing.assert_allclose(x, (ramp[0, 0::2] + ramp[0, 1::2]) / 2, atol=1e-6)  # 2×2 box average


def test_png_round_trip_is_lossless(tmp_path):
    x = torch.randint(0, 256, (1, 3, 64, 64)).float() / 255
    save_png(x, tmp_path / "x.png")
    torch.testing.assert_close(load_image(tmp_path / "x.png", DOMAINS["faces"]), x)


def test_bad_arrays_are_input_errors():
    with pytest.raises(InputError):
        array_to_domain(np.zeros((4, 4, 2)), DOMAINS["mnist"])
    with pytest.raises(InputError):
        array_to_domain(np.full((4, 4), np.nan), DOMAINS["mnist"])
