"""Image domains: the shape every input is converted to before it is measured."""
from dataclasses import dataclass

from .errors import InputError


@dataclass(frozen=True)
class Domain:
    name: str
    channels: int
    size: int
    description: str

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, self.size, self.size)

    @property
    def n(self) -> int:
        """Number of pixel-channel values, the ambient dimension of x."""
        return self.channels * self.size * self.size


DOMAINS = {
    "mnist": Domain("mnist", 1, 28, "MNIST digits, 1×28×28 grayscale"),
    "faces": Domain("faces", 3, 64, "faces, 3×64×64 RGB"),
}


def get_domain(name: str) -> Domain:
    try:
        return DOMAINS[name]
    except KeyError:
        raise InputError(f"unknown domain {name!r}; choose one of {', '.join(DOMAINS)}") from None
