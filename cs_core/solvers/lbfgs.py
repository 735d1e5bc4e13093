"""Batched L-BFGS with a backtracking (Armijo) line search, one function evaluation per call.

Minimises N independent smooth functions f_i(z_i), z ∈ R^{N×d}, together: every call to
:meth:`BatchedLBFGS.step` takes the values and gradients at the point it proposed last and
proposes the next one, so a caller evaluates the whole batch once per step (one forward and one
backward pass) and can stream between steps. Each row keeps its own memory of the last
``history`` pairs (s, y) and its own step length t; a row whose trial point fails the sufficient
decrease f(z + t d) ≤ f(z) + c t ∇f·d shrinks t (quadratic interpolation, kept in [0.1 t, 0.5 t])
and tries again, a row that passes moves there and takes a new quasi-Newton direction
d = −H ∇f (two-loop recursion, H₀ = (sᵀy / yᵀy) I).
"""
import torch

ARMIJO = 1e-4
CURVATURE_FLOOR = 1e-10   # a pair (s, y) enters the memory only if sᵀy > this · ‖s‖‖y‖


class BatchedLBFGS:
    """L-BFGS state for a batch of rows; ``first_step`` is the length of the first step (along −∇f)."""

    def __init__(self, z: torch.Tensor, history: int = 10, first_step: float = 1.0):
        rows, dim = z.shape
        self.z = z.detach().clone()          # accepted point, (N, d)
        self.f = None                        # (N,) objective at the accepted point
        self.g = None                        # (N, d) gradient there
        self.d = torch.zeros_like(self.z)    # search direction
        self.t = torch.ones(rows, dtype=z.dtype, device=z.device)
        self.s = z.new_zeros((rows, history, dim))
        self.y = z.new_zeros((rows, history, dim))
        self.rho = z.new_zeros((rows, history))  # 1 / sᵀy, 0 for an empty slot
        self.first_step = first_step

    def keep(self, rows: torch.Tensor):
        """Keep only the rows ``rows`` (indices), memory included."""
        for name in ("z", "f", "g", "d", "t", "s", "y", "rho"):
            setattr(self, name, getattr(self, name)[rows])

    def trial(self) -> torch.Tensor:
        """The point to evaluate next, (N, d)."""
        return self.z + self.t[:, None] * self.d

    def step(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Take f and ∇f at ``trial()`` (shapes (N,), (N, d)); return the next trial point."""
        f, g = f.detach(), g.detach()
        if self.f is None:  # the starting point
            self.f, self.g = f.clone(), g.clone()
            self._new_direction(torch.ones_like(f, dtype=torch.bool))
            return self.trial()
        slope = (self.g * self.d).sum(1)
        accept = torch.isfinite(f) & (f <= self.f + ARMIJO * self.t * slope)
        # Rejected rows: shrink t by the minimiser of the quadratic through f(z), its slope and f(trial).
        denom = 2 * (f - self.f - slope * self.t)
        shrink = torch.where(torch.isfinite(denom) & (denom > 0), -slope * self.t ** 2 / denom, 0.5 * self.t)
        shrunk = torch.minimum(torch.maximum(shrink, 0.1 * self.t), 0.5 * self.t)
        if accept.any():
            s = self.t[:, None] * self.d
            y = g - self.g
            sy = (s * y).sum(1)
            store = accept & (sy > CURVATURE_FLOOR * s.norm(dim=1) * y.norm(dim=1))
            keep = store[:, None, None]
            self.s = torch.where(keep, torch.cat([self.s[:, 1:], s[:, None]], 1), self.s)
            self.y = torch.where(keep, torch.cat([self.y[:, 1:], y[:, None]], 1), self.y)
            new_rho = torch.cat([self.rho[:, 1:], (1 / sy.clamp_min(1e-30))[:, None]], 1)
            self.rho = torch.where(store[:, None], new_rho, self.rho)
            self.z = torch.where(accept[:, None], self.z + s, self.z)
            self.f = torch.where(accept, f, self.f)
            self.g = torch.where(accept[:, None], g, self.g)
            self.t = torch.where(accept, torch.ones_like(self.t), shrunk)
            self._new_direction(accept)
        else:
            self.t = shrunk
        return self.trial()

    def _new_direction(self, rows: torch.Tensor):
        """d = −H∇f for ``rows`` (a bool mask); steepest descent where the memory is empty or not a descent."""
        q = self.g.clone()
        alpha = torch.zeros_like(self.rho)
        for i in reversed(range(self.rho.shape[1])):
            alpha[:, i] = self.rho[:, i] * (self.s[:, i] * q).sum(1)
            q -= alpha[:, i, None] * self.y[:, i]
        newest_y = self.y[:, -1]
        has_memory = self.rho[:, -1] > 0
        gamma = torch.where(has_memory, 1 / (self.rho[:, -1] * (newest_y * newest_y).sum(1)).clamp_min(1e-30),
                            torch.zeros_like(self.rho[:, -1]))
        r = gamma[:, None] * q
        for i in range(self.rho.shape[1]):
            beta = self.rho[:, i] * (self.y[:, i] * r).sum(1)
            r += self.s[:, i] * (alpha[:, i] - beta)[:, None]
        steepest = -self.g * (self.first_step / self.g.norm(dim=1, keepdim=True).clamp_min(1e-30))
        descent = has_memory & ((r * self.g).sum(1) > 0)
        d = torch.where(descent[:, None], -r, steepest)
        fresh = rows & ~descent  # restart the memory of a row that fell back to steepest descent
        self.rho = torch.where(fresh[:, None], torch.zeros_like(self.rho), self.rho)
        self.d = torch.where(rows[:, None], d, self.d)
