"""Fetch the face DCGAN weights: ``python -m cs_core.fetch_weights``.

Downloads the wheel ``gan-face-generate==1.1.1`` with pip (no dependencies, no install),
checks its sha256, extracts ``gan_face_generate/weights.tar``, checks that hash too and writes
``checkpoints/dcgan_faces.tar`` (gitignored). Idempotent: a present file with the right hash is
kept. The package's Python code is never imported or installed. Exit code 2 on failure.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .priors.checkpoints import CHECKPOINT_DIR, sha256_file

PACKAGE = "gan-face-generate==1.1.1"
WHEEL_SHA256 = "24102f4be41d164e44251168ede0458a45e498a888c81493e2aea48529640569"
MEMBER = "gan_face_generate/weights.tar"
WEIGHTS_SHA256 = "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f"
TARGET = CHECKPOINT_DIR / "dcgan_faces.tar"


class FetchError(RuntimeError):
    pass


def fetch(target: Path | None = None, quiet: bool = False) -> Path:
    """Ensure ``target`` (default ``checkpoints/dcgan_faces.tar``) holds the verified DCGAN weights."""
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    target = Path(target) if target is not None else TARGET
    if target.is_file() and sha256_file(target) == WEIGHTS_SHA256:
        say(f"{target} already present (sha256 ok)")
        return target
    with tempfile.TemporaryDirectory() as tmp:
        say(f"downloading {PACKAGE} with pip …")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", PACKAGE, "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise FetchError(f"pip download {PACKAGE} failed (exit {proc.returncode}): {last}")
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise FetchError(f"pip download {PACKAGE} gave {len(wheels)} wheels, expected 1")
        wheel = wheels[0]
        if (got := sha256_file(wheel)) != WHEEL_SHA256:
            raise FetchError(f"wheel {wheel.name} has sha256 {got}, expected {WHEEL_SHA256}")
        tmp_target = Path(tmp) / "weights.tar"
        try:
            with zipfile.ZipFile(wheel) as zf, zf.open(MEMBER) as src, open(tmp_target, "wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise FetchError(f"cannot extract {MEMBER} from {wheel.name}: {exc}") from exc
        if (got := sha256_file(tmp_target)) != WEIGHTS_SHA256:
            raise FetchError(f"{MEMBER} has sha256 {got}, expected {WEIGHTS_SHA256}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".tar.partial")
        partial.write_bytes(tmp_target.read_bytes())
        partial.replace(target)
    say(f"wrote {target} (sha256 ok)")
    return target


def main(argv: list[str] | None = None) -> int:
    try:
        fetch()
    except (FetchError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
