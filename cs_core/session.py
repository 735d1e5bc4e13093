"""One run: several methods on one problem, advanced interleaved, streamed as combined frames.

The app, the CLI, the sweeps and the benchmark all consume ``run_methods``.
"""
from dataclasses import dataclass, field
from typing import Iterator

from .problem import Problem
from .solvers import METHODS, Options, check_methods, check_options
from .solvers.snapshot import Snapshot


@dataclass
class Frame:
    """The latest snapshot of every method that has reported, in the order the methods were asked for."""
    latest: dict[str, Snapshot] = field(default_factory=dict)
    updated: str = ""

    @property
    def done(self) -> bool:
        return bool(self.latest) and all(s.final for s in self.latest.values())


def run_methods(problem: Problem, methods: list[str], options: Options = Options(),
                every: int | None = None) -> Iterator[Frame]:
    """Start every method (loading priors first, so errors come before any frame), then advance them
    round-robin one snapshot at a time, yielding the combined frame after each snapshot."""
    methods = check_methods(methods, problem.domain.name)
    options = check_options(options)
    running = {name: METHODS[name].start(problem, options, every) for name in methods}
    frame = Frame()
    while running:
        for name in list(running):
            snapshot = next(running[name], None)
            if snapshot is None:
                del running[name]
                continue
            frame.latest[name] = snapshot
            frame.updated = name
            if snapshot.final:
                running.pop(name).close()
            yield frame


def run_to_end(problem: Problem, methods: list[str], options: Options = Options()) -> dict[str, Snapshot]:
    """Final snapshot of each method (no intermediate snapshots)."""
    frame = Frame()
    for frame in run_methods(problem, methods, options, every=None):
        pass
    return frame.latest
