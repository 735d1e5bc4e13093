"""The beyond-the-range measurement on Dask: ``beyond.run``'s files, with every piece of work a task.

Tasks: phase one per (image set, m) not yet cached, the validation grid per (phase-2 method, m) not yet in
``validation.csv`` (it waits for the two validation sets' phase one), each (method, m, image set) cell (it waits for
its set's phase one and its method's validation) and the oracle per image set. Dask schedules them; this process
alone writes the files, in ``run``'s order (results.csv by m, method, set; validation.csv by m, method), each
piece once it and those before it are done, and caches each phase one it receives.
"""
from pathlib import Path

import numpy as np
import torch

from .beyond import (CSGM, TUNED, VALIDATION_COUNT, cached_phase_one, choice_of, compute_oracle, compute_phase_one,
                     figure, method_rows, recorded_validation, save_phase_one, validation_rows)
from .splits import check_image_seeds
from .table import RESULT_FIELDS, VALIDATION_FIELDS, append_rows, read_rows


def run_on(client, methods: list[str], ms: list[int], inrange: int, noise: float, seed: int, device: torch.device,
           out: Path, progress=print) -> list[dict]:
    """``beyond.run`` with each cell a task on the Dask ``client`` (``distributed.Client``); the same rows, in the
    same order, resumable the same way."""
    out = Path(out)
    path = out / "results.csv"
    rows = read_rows(path)
    check_image_seeds(rows + read_rows(out / "oracle.csv"), out)
    done = {(r["source"], r["method"], int(r["m"])) for r in rows}
    sets = (("real", None), ("inrange", inrange))
    firsts: dict = {}  # (set, m) → phase one: read from the cache, or its task

    def first(source: str, m: int, count: int | None):
        if (source, m) not in firsts:
            cached = cached_phase_one(source, m, noise, seed, out, count)
            firsts[source, m] = cached if cached is not None else \
                client.submit(compute_phase_one, source, m, noise, seed, device, count, pure=False)
        return firsts[source, m]

    work = []  # in run's order: ("validation", task) and ("rows", label, choice, task)
    for m in ms:
        for method in methods:
            choice = None
            if method in TUNED:
                recorded = recorded_validation(method, m, noise, seed, out)
                if recorded:
                    choice = choice_of(recorded)
                else:
                    firsts_of = {source: first(source, m, count) for source, count in VALIDATION_COUNT.items()}
                    grid = client.submit(validation_rows, method, m, noise, seed, device, out, firsts_of, pure=False)
                    work.append(("validation", grid))
                    choice = client.submit(choice_of, grid, pure=False)
            for source, count in sets:
                if (source, method, m) in done or not count and source == "inrange":
                    continue
                phase = None if method.startswith("lasso-") else first(source, m, count)
                task = client.submit(method_rows, method, source, m, noise, seed, device, out, count, choice, phase,
                                     pure=False)
                work.append(("rows", f"{method} m={m} {source}", choice if method != CSGM else None, task))
    oracles = {source: client.submit(compute_oracle, source, seed, device, count, pure=False)
               for source, count in sets if count != 0 and not any(r["source"] == source
                                                                    for r in read_rows(out / "oracle.csv"))}
    tasks = [piece[-1] for piece in work] + list(oracles.values())
    try:
        for kind, *rest in work:
            if kind == "validation":
                append_rows(out / "validation.csv", VALIDATION_FIELDS, rest[0].result())
                continue
            label, choice, task = rest
            new = task.result()
            append_rows(path, RESULT_FIELDS, new)
            rows += new
            choice = choice.result() if hasattr(choice, "result") else choice
            progress(f"{label}: mean MSE {np.mean([float(r['mse']) for r in new]):.5f}"
                     + (f" (choice {choice})" if choice else ""))
        for source, task in oracles.items():
            append_rows(out / "oracle.csv", RESULT_FIELDS, task.result())
    finally:
        for (source, m), phase in firsts.items():
            if not isinstance(phase, dict) and phase.status == "finished":
                save_phase_one(phase.result(), source, m, noise, seed, out)
        client.cancel(tasks + [p for p in firsts.values() if not isinstance(p, dict)])
    figure(out)
    return rows
