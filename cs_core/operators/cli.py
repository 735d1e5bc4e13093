"""Command-line flags of the fourier and blur operators, shared by ``reconstruct`` and ``sweep``."""
import argparse

from . import blur, fourier

FLAGS = ("accel", "center", "lines", "kernel", "size", "sigma", "length", "angle")


def add_arguments(p: argparse.ArgumentParser):
    p.add_argument("--accel", type=float, help=f"fourier: acceleration R ≥ 1, keep 1/R of the k-space lines "
                                               f"(default {fourier.DEFAULT_ACCEL:g})")
    p.add_argument("--center", type=float, help=f"fourier: fraction of lines in the fully sampled centre "
                                                f"(default {fourier.DEFAULT_CENTER:g})")
    p.add_argument("--lines", help="fourier: random (uniform) or variable (denser near the centre); default random")
    p.add_argument("--kernel", help="blur: gaussian or motion (default gaussian)")
    p.add_argument("--size", type=int, help="blur: kernel side in pixels, at most the image side "
                                            "(default 2⌈3σ⌉+1 for gaussian, the length rounded up to odd for motion)")
    p.add_argument("--sigma", type=float, help=f"blur gaussian: σ in pixels (default {blur.DEFAULT_SIGMA:g})")
    p.add_argument("--length", type=float, help=f"blur motion: length in pixels (default {blur.DEFAULT_LENGTH})")
    p.add_argument("--angle", type=float, help=f"blur motion: degrees counter-clockwise from horizontal "
                                               f"(default {blur.DEFAULT_ANGLE:g})")


def params(args) -> dict:
    """The fourier/blur entries of an operator's ``params`` (None = the operator's default)."""
    return {name: getattr(args, name) for name in FLAGS}
