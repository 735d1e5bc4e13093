"""Operator registry: name → builder ``(domain, params, generator, device) → LinearOperator``.

``params`` keys: ``m`` (gaussian), ``mask``/``mask_size``/``keep`` (inpaint), ``factor`` (superres),
``accel``/``center``/``lines`` (fourier), ``kernel``/``size``/``sigma``/``length``/``angle`` (blur).
Adding an operator is one module with a ``build`` function and one line here.
"""
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


def build_operator(name: str, domain: Domain, params: dict, generator: torch.Generator,
                   device: torch.device) -> LinearOperator:
    """Build the named operator; its randomness (matrix, random mask) comes from a CPU ``generator``."""
    if name not in OPERATORS:
        raise InputError(f"unknown operator {name!r}; choose one of {', '.join(OPERATORS)}")
    return OPERATORS[name](domain, params, generator, device)


__all__ = ["OPERATORS", "LinearOperator", "add_noise", "build_operator"]
