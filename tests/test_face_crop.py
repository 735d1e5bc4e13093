"""Face crop: the largest face framed as the generator frames faces; the centre square when there is none."""
import json

import numpy as np
import pytest
from PIL import Image
from skimage import data, transform

from cs_core.cli import main
from cs_core.faces import face_crop
from cs_core.priors.sampling import sample

PASTED = (150, 300, 256)  # (top, left, side) of a generated face pasted into a 480×640 grey canvas


def pasted_face(seed: int) -> np.ndarray:
    face = transform.resize(sample("dcgan", seed)[0].permute(1, 2, 0).numpy(), (256, 256), anti_aliasing=True)
    canvas = np.full((480, 640, 3), 0.3)
    top, left, side = PASTED
    canvas[top:top + side, left:left + side] = face
    return canvas


def overlap(a, b) -> float:
    """Intersection over union of two squares (top, left, side)."""
    rows = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    cols = max(0, min(a[1] + a[2], b[1] + b[2]) - max(a[1], b[1]))
    inter = rows * cols
    return inter / (a[2] ** 2 + b[2] ** 2 - inter)


@pytest.mark.parametrize("seed", [100, 101, 102, 103])
def test_a_generated_face_in_a_larger_photo_is_cropped_back_to_its_own_frame(seed):
    crop = face_crop(pasted_face(seed))
    assert crop.face and "largest face" in crop.note
    assert overlap(crop.box, PASTED) > 0.7, crop.box
    assert crop.image.shape == (crop.box[2], crop.box[2], 3)


def test_no_face_gives_the_centre_square_and_says_so():
    ramp = np.tile(np.linspace(0, 1, 400), (300, 1))
    crop = face_crop(ramp)
    assert not crop.face and crop.box == (0, 50, 300) and "no face" in crop.note
    assert np.array_equal(crop.image, ramp[:, 50:350])


def test_the_crop_stays_inside_the_photo():
    photo = data.astronaut()  # the face sits near the top: the framed square would start above row 0
    crop = face_crop(photo[20:, :])
    top, left, side = crop.box
    assert crop.face and 0 <= top and 0 <= left and top + side <= 492 and left + side <= 512
    assert crop.image.dtype == np.uint8


def test_cli_face_crop(tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray((pasted_face(100) * 255).round().astype(np.uint8)).save(photo)
    common = ["reconstruct", "--domain", "faces", "--operator", "inpaint", "--mask", "center", "--method", "lasso-dct",
              "--iters", "5", "--lam", "0.01", "--json"]
    assert main(common + ["--image", str(photo), "--face-crop"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["face_crop"]["face"] and overlap(report["face_crop"]["box"], PASTED) > 0.6
    assert main(common + ["--image", str(photo)]) == 0
    assert "face_crop" not in json.loads(capsys.readouterr().out)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(photo.read_bytes()[:200])
    assert main(common + ["--image", str(corrupt), "--face-crop"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert main(common + ["--asset", "astronaut-face", "--face-crop"]) == 2
    assert "--image" in capsys.readouterr().err
