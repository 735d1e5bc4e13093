"""Compressive learning (Schellekens & Jacques 2020): compress a dataset once into a sketch — its
empirical characteristic function at m random frequencies — and train a generator against the sketch alone.

- :mod:`.frequencies` — the frequency laws Λ (Gaussian, folded Gaussian, adapted radius) and the scale σ.
- :mod:`.sketch` — one-pass sketches of any stream of chunks; shards merge as a count-weighted mean.
- :mod:`.dask_sketch` — the same sketch of a ``dask.array`` on any Dask scheduler.
- :mod:`.toys` — the paper's 2-D toy sets, seeded.
- :mod:`.fit` — training a generator by sketch matching, as a stream of snapshots.
"""
