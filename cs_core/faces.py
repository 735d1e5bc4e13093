"""Crop a photo to its largest face, framed as the face generator frames its faces.

Faces are found by scikit-image's LBP frontal-face cascade (``skimage.data.lbp_frontal_face_cascade_filename``)
on a grey copy of the photo scaled to ``DETECT_SIDE`` pixels on its shorter side. The framing was measured on the
generator's own faces: on G(z) for z from seeds 100–139 (upscaled to 256², the cascade found 20 of 40), the
largest box has median side ``FACE_SIDE`` = 0.66 of the frame and median centre at ``FACE_CENTRE`` = (0.575, 0.50)
of its (height, width). The crop is the square that puts the photo's face box there; it is shifted to stay
inside the photo, and shrunk to the photo's shorter side if it would not fit. No face found: the centre square,
with a note saying so.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

FACE_SIDE = 0.66
FACE_CENTRE = (0.575, 0.50)
DETECT_SIDE = 320
MIN_FACE = 24  # smallest face side the cascade looks for, in pixels of the detection copy


@dataclass(frozen=True)
class Crop:
    image: np.ndarray          # the square crop (S, S[, C]), same dtype as the photo
    box: tuple[int, int, int]  # (top, left, side) in the photo
    face: bool                 # whether a face was found
    note: str                  # what was done, for a status line


@lru_cache(maxsize=1)
def _detector():
    from skimage import data, feature
    return feature.Cascade(data.lbp_frontal_face_cascade_filename())


def largest_face(photo: np.ndarray) -> tuple[float, float, float, float] | None:
    """(top, left, height, width) of the largest face the cascade finds in ``photo`` (H, W[, C]), in the photo's
    pixels, or None."""
    from skimage import color, transform
    grey = np.asarray(photo, dtype=np.float64)
    if grey.max() > 1:
        grey = grey / 255.0
    if grey.ndim == 3:
        grey = color.rgb2gray(grey[..., :3]) if grey.shape[2] >= 3 else grey[..., 0]
    scale = DETECT_SIDE / min(grey.shape)
    small = transform.rescale(grey, scale, anti_aliasing=scale < 1) if scale != 1 else grey
    found = _detector().detect_multi_scale(img=small, scale_factor=1.2, step_ratio=1, min_size=(MIN_FACE, MIN_FACE),
                                           max_size=small.shape)
    if not found:
        return None
    best = max(found, key=lambda f: f["width"] * f["height"])
    return best["r"] / scale, best["c"] / scale, best["height"] / scale, best["width"] / scale


def face_crop(photo: np.ndarray) -> Crop:
    """The square around the largest face, framed like the generator's faces; else the centre square."""
    h, w = photo.shape[:2]
    face = largest_face(photo) if min(h, w) >= MIN_FACE else None
    if face is None:
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        note = "no face found: the centre square is used"
    else:
        r, c, fh, fw = face
        side = int(round(min(max(fh, fw) / FACE_SIDE, h, w)))
        top = int(round(r + fh / 2 - FACE_CENTRE[0] * side))
        left = int(round(c + fw / 2 - FACE_CENTRE[1] * side))
        top, left = min(max(top, 0), h - side), min(max(left, 0), w - side)
        note = f"cropped to the largest face ({side}×{side} pixels at row {top}, column {left})"
    return Crop(photo[top:top + side, left:left + side], (top, left, side), face is not None, note)



def load_input(domain, image: str | None = None, asset: str | None = None, crop_face: bool = False):
    """The truth ``(1, C, S, S)`` as :func:`cs_core.assets.load_truth` gives it, and None; with ``crop_face`` the
    photo at path ``image`` is first cropped by :func:`face_crop` (faces domain only), and the :class:`Crop` comes
    second (its note says whether a face was found)."""
    from .assets import load_truth
    from .errors import InputError
    from .images import array_to_domain, load_image_array
    if not crop_face:
        return load_truth(domain, image=image, asset=asset), None
    if domain.name != "faces":
        raise InputError(f"the face crop frames a photo for the faces domain; use it with domain faces, not {domain.name}")
    if not image:
        raise InputError("the face crop needs a photo (--image; the gallery's images are framed already)")
    crop = face_crop(load_image_array(image))
    return array_to_domain(crop.image, domain), crop
