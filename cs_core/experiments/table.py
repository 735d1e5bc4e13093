"""The experiments' CSV files: fixed columns, one header, rows appended as they are computed (so a run can
be resumed), readable by ``pandas.read_csv``. Each file holds one of the row kinds below."""
import csv
from pathlib import Path

from ..errors import InputError

RESULTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "results"  # the published experiments' files

# one measured image: the sweeps, the beyond-the-range rows and its oracle (``lam_ratio``: Lasso's/TV's λ ratio
# chosen on validation, or a range-extending method's chosen hyper-parameter; ``operator``: its name and given
# parameters, blank for the oracle, which measures nothing)
RESULT_FIELDS = ("domain", "source", "method", "m", "image", "noise", "seed", "lam_ratio", "mse", "psnr", "ssim",
                 "seconds", "iterations", "operator")
# one (grid value, step count) of a range-extending method on a validation set (steps 0: CSGM alone)
VALIDATION_FIELDS = ("method", "m", "noise", "seed", "source", "value", "steps", "mse")
# one image of the λ check: Lasso's default λ against the operator's trivial estimate
TRIVIAL_FIELDS = ("domain", "set", "operator", "basis", "noise", "image", "seed", "lam_ratio", "lasso_mse",
                  "trivial_mse")
# one image at one m of the posterior check: the sampler's mean (with its coverage and std) or CSGM's answer
POSTERIOR_FIELDS = ("domain", "source", "image", "m", "method", "noise", "seed", "mse", "coverage", "std_mean",
                    "seconds")
KINDS = (RESULT_FIELDS, VALIDATION_FIELDS, TRIVIAL_FIELDS, POSTERIOR_FIELDS)


def describe_operator(operator: str, params: dict | None) -> str:
    """The ``operator`` column: ``gaussian`` (its m has its own column), else the name and the given parameters."""
    given = sorted((k, v) for k, v in (params or {}).items() if v is not None)
    return " ".join([operator, *(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in given)])


def row_key(domain, source, method, m, image, noise, seed, operator) -> tuple:
    """A result row's identity (the columns that say what was measured)."""
    return (domain, source, method, int(m), image, float(noise), int(seed), operator)


def key_of(row: dict) -> tuple:
    return row_key(*(row[k] for k in ("domain", "source", "method", "m", "image", "noise", "seed", "operator")))


def read_rows(path: Path) -> list[dict]:
    """Every row of ``path`` as a dict of strings (none when the file does not exist)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def header(path: Path) -> tuple[str, ...] | None:
    if not path.exists():
        return None
    with path.open(newline="") as f:
        return tuple(next(csv.reader(f), ()))


def append_rows(path: Path, fields: tuple[str, ...], rows) -> None:
    """Append ``rows`` (dicts with exactly ``fields``) to ``path``, writing the header first if the file is new;
    each row is flushed as it comes, so an interrupted run keeps what it computed."""
    found = header(path)
    if found is not None and found != fields:
        raise InputError(f"{path} has the columns {', '.join(found)}, not {', '.join(fields)}; "
                         f"use another --out")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="raise")
        if found is None:
            writer.writeheader()
        for row in rows:
            if row.keys() != set(fields):
                raise ValueError(f"a row for {path.name} needs exactly the columns {fields}; got {tuple(row)}")
            writer.writerow(row)
            f.flush()


def write_rows(path: Path, fields: tuple[str, ...], rows) -> None:
    """Rewrite ``path`` with ``rows``."""
    if path.exists():
        path.unlink()
    append_rows(path, fields, rows)
