"""A small random generator for solver tests that need a prior with a known range."""
import torch

from cs_core.domains import DOMAINS

MNIST = DOMAINS["mnist"]


class TinyGenerator(torch.nn.Module):
    """A small random generator R^5 → [0, 1]^{1×28×28}, frozen."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(5, 64), torch.nn.Tanh(), torch.nn.Linear(64, MNIST.n))
        self.requires_grad_(False)

    def forward(self, z):
        return torch.sigmoid(self.net(z)).reshape(-1, *MNIST.shape)
