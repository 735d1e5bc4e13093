"""Checkpoint files: sha256 check, then ``torch.load(..., weights_only=True)``.

Every checkpoint ``checkpoints/<name>.<ext>`` has a committed metadata file
``checkpoints/<name>.json`` holding (among provenance fields) its ``sha256``.
A file is only unpickled after its hash matches the metadata, and only with
``weights_only=True`` so it can hold tensors and plain containers, never code.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from ..errors import InputError

CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def read_metadata(meta_path: str | Path) -> dict:
    meta_path = Path(meta_path)
    if not meta_path.is_file():
        raise InputError(f"checkpoint metadata {meta_path} is missing; restore it with `git checkout {_rel(meta_path)}`")
    return json.loads(meta_path.read_text())


def verified_load(path: str | Path, expected_sha256: str, fix: str, map_location="cpu"):
    """Load ``path`` with ``weights_only=True`` after checking its sha256.

    ``fix`` says how to restore the file (e.g. "run `python -m cs_core.fetch_weights`"); it ends the
    error message when the file is missing, its hash differs or it is not a weights-only file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path} is missing; to fix it, {fix}")
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise InputError(
            f"checkpoint {path} has sha256 {actual[:12]}…, expected {expected_sha256[:12]}… "
            f"(corrupt or replaced); to fix it, {fix}"
        )
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # refuses pickled code, truncated zips, …
        raise InputError(f"checkpoint {path} could not be loaded as weights only ({exc}); to fix it, {fix}") from exc


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(CHECKPOINT_DIR.parent))
    except ValueError:
        return str(path)
