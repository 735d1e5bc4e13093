"""The settings of one reconstruction, declared once: the app's Reconstruct form, its API, its link, its
examples, the load test and the CLI's problem flags are all derived from ``FIELDS``.

A row names a setting (``name``, also the app's API parameter), its type and default, its static limits,
its CLI flag, its link key, the operator (and the choice of that operator) it belongs to, and its help.
``Field.check`` is the one validator of a setting (type, finiteness, static range); the limits that depend on
the domain (m ≤ n, a factor dividing the side, …) are checked by the operator itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, make_dataclass
from dataclasses import field as dc_field
from typing import Any

from .devices import DEVICE_CHOICES
from .domains import DOMAINS
from .errors import InputError
from .operators import OPERATORS
from .operators import blur, fourier
from .solvers import MAX_ITERATIONS, MAX_RESTARTS, Options

MASKS = ("center", "random", "drawn")


@dataclass(frozen=True)
class Field:
    name: str                          # the setting's name: attribute, API parameter, form field
    kind: type                         # int, float, str, list (of str) or object (a picture / a file)
    default: Any = None                # None: the method's / operator's own default
    label: str = ""                    # how errors name it
    flag: str | None = None            # the CLI flag (``reconstruct``)
    key: str | None = None             # the link's query key
    operator: str | None = None        # the operator whose params it is
    choice: tuple[str, str] | None = None  # (field, value): it matters only with that choice
    choices: tuple[str, ...] = ()      # the values allowed (a choice field)
    low: float | None = None           # static limits (inclusive unless ``above``)
    high: float | None = None
    above: bool = False                # the value must be > low
    advanced: bool = False             # an override of the methods' defaults (Options)
    blank: bool = False                # left blank it means the core's default (the form keeps it as typed text)
    param: str | None = None           # its name in the operator's params / ``Options``, if not ``name``
    help: str = ""

    @property
    def target(self) -> str:
        return self.param or self.name

    def check(self, value):
        """The value as the core takes it (None = the default), or an ``InputError`` naming the field and its range."""
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "" or (self.kind is list and value == []):
            return None if self.kind is not list else []
        if self.kind is int:
            value = _whole(value, self.label)
        elif self.kind is float:
            value = _number(value, self.label)
        elif self.kind is list:
            value = [str(v).strip() for v in (value.split(",") if isinstance(value, str) else value) if str(v).strip()]
        elif self.kind is str:
            value = str(value)
        if self.choices and value not in self.choices:
            *others, last = self.choices
            raise InputError(f"unknown {self.label} {value!r}; choose {', '.join(others)} or {last}")
        if self.kind in (int, float):
            self._in_range(value)
        return value

    def allowed(self) -> str:
        """What the field accepts, as errors say it: "a whole number from 2 to 1000", "gd, adam or negation"."""
        if self.choices:
            *others, last = self.choices
            return f"{', '.join(others)} or {last}" if others else last
        low, high = (None if v is None else f"{v:d}" if isinstance(v, int) else f"{v:g}" for v in (self.low, self.high))
        if low is not None and high is not None and not self.above:
            limits = [f"from {low} to {high}"]
        else:
            limits = [f"{'>' if self.above else '≥'} {low}"] if low is not None else []
            limits += [f"≤ {high}"] if high is not None else []
        what = "a whole number" if self.kind is int else "a finite number"
        return " ".join([what, " and ".join(limits)]).strip()

    def _in_range(self, value):
        low_ok = self.low is None or value > self.low or (value == self.low and not self.above)
        if math.isfinite(value) and low_ok and (self.high is None or value <= self.high):
            return
        raise InputError(f"{self.label} must be {self.allowed()}; got {value}")


def _whole(value, what: str) -> int:
    if isinstance(value, bool):
        raise InputError(f"{what} must be a whole number; got {value!r}")
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a whole number (or blank for the default); got {value!r}") from None
    if not number.is_integer():
        raise InputError(f"{what} must be a whole number (or blank for the default); got {value!r}")
    return int(number)


def _number(value, what: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"{what} must be a number; got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number (or blank for the default); got {value!r}") from None


F = Field
FIELDS: tuple[Field, ...] = (  # the order of the app's /reconstruct API parameters
    F("asset", str, label="gallery image", flag="--asset", key="asset",
      help="name of a gallery image in assets/manifest.json"),
    F("upload", object, label="image", flag="--image",
      help="path of a PNG/JPEG image (converted to the domain's shape)"),
    F("domain", str, "mnist", "domain", "--domain", "domain", choices=tuple(DOMAINS)),
    F("operator", str, "gaussian", "operator", "--operator", "op", choices=tuple(OPERATORS),
      help=f"one of {', '.join(OPERATORS)}"),
    F("m", int, None, "m", "--m", "m", "gaussian", help="gaussian: number of measurements"),
    F("mask", str, "center", "mask", "--mask", "mask", "inpaint", choices=MASKS,
      help="inpaint: center (hide a centred square), random (keep pixels at random) or drawn (the picture given by "
           "--mask-image)"),
    F("mask_size", int, None, "mask size", "--mask-size", "mask_size", "inpaint", ("mask", "center"),
      help="inpaint center: side of the hidden square (default half the side)"),
    F("keep", float, 0.5, "keep fraction", "--keep", "keep", "inpaint", ("mask", "random"), low=0, high=1.0, above=True,
      help="inpaint random: probability a pixel is kept, in (0, 1] (default 0.5)"),
    F("factor", int, 2, "factor", "--factor", "factor", "superres",
      help="superres: block-average factor, divides the side (default 2)"),
    F("noise", float, 0.0, "noise σ", "--noise", "noise", low=0,
      help="σ of Gaussian noise added to each measurement"),
    F("methods", list, None, "methods", "--method", "methods",
      help="a method (listed below) that fits --domain; repeatable"),
    F("iterations", int, None, "iterations", "--iters", "iters", low=1, high=MAX_ITERATIONS, advanced=True,
      blank=True, help="iterations of every method (what one is, and the default: below)"),
    F("restarts", int, None, "restarts", "--restarts", "restarts", low=1, high=MAX_RESTARTS, advanced=True,
      blank=True, help="CSGM random restarts (default per prior)"),
    F("lr", float, None, "learning rate", "--lr", "lr", low=0, above=True, advanced=True, blank=True,
      help="learning rate of CSGM's and DIP's optimiser (default per method)"),
    F("lam", float, None, "λ (lam)", "--lam", "lam", low=0, advanced=True, blank=True,
      help="Lasso's ℓ1 weight λ (default: chosen per image, by cross-validation or the discrepancy principle, "
           "see README)"),
    F("csgm_lam", float, None, "CSGM λ", "--csgm-lam", "csgm_lam", low=0, advanced=True, blank=True,
      help="CSGM's ‖z‖² weight (default per prior)"),
    F("seed", int, 0, "seed", "--seed", "seed", help="seed of the matrix/mask, noise and solver starts"),
    F("device", str, "auto", "device", "--device", choices=tuple(DEVICE_CHOICES)),
    F("mask_editor", object, label="drawn mask", flag="--mask-image", operator="inpaint", choice=("mask", "drawn"),
      param="mask_image", help="inpaint: a picture of the region to hide (white = hidden; any size, centre-cropped "
                               "and area-resized; implies --mask drawn)"),
    F("accel", float, fourier.DEFAULT_ACCEL, "acceleration R (--accel)", "--accel", "accel", "fourier", low=1,
      help=f"fourier: acceleration R ≥ 1, keep 1/R of the k-space lines (default {fourier.DEFAULT_ACCEL:g})"),
    F("center", float, fourier.DEFAULT_CENTER, "centre fraction (--center)", "--center", "center", "fourier",
      low=0, high=1,
      help=f"fourier: fraction of lines in the fully sampled centre (default {fourier.DEFAULT_CENTER:g})"),
    F("lines", str, "random", "line pattern", "--lines", "lines", "fourier", choices=fourier.LINE_PATTERNS,
      help="fourier: random (uniform) or variable (denser near the centre); default random"),
    F("kernel", str, "gaussian", "blur kernel", "--kernel", "kernel", "blur", choices=blur.KERNELS,
      help="blur: gaussian or motion (default gaussian)"),
    F("blur_size", int, None, "blur kernel size (--size)", "--size", "blur_size", "blur", low=1, blank=True,
      param="size",
      help="blur: kernel side in pixels, at most the image side (default 2⌈3σ⌉+1 for gaussian, the length rounded "
           "up to odd for motion)"),
    F("sigma", float, blur.DEFAULT_SIGMA, "blur σ (--sigma)", "--sigma", "sigma", "blur", ("kernel", "gaussian"),
      low=0.1, help=f"blur gaussian: σ in pixels (default {blur.DEFAULT_SIGMA:g})"),
    F("length", float, blur.DEFAULT_LENGTH, "motion length (--length)", "--length", "length", "blur",
      ("kernel", "motion"), low=1, help=f"blur motion: length in pixels (default {blur.DEFAULT_LENGTH})"),
    F("angle", float, blur.DEFAULT_ANGLE, "motion angle (--angle, degrees)", "--angle", "angle", "blur",
      ("kernel", "motion"), low=-360, high=360,
      help=f"blur motion: degrees counter-clockwise from horizontal (default {blur.DEFAULT_ANGLE:g})"),
)
del F
BY_NAME = {f.name: f for f in FIELDS}
OPTIONS_FIELDS = tuple(f for f in FIELDS if f.advanced)


def operator_fields(operator: str) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if f.operator == operator)


class _Settings:
    """One reconstruction's settings, one attribute per row of ``FIELDS``, each checked by its ``Field``
    (None = the default of the method or operator)."""

    @classmethod
    def checked(cls, values: dict):
        """Settings from raw values by field name (absent = the field's default), each through its validator;
        an unused operator's fields are not checked (the form keeps them at whatever they show)."""
        operator = BY_NAME["operator"].check(values.get("operator", BY_NAME["operator"].default))
        out = {}
        for f in FIELDS:
            raw = values.get(f.name, f.default)
            out[f.name] = f.check(raw) if f.operator in (None, operator) and f.kind is not object else raw
        return cls(**out)

    def params(self) -> dict:
        """The operator's params (as the CLI's flags give them): its own fields, by their core names."""
        return {f.target: getattr(self, f.name) for f in operator_fields(self.operator)}

    def options(self) -> Options:
        return Options(**{f.target: getattr(self, f.name) for f in OPTIONS_FIELDS})



ReconstructSettings = make_dataclass("ReconstructSettings", [(f.name, f.kind | None, dc_field(default=f.default))
                                                             for f in FIELDS], bases=(_Settings,))
