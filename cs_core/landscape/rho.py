"""Where the spurious basin sits: ρ_d from the angle recursion of Hand & Voroninski.

.. math::
    \\check\\theta_0 = \\pi,\\quad \\check\\theta_i = g(\\check\\theta_{i-1}),\\quad
    g(\\theta) = \\arccos\\frac{(\\pi - \\theta)\\cos\\theta + \\sin\\theta}{\\pi},

    \\rho_d = \\sum_{i=0}^{d-1} \\frac{\\sin\\check\\theta_i}{\\pi}
              \\prod_{j=i+1}^{d-1} \\frac{\\pi - \\check\\theta_j}{\\pi}.

For a d-layer random expansive ReLU net the risk has a second critical region near −ρ_d z*.
ρ_1 = 0, ρ_2 = 1/π, and ρ_d increases to 1.
"""
import math

from ..errors import InputError

MAX_DEPTH = 1000


def angle_map(theta: float) -> float:
    """g(θ): the angle between relu(Wx) and relu(Wx') in expectation, given the angle θ between x and x'."""
    cosine = ((math.pi - theta) * math.cos(theta) + math.sin(theta)) / math.pi
    return math.acos(min(1.0, max(-1.0, cosine)))


def rho(depth: int) -> float:
    """ρ_d for a ``depth``-layer net (depth ≥ 1)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise InputError(f"depth must be a whole number from 1 to {MAX_DEPTH}; got {depth}")
    angles = [math.pi]
    for _ in range(depth - 1):
        angles.append(angle_map(angles[-1]))
    total = 0.0
    for i in range(depth):
        product = math.prod((math.pi - angles[j]) / math.pi for j in range(i + 1, depth))
        total += math.sin(angles[i]) / math.pi * product
    return total
