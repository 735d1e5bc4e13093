"""A run's history, recorded from the same stream the app and the CLI show, written as a GIF, a PNG and a CSV.

``RunRecord.add(frame)`` keeps every snapshot of every method (image 0 of the batch); the writers only
draw what was recorded, nothing is solved again.
"""
import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from .errors import InputError
from .images import to_uint8
from .session import Frame
from .solvers.snapshot import Snapshot

PANEL_SIDE = 160          # each image is nearest-upscaled to about this side
LABEL_HEIGHT = 38         # two lines of text under each panel
TITLE_HEIGHT = 26         # the iteration line above the panels
GAP = 6
MAX_GIF_FRAMES = 60
GIF_FRAME_MS = 120
GIF_LAST_FRAME_MS = 2000
CSV_COLUMNS = ["method", "iteration", "seconds", "measurement_loss", "objective", "mse", "psnr", "ssim", "final"]


@dataclass
class RunRecord:
    """Truth, sensor view and every method's snapshots of one run, in the order the methods were asked for."""
    truth: torch.Tensor | None            # (1, C, H, W) in [0, 1]
    view: torch.Tensor                    # (1, C, H, W) in [0, 1]
    labels: dict[str, str]                # method name → display label
    m: int
    history: dict[str, list[Snapshot]] = field(default_factory=dict)

    def add(self, frame: Frame) -> None:
        """Record the snapshot that ``frame`` has just received."""
        snapshot = frame.latest[frame.updated]
        trail = self.history.setdefault(frame.updated, [])
        if not trail or trail[-1] is not snapshot:
            trail.append(snapshot)

    @property
    def finals(self) -> dict[str, Snapshot]:
        return {name: trail[-1] for name, trail in self.history.items() if trail}


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _panel(image: torch.Tensor | None, side: int) -> Image.Image:
    if image is None:
        return Image.new("RGB", (side, side), (235, 235, 235))
    arr = to_uint8(image[:1])
    k = max(1, math.ceil(PANEL_SIDE / arr.shape[0]))
    pil = Image.fromarray(arr.repeat(k, axis=0).repeat(k, axis=1))
    return pil.convert("RGB").resize((side, side), Image.NEAREST)


def _side(record: RunRecord) -> int:
    size = record.view.shape[-1]
    return size * max(1, math.ceil(PANEL_SIDE / size))


def _compose(record: RunRecord, estimates: dict[str, Snapshot | None], title: str) -> Image.Image:
    """One picture: truth, sensor view and each method, labelled (the method's MSE when the truth is known)."""
    side = _side(record)
    panels = [("ground truth", "", record.truth), ("sensor view", f"m = {record.m}", record.view)]
    for name, label in record.labels.items():
        snap = estimates.get(name)
        detail = "" if snap is None else (f"it {snap.iteration} · MSE {snap.mse[0]:.4f}" if snap.mse
                                          else f"it {snap.iteration}")
        panels.append((label, detail, None if snap is None else snap.estimate))
    if record.truth is None:
        panels = panels[1:]
    width = len(panels) * side + (len(panels) + 1) * GAP
    canvas = Image.new("RGB", (width, TITLE_HEIGHT + side + LABEL_HEIGHT + GAP), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((GAP, 4), title, fill="black", font=_font(16))
    small = _font(12)
    for i, (label, detail, image) in enumerate(panels):
        x = GAP + i * (side + GAP)
        canvas.paste(_panel(image, side), (x, TITLE_HEIGHT))
        draw.text((x, TITLE_HEIGHT + side + 3), label, fill="black", font=small)
        draw.text((x, TITLE_HEIGHT + side + 19), detail, fill=(60, 60, 60), font=small)
    return canvas


def _latest_at(trail: list[Snapshot], iteration: int) -> Snapshot | None:
    """The method's last snapshot at or before ``iteration`` (its final one once it has finished)."""
    chosen = None
    for snap in trail:
        if snap.iteration > iteration:
            break
        chosen = snap
    return chosen


def _check(record: RunRecord) -> None:
    if not any(record.history.values()):
        raise InputError("nothing to export yet: run the methods first")


def write_gif(record: RunRecord, path, max_frames: int = MAX_GIF_FRAMES) -> Path:
    """An animated GIF of the convergence: a frame every few iterations (at most ``max_frames``), each
    showing truth, sensor view and every method's estimate at that iteration with its MSE."""
    _check(record)
    iterations = sorted({s.iteration for trail in record.history.values() for s in trail})
    stride = max(1, math.ceil(len(iterations) / max_frames))
    chosen = iterations[::stride]
    if chosen[-1] != iterations[-1]:
        chosen.append(iterations[-1])
    pictures = []
    for it in chosen:
        estimates = {name: _latest_at(trail, it) for name, trail in record.history.items()}
        mse = [f"{record.labels[n]} {s.mse[0]:.4f}" for n, s in estimates.items() if s is not None and s.mse]
        title = f"iteration {it}" + (f" · MSE: {', '.join(mse)}" if mse else "")
        pictures.append(_compose(record, estimates, title).quantize(colors=255, method=Image.Quantize.MEDIANCUT))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = [GIF_FRAME_MS] * (len(pictures) - 1) + [GIF_LAST_FRAME_MS]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=durations, loop=0, optimize=False,
                     disposal=1)
    return path


def write_png(record: RunRecord, path) -> Path:
    """The final grid: truth, sensor view and every method's final estimate, labelled."""
    _check(record)
    finals = record.finals
    title = "final · " + " · ".join(f"{record.labels[n]}: {s.iteration} it" for n, s in finals.items())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _compose(record, finals, title).save(path)
    return path


def write_csv(record: RunRecord, path) -> Path:
    """Every recorded snapshot: method, iteration, solver seconds, losses and metrics (image 0)."""
    _check(record)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for name, trail in record.history.items():
            for s in trail:
                writer.writerow([name, s.iteration, f"{s.seconds:.6f}", s.measurement_loss[0], s.objective[0],
                                 *(["", "", ""] if s.mse is None else [s.mse[0], s.psnr[0], s.ssim[0]]),
                                 int(s.final)])
    return path

