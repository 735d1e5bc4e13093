"""The paper's figures as one-click presets, each the dict of the form fields it sets (the rest keep the form's
defaults)."""
from __future__ import annotations

from cs_core.settings import FIELDS
from cs_core.solvers import METHODS

from . import form
from .gallery import pick_asset

FACES3 = ["lasso-dct", "lasso-wavelet", "csgm-dcgan"]
UNTRAINED = ["lasso-wavelet", "tv", "dip", "csgm-dcgan"]
BEYOND = ["csgm-dcgan", "sparse-gen-dcgan", "finetune-dcgan", "oracle-dcgan"]
FACES = dict(domain="faces", m=500, mask_size=32, factor=4)
POSTERIOR = dict(mask_size=14, factor=2, methods=["csgm-vae", "posterior-vae"])
BLANK = {f.name: "" for f in FIELDS if f.blank}  # the fields an example leaves alone keep the rows' defaults


def presets() -> list[tuple[str, dict]]:
    return [
        ("MNIST digit · m = 100 · Lasso vs VAE",
         dict(asset=pick_asset("mnist", "digit-test-1591", nth=5), domain="mnist", m=100, mask_size=14, factor=2,
              methods=["lasso-pixel", "lasso-dct", "csgm-vae"])),
        ("Face · m = 500 · DCT vs wavelet vs DCGAN",
         dict(asset=pick_asset("faces", "face-gen-seed-1000", nth=0), methods=FACES3, **FACES)),
        ("Face · 32×32 centre hole",
         dict(asset=pick_asset("faces", "face-gen-seed-1001", nth=1), operator="inpaint", methods=FACES3, **FACES)),
        ("Face · super-resolution ×4",
         dict(asset=pick_asset("faces", "face-gen-seed-1002", nth=2), operator="superres", methods=FACES3, **FACES)),
        ("Real photo · m = 500 · representation error",
         dict(asset=pick_asset("faces", "astronaut-face", in_range=False), methods=FACES3, **FACES)),
        ("MRI ×4",
         dict(asset=pick_asset("faces", "face-gen-seed-1003", nth=3), operator="fourier", noise=0.01,
              methods=UNTRAINED, accel=4, center=0.08, lines="random", **FACES)),
        ("Deblur",
         dict(asset=pick_asset("faces", "lfw-face-0", in_range=False), operator="blur", noise=0.01,
              methods=UNTRAINED, kernel="motion", length=9, angle=30, **FACES)),
        # The posterior's K samples at σ = 0.5 per measurement: at m = 25 (near the latent's 20 dimensions A's
        # smallest singular values are small) what fits y is a 6, a 5 or a 3 (importance sampling puts 47, 31 and
        # 23 % of the posterior on them); at m = 400 it is a 6. σ chosen on validation draws, the digit among the
        # gallery's 12 (docs/RESULTS.md, "Posterior sampling")
        ("MNIST · m = 25 · what fits y",
         dict(asset=pick_asset("mnist", "digit-test-3075", nth=8), domain="mnist", m=25, noise=0.5, **POSTERIOR)),
        ("MNIST · m = 400 · the samples agree",
         dict(asset=pick_asset("mnist", "digit-test-3075", nth=8), domain="mnist", m=400, noise=0.5, **POSTERIOR)),
        # CSGM's first phase shortened to 200 steps × 1 restart so that four methods finish in about a minute
        # on one CPU core (each range-extending method runs its own CSGM first; see docs/app.md)
        ("Real photo · m = 2500 · CSGM vs Sparse-Gen vs fine-tuned",
         dict(asset=pick_asset("faces", "astronaut-face", in_range=False), noise=0.01, methods=BEYOND,
              iterations="200", restarts="1", **{**FACES, "m": 2500})),
    ]


def examples() -> tuple[list[list], list[str]]:
    """The presets whose images are in the gallery, as rows of ``form.EXAMPLE_NAMES`` values, and their labels."""
    rows, labels = [], []
    for label, fields in presets():
        if fields["asset"] is None:
            continue
        fields = {**fields, "methods": [n for n in fields["methods"] if n in METHODS]}
        rows.append(form.row(fields, BLANK))
        labels.append(label)
    return rows, labels
