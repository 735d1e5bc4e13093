"""Working sets (``WorkingSetStep``) and the step rules by name (``STEPS``)."""
from dataclasses import replace

import torch

from ...bases import Basis, PixelBasis
from ...problem import Problem
from .steps import BacktrackingStep, PowerStep, rayleigh_floor

WORKING_SET_GROWTH = 100  # coefficients a working set gains at least when it grows
WORKING_SET_CHECK = 10    # FISTA iterations on the working sets between checks of the whole gradient, doubled
WORKING_SET_CHECK_MAX = 80  # after each check that finds nothing to add, up to this
WORKING_SET_LIMIT = 2 ** 26  # entries at most in the working sets' columns (268 MB in float32)
SHARED_BATCH = 10  # images over which one product with a shared matrix costs about one pass over it (CPU, measured)


class WorkingSetStep:
    """Backtracking FISTA on a working set W of coefficients per image, grown where the optimality condition
    |∇ⱼf(c)| ≤ λ fails outside it (the working sets of Massias, Gramfort & Salmon 2018, with FISTA inside). An
    iteration costs two products with the image's m × |W| columns of AΨ instead of two passes over A and Ψ.
    Every ``WORKING_SET_CHECK`` iterations (twice as many after a check that adds nothing, up to
    ``WORKING_SET_CHECK_MAX``) one pass ΨᵀAᵀr checks the whole gradient, and each image with violators gains its
    worst ones: at least ``WORKING_SET_GROWTH``, at most as many as it has non-zeros, and only those violating
    by more than the iterate is from optimal on W (so the set grows only as fast as the iterate can tell).
    New coefficients start at 0, so AΨc and the momentum carry over; once the sets stop growing FISTA's
    O(1/k²) bound holds from there, and once nothing outside W violates the minimiser on W is the Lasso's.
    Needs ``operator.design`` (Gaussian A); ``working_set_or_full`` chooses."""

    def __init__(self, problem: Problem, basis: Basis, coeffs: torch.Tensor):
        self.problem, self.basis, self.coeffs = problem, basis, coeffs
        self.design = problem.operator.design(basis)  # AΨ (m, n)
        batch, device = coeffs.shape[0], coeffs.device
        self.size = torch.zeros(batch, dtype=torch.long, device=device)  # |W| per image
        self.index = torch.zeros((batch, 0), dtype=torch.long, device=device)  # W in slots < size, then 0
        self.columns = torch.zeros((batch, self.design.shape[0], 0), device=device)  # AΨ's columns ``index``, then 0
        self.floor = rayleigh_floor(problem, basis, coeffs)  # of all of A, so that a batch matches each image alone
        self.inner: BacktrackingStep | None = None
        self.since_check = torch.zeros(batch, dtype=torch.long, device=device)  # each image on its own schedule
        self.interval = torch.full((batch,), WORKING_SET_CHECK, dtype=torch.long, device=device)

    def step(self, lam: torch.Tensor) -> torch.Tensor:
        """One FISTA iteration on the working sets (after growing them, when due); returns the new iterate c."""
        due = self.since_check >= self.interval
        if self.inner is None or due.any():
            self._grow(lam, due)
        on_set = self.inner.step(lam).flatten(1)
        self.since_check += 1
        flat = torch.zeros_like(self.coeffs.flatten(1)).scatter_add_(1, self.index, on_set)
        self.coeffs = flat.reshape(self.coeffs.shape)
        return self.coeffs

    def _grow(self, lam, due):
        """Check the images that are ``due`` (all, at the start) and grow the sets of those with violators."""
        op, basis, y = self.problem.operator, self.basis, self.problem.y
        flat = self.coeffs.flatten(1)
        if self.inner is None:
            due = torch.ones_like(due)
        self.since_check[due] = 0
        if self.inner:
            self.inner.refresh()
        measured = self.inner.a_coeffs if self.inner else op.A(basis.synthesis(self.coeffs)).double()
        gradient = basis.analysis(op.A_adjoint((measured - y.double()).to(flat.dtype))).flatten(1)
        lam = lam.reshape(-1, 1)
        member = flat != 0  # with a warm start: its support joins at once
        image, slot = (torch.arange(self.index.shape[1], device=flat.device) < self.size[:, None]).nonzero(as_tuple=True)
        member[image, self.index[image, slot]] = True
        excess = gradient.abs() - lam
        # how far the iterate is from optimal on its set (0 ∈ ∇ⱼf + λ∂|cⱼ|): outside coefficients join only when
        # they violate by more, so that the set grows while the iterate is good enough to tell
        inexact = torch.where(flat != 0, (gradient + lam * flat.sign()).abs(), excess.clamp_min(0))
        tolerance = torch.where(member, inexact, 0).amax(1, keepdim=True)
        excess[member] = -torch.inf
        violators = (excess > tolerance).sum(1) * due
        complete = due & (violators == 0)  # for now: check half as often
        self.interval[complete] = (2 * self.interval[complete]).clamp_max(WORKING_SET_CHECK_MAX)
        self.interval[violators > 0] = WORKING_SET_CHECK
        if self.inner is not None and not violators.any():
            return
        grow = torch.minimum(violators, (flat != 0).sum(1).clamp_min(WORKING_SET_GROWTH))
        if self.inner is None:  # never empty: the largest gradient joins even when λ ≥ λ_max
            grow = grow.clamp_min(1)
        worst = excess.topk(int(grow.max()), dim=1).indices
        new = torch.zeros_like(member).scatter(1, worst, torch.arange(worst.shape[1], device=flat.device) < grow[:, None])
        self._add(new if self.inner else new | member)
        width = self.index.shape[1]
        restricted = replace(self.problem, operator=op.on_columns(self.columns))
        if self.inner is None:
            start = flat.gather(1, self.index) * (torch.arange(width, device=flat.device) < self.size[:, None])
            self.inner = BacktrackingStep(restricted, PixelBasis(), start.reshape(len(flat), 1, 1, width), self.floor)
        else:
            self.inner.widen(restricted, width - self.inner.coeffs.shape[-1])

    def _add(self, new: torch.Tensor):
        """Append each image's ``new`` (B, n) members after its current ones (their columns from the design)."""
        count = new.sum(1)
        order = new.to(torch.int8).sort(dim=1, descending=True, stable=True).indices[:, :int(count.max())]
        size = self.size + count
        pad = int(size.max()) - self.index.shape[1]
        if pad > 0:  # the widest set grew: one copy (a smaller set fills its padding in place)
            self.index = torch.nn.functional.pad(self.index, (0, pad))
            self.columns = torch.nn.functional.pad(self.columns, (0, pad))
        image, rank = (torch.arange(order.shape[1], device=new.device) < count[:, None]).nonzero(as_tuple=True)
        slot, members = self.size[image] + rank, order[image, rank]
        self.index[image, slot] = members
        self.columns[image, :, slot] = self.design.T[members]  # contiguous rows of the stored design
        self.size = size

    @property
    def measured(self) -> torch.Tensor:
        """AΨc (B, m) in float64, recomputed at each check (cheap on the set's columns)."""
        return self.inner.a_coeffs

    def extra(self) -> dict:
        """L per image, the retried steps so far and the working set's size, per image."""
        return {**self.inner.extra(), "working_set": self.size.tolist()}


def working_set_or_full(problem: Problem, basis: Basis, coeffs: torch.Tensor):
    """``WorkingSetStep`` where it pays, else ``BacktrackingStep`` on every coefficient. It needs a design, and its
    sets stay below about 2m per image (the Lasso's support is at most m): an iteration reads B·2m·m entries of
    per-image columns, against one pass over the m·n shared ones whose product costs about B/``SHARED_BATCH``
    passes once the batch is large (compute-bound). So: working sets when B·2m ≤ n·max(1, B/``SHARED_BATCH``) and
    their columns fit in ``WORKING_SET_LIMIT`` entries."""
    batch, m, n = coeffs.shape[0], problem.operator.m, coeffs[0].numel()
    pays = batch * 2 * m <= n * max(1.0, batch / SHARED_BATCH) and batch * min(n, 2 * m) * m <= WORKING_SET_LIMIT
    if not pays or problem.operator.design(basis) is None:  # AΨ is built only where it will be used
        return BacktrackingStep(problem, basis, coeffs)
    return WorkingSetStep(problem, basis, coeffs)


STEPS = {"working-set": working_set_or_full, "backtracking": BacktrackingStep, "power": PowerStep}
