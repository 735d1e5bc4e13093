"""The image sets of the beyond-the-range measurement.

Reported: the faces sweep's sets (``real``: the gallery's 7 real photos; ``inrange``: G(z), seeds 2000+).
Validation, never reported: ``val-inrange`` = G(z) for seeds 3000–3007 (the faces sweep's validation
faces) and ``val-real`` = 8 real photos from scikit-image's bundled data that the gallery does not use
(LFW faces 2–5 — the gallery takes 0 and 1 — and four natural images), cropped square and resized to
64×64 like the gallery's photos.
"""
import numpy as np
import torch
from PIL import Image

from ..experiments import VALIDATION_SEED, ImageSet, generated, load_images, validation_images

# name → (loader name in skimage.data, crop (top, left, side)); gray images are repeated to RGB
VALIDATION_PHOTOS = {
    "lfw-face-2": ("lfw_subset", 2, (0, 0, 25)),
    "lfw-face-3": ("lfw_subset", 3, (0, 0, 25)),
    "lfw-face-4": ("lfw_subset", 4, (0, 0, 25)),
    "lfw-face-5": ("lfw_subset", 5, (0, 0, 25)),
    "rocket": ("rocket", None, (0, 140, 427)),
    "gravel": ("gravel", None, (0, 0, 512)),
    "coins": ("coins", None, (0, 0, 300)),
    "motorcycle": ("stereo_motorcycle", 0, (0, 300, 500)),
}
SOURCES = ("val-real", "val-inrange", "real", "inrange")


def _photo(loader: str, index, box) -> torch.Tensor:
    import skimage.data as skd
    arr = getattr(skd, loader)()
    if index is not None:
        arr = arr[index]
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    top, left, side = box
    img = Image.fromarray(arr[top:top + side, left:left + side, :3]).resize((64, 64), Image.LANCZOS)
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]


def validation_photos() -> ImageSet:
    names = list(VALIDATION_PHOTOS)
    return ImageSet(names, torch.cat([_photo(*VALIDATION_PHOTOS[n]) for n in names]))


def image_set(source: str, count: int | None = None) -> ImageSet:
    """The faces images of ``source`` (one of ``SOURCES``), the first ``count`` of them when given."""
    if source == "val-real":
        data = validation_photos()
    elif source == "val-inrange":
        images = validation_images("faces")
        data = ImageSet(generated("faces", VALIDATION_SEED, len(images)).names, images)
    else:
        return load_images("faces", source, count)
    return ImageSet(data.names[:count], data.images[:count]) if count else data
