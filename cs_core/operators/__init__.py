"""Operator registry: name → builder ``(domain, params, generator, device) → LinearOperator``.

``params`` keys: ``m`` (gaussian), ``mask``/``mask_size``/``keep`` (inpaint), ``factor`` (superres),
``accel``/``center``/``lines`` (fourier), ``kernel``/``size``/``sigma``/``length``/``angle`` (blur).
Adding an operator is one module with a ``build`` function and one line here.
"""
import sys
import textwrap

import torch

from ..domains import Domain
from ..errors import InputError
from . import blur, fourier, gaussian, inpaint, superres
from .base import LinearOperator, add_noise

OPERATORS = {
    "gaussian": gaussian.build,
    "inpaint": inpaint.build,
    "superres": superres.build,
    "fourier": fourier.build,
    "blur": blur.build,
}


def describe(names=None) -> str:
    """The registry (or the given names of it) as ``--help`` lists it: each operator with the first line of
    its module's docstring."""
    names = list(OPERATORS) if names is None else list(names)
    width = max(map(len, names)) + 2
    lines = ["registered operators:"]
    for name in names:
        title = sys.modules[OPERATORS[name].__module__].__doc__.strip().splitlines()[0]
        lines.append(textwrap.fill(f"{name:<{width}}{title}", 110, initial_indent="  ",
                                   subsequent_indent=" " * (width + 2)))
    return "\n".join(lines)


def build_operator(name: str, domain: Domain, params: dict, generator: torch.Generator,
                   device: torch.device) -> LinearOperator:
    """Build the named operator; its randomness (matrix, random mask) comes from a CPU ``generator``."""
    if name not in OPERATORS:
        raise InputError(f"unknown operator {name!r}; choose one of {', '.join(OPERATORS)}")
    return OPERATORS[name](domain, params, generator, device)


__all__ = ["OPERATORS", "LinearOperator", "add_noise", "build_operator", "describe"]
