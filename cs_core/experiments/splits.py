"""The images the experiments report on and tune on: one definition of each split and seed range.

- Seeds of G(z): the gallery draws below ``EVAL_SEED``; the reported in-range images are ``EVAL_SEED`` + i;
  the validation faces are ``VALIDATION_SEED`` + i (``VALIDATION_IMAGES`` of them). The bench's face is the
  first reported one.
- ``heldout`` = MNIST test split (never trained or tuned on); ``inrange`` = G(z) of the domain's prior;
  ``real`` = the gallery's real photos of the domain. Validation: the MNIST val split, or the faces above.
- The beyond-the-range measurement tunes on two more faces sets: ``val-inrange`` (the validation faces)
  and ``val-real`` = 8 real photos from scikit-image's bundled data that the gallery does not use (LFW faces
  2–5 — the gallery takes 0 and 1 — and four natural images), cropped square and resized to 64×64 like
  the gallery's photos.
- Per-image randomness: image ``index`` of a split is measured with its own A (or MRI mask), its own noise and
  its own solver starts, all drawn from ``image_seed(seed, split, index)`` (``problem.stream``), so a row is
  reproducible alone and no two images (in one split or across splits) share a matrix. Every split has its own
  nonzero code (``SPLIT_CODES``): validation draws are disjoint from test draws by construction.
"""
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..assets import EVAL_SEED_MIN, list_assets
from ..domains import get_domain
from ..errors import InputError
from ..images import load_image

EVAL_SEED, VALIDATION_SEED = EVAL_SEED_MIN, 3000
VALIDATION_IMAGES = 8
SOURCES = ("heldout", "inrange", "real")
BEYOND_SOURCES = ("val-real", "val-inrange", "real", "inrange")
# name → (loader name in skimage.data, index or None, crop (top, left, side)); gray images are repeated to RGB
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

# split → code in the image seed; the faces validation set is ``validation`` (``val-inrange`` in the beyond sets);
# ``gallery``: the app's whole gallery (the λ check)
SPLIT_CODES = {"heldout": 1, "inrange": 2, "real": 3, "validation": 4, "val-inrange": 4, "val-real": 5,
               "gallery": 6}
INDEX_BITS, SPLIT_BITS = 20, 3  # up to 2²⁰ images per split, 7 split codes


def image_seed(seed: int, split: str, index: int) -> int:
    """The seed of image ``index`` of ``split`` under the experiment's ``seed``: seed·2²³ + code·2²⁰ + index
    (distinct for every (seed, split, index); never a plain small seed, as the code is ≥ 1)."""
    if split not in SPLIT_CODES:
        raise InputError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_CODES)}")
    if not 0 <= index < 2 ** INDEX_BITS or seed < 0:
        raise InputError(f"an image seed needs seed ≥ 0 and 0 ≤ index < {2 ** INDEX_BITS}; got {seed}, {index}")
    return (int(seed) << (INDEX_BITS + SPLIT_BITS)) | (SPLIT_CODES[split] << INDEX_BITS) | int(index)


def seed_parts(value: int) -> tuple[int, int, int]:
    """(seed, split code, index) of an image seed; the code is 0 when ``value`` is not one (a plain seed)."""
    value = int(value)
    return (value >> (INDEX_BITS + SPLIT_BITS), (value >> INDEX_BITS) & (2 ** SPLIT_BITS - 1),
            value & (2 ** INDEX_BITS - 1))


def image_seeds(seed: int, split: str, count: int) -> list[int]:
    """The seeds of the first ``count`` images of ``split``."""
    return [image_seed(seed, split, i) for i in range(count)]


def check_image_seeds(rows: list[dict], path) -> None:
    """Refuse to add to ``path`` when a row of it was not drawn from an image seed (one A shared by a batch):
    rows of the two protocols never mix in one file."""
    shared = sum(1 for r in rows if r.get("seed", "") != "" and not seed_parts(r["seed"])[1])
    if shared:
        raise InputError(f"{path} holds {shared} rows whose seed is not an image seed (measured with one A shared by "
                         f"the batch); use another --out")


@dataclass
class ImageSet:
    names: list[str]
    images: torch.Tensor  # (N, C, H, W) in [0, 1]

    def first(self, count: int | None) -> "ImageSet":
        return ImageSet(self.names[:count], self.images[:count]) if count else self


def prior_of(domain: str):
    from ..priors import PRIORS
    for prior in PRIORS.values():
        if prior.domain == domain:
            return prior
    raise InputError(f"no generative prior for {domain}")


def generated(domain: str, first_seed: int, count: int) -> ImageSet:
    from ..priors.sampling import sample
    prior = prior_of(domain)
    seeds = range(first_seed, first_seed + count)
    images = torch.cat([sample(prior.name, s, torch.device("cpu")) for s in seeds])
    return ImageSet([f"{prior.name}-seed-{s}" for s in seeds], images)


def load_images(domain: str, source: str, count: int | None) -> ImageSet:
    """The images a sweep reports on (see the module docstring)."""
    if source == "heldout":
        if domain != "mnist":
            raise InputError("--source heldout exists for mnist only; use inrange or real for faces")
        from ..priors.mnist_data import load_split
        images, labels, rows = load_split("test")
        count = count or len(rows)
        return ImageSet([f"test-row-{r}" for r in rows[:count]], images[:count])
    if source == "inrange":
        return generated(domain, EVAL_SEED, count or 32)
    if source == "real":
        photos = [a for a in list_assets(domain) if not a.in_range]
        if not photos:
            raise InputError(f"the gallery has no real photos for {domain}")
        photos = photos[:count] if count else photos
        return ImageSet([a.name for a in photos], torch.cat([load_image(a.path, get_domain(domain)) for a in photos]))
    raise InputError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")


def validation_set(domain: str) -> ImageSet:
    """The images λ and the other hyper-parameters are chosen on, never reported."""
    if domain == "mnist":
        from ..priors.mnist_data import load_split
        images = load_split("val")[0][:VALIDATION_IMAGES]
        return ImageSet([f"validation-{i}" for i in range(len(images))], images)
    return generated(domain, VALIDATION_SEED, VALIDATION_IMAGES)


def validation_images(domain: str) -> torch.Tensor:
    return validation_set(domain).images


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
    """The faces images of ``source`` (one of ``BEYOND_SOURCES``), the first ``count`` of them when given."""
    if source == "val-real":
        return validation_photos().first(count)
    if source == "val-inrange":
        return validation_set("faces").first(count)
    return load_images("faces", source, count)
