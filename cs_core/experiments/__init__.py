"""The measurements behind docs/RESULTS.md and docs/benchmarks.md.

- ``splits``: the images reported on and tuned on (splits, seed ranges); ``table``: the one CSV writer;
  ``figure``: the error-vs-m summary and figure.
- ``paper``: the paper's sweep (error vs m, λ chosen on validation); ``beyond``: the beyond-the-range
  measurement; ``lambda_check``: Lasso's default λ against the operators' trivial estimates; ``bench``:
  speed against the original's solvers. ``cli``: their subcommands.
"""
