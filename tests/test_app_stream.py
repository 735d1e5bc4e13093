"""How the Reconstruct tab streams (ui/reconstruct/handlers.py), iterated in-process as Gradio iterates it: an image
is sent only when its method moved, the last frame sends them all, and the frame rate follows a frame's cost."""
import time

import numpy as np

from cs_core.solvers import METHODS
from ui.reconstruct import form, handlers

FIRST_SLOT = 3  # the outputs: status, truth, sensor view, then the reconstruction slots


def arguments(**overrides) -> dict:
    values = {f.name: f.default for f in form.FIELDS if f.name != "mask_editor"}
    values.update(asset="digit-test-3856", upload=None, domain="mnist", operator="gaussian", m=100, device="cpu")
    values.update(overrides)
    return values


def sent(update) -> bool:
    """An image in the frame: a plain array (a live frame) or an update carrying a value (the first and last)."""
    return isinstance(update, np.ndarray) or isinstance(update, dict) and "value" in update


def labelled(update) -> bool:
    return isinstance(update, dict) and "label" in update


def test_an_image_is_sent_when_its_method_moved_and_the_last_frame_sends_all(monkeypatch):
    monkeypatch.setattr(handlers, "FRAME_SHARE", 1e9)  # a frame for every snapshot: one method moved in each
    monkeypatch.setattr(handlers, "MAX_FPS", 1e9)
    updates = list(handlers.reconstruct(**arguments(methods=["lasso-pixel", "tv"])))
    frames = updates[1:]
    assert frames[-1][0].endswith("done") and all(f[0].endswith("running") for f in frames[:-1])
    assert all(sent(u) for u in frames[0][FIRST_SLOT:FIRST_SLOT + 2]) and all(sent(u) for u in frames[-1][FIRST_SLOT:
                                                                                                        FIRST_SLOT + 2])
    later = [f[FIRST_SLOT:FIRST_SLOT + 2] for f in frames[1:-1]]
    assert len(later) > 20
    assert all(sum(map(sent, slots)) == 1 for slots in later), [list(map(sent, s)) for s in later]
    # live frames send the images alone (a label is a property update: Gradio builds a new component for it);
    # the first frame names each method, the last adds its metrics
    assert not any(labelled(u) for slots in later for u in slots)
    first = [u["label"] for u in frames[0][FIRST_SLOT:FIRST_SLOT + 2]]
    assert first == [METHODS[name].label for name in ("lasso-pixel", "tv")]
    assert all("dB" in u["label"] for u in frames[-1][FIRST_SLOT:FIRST_SLOT + 2])
    # TV (300 iterations) ends before Lasso (its λ path and 300 more): from then on its image is never resent
    tv_done = next(i for i, f in enumerate(frames) if "TV 300/300" in f[0])
    assert tv_done < len(frames) - 2 and not any(sent(f[FIRST_SLOT + 1]) for f in frames[tv_done + 1:-1])


def test_the_frame_rate_follows_what_a_frame_costs_down_to_its_floor():
    """A consumer taking 0.1 s per frame (Gradio's encoding and sending): at FRAME_SHARE that would allow a frame
    every 0.67 s, below the floor of MIN_FPS, so frames come 1/MIN_FPS apart, not 1/MAX_FPS as when frames are free."""
    gradio_s, floor = 0.1, 1 / handlers.MIN_FPS["cpu"]
    assert gradio_s / handlers.FRAME_SHARE > floor > 1 / handlers.MAX_FPS + 0.05
    stamps = []
    for update in handlers.reconstruct(**arguments(methods=["lasso-pixel", "tv"], iterations="3000")):
        stamps.append((time.perf_counter(), update[0]))
        time.sleep(gradio_s)
    running = [t for t, status in stamps if status.endswith("running")]
    gaps = sorted(b - a for a, b in zip(running, running[1:]))
    assert len(gaps) >= 3, gaps
    # (the stream times a frame from before drawing it, these stamps from after: a few ms either way)
    assert gaps[0] >= floor - 0.04 and gaps[len(gaps) // 2] <= floor + 0.15, gaps
