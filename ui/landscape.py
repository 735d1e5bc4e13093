"""Tab "Why descent works": the Hand–Voroninski landscape of a random ReLU prior, live.

All numbers come from ``cs_core.landscape`` (the CLI's ``landscape`` commands); this module only
draws them: the heat map of log f over the latent plane (k = 2) with the paths of all starts, where
the starts ended, the phase transition growing with m, and the same slice for a trained prior.
"""
from __future__ import annotations

import functools
import time

import gradio as gr
import numpy as np
import pandas as pd
import torch

from cs_core.devices import describe_device, resolve_device
from cs_core.landscape.descent import METHODS, descend
from cs_core.landscape.phase import phase_transition
from cs_core.landscape.raster import EndsRaster, PathsRaster
from cs_core.landscape.rho import rho
from cs_core.landscape.scene import descent_problem, heat_map, slice_map, slice_problem
from cs_core.priors import PRIORS
from cs_core.tab_settings import LANDSCAPE, LANDSCAPE_PHASE, LANDSCAPE_SLICE, PRESETS, checked, row

from . import kiosk
from .common import HIDDEN, Runs, in_background, max_seconds, raw, slider, user_errors

TITLE = "Why descent works"
ELEM_ID = "landscape-tab"
K = 2
GRID = 160                 # heat-map points per side
FRAME_SECONDS = 0.2        # at most 5 frames a second (two PNG pictures each)
MIN_FRAMES = 20            # frames due in a run: the paths visibly move however fast the maths
PATH_POINTS = 200          # points of each path drawn in a frame, at most
ENDS_TOP = 2.3             # top of the end-point plot's ‖z‖/‖z*‖ axis: the heat map's box reaches 1.6·√2
PHASE_M = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
PHASE_TRIALS = 16
SLICE_GRID = {"mnist": 60, "faces": 20}  # the slice's grid points per side, by the prior's domain
RUNS = Runs()              # one run per browser session; every panel's Stop stops it
PICTURE = dict(type="numpy", format="png", interactive=False, buttons=["fullscreen"])  # frames drawn by .raster

THEORY = """
**The theorem** (Hand & Voroninski, 2017): for a random expansive ReLU generator G(z) = relu(W_d ⋯ relu(W_1 z))
and m ≳ k·d·log(n_1⋯n_d) random measurements, the risk f(z) = ½‖A G(z) − A G(z*)‖² has a descent direction
everywhere except near z* and near one point on the other side, −ρ_d z*. So gradient descent can only get
stuck near that one negative multiple of z*.

**ρ_d** comes from how a random ReLU layer shrinks the angle between two inputs: ρ_1 = 0, ρ_2 = 1/π ≈ 0.32,
ρ_3 ≈ 0.49, … → 1 with depth. **Why the negation check is enough** (Huang, Hand, Heckel & Voroninski, 2018):
the only trap lies on the far side of 0, where f(−z) < f(z); jumping to −z whenever that holds leaves descent
nothing to get stuck in, so it converges to z* with m linear in k.
"""


_guarded = user_errors(oom="the GPU ran out of memory; use fewer starts or a smaller m")


class Pace:
    """Which snapshots may become frames: one per ``FRAME_SECONDS`` at most, and always those of ``MIN_FRAMES`` steps
    spaced geometrically from 0 to the last (descent moves the paths most in its first steps; an even spacing spent
    most frames on paths that had settled), each new picture shown for a frame's time even when the maths outruns
    them."""

    def __init__(self, steps: int, every: int = 1):
        self.due = {0, *(every * round(s / every) for s in np.geomspace(1, steps, MIN_FRAMES - 1))}
        self.last = -float("inf")

    def wants(self, iteration: int, final: bool) -> bool:
        """Whether this snapshot may become a frame."""
        return final or iteration in self.due or time.monotonic() - self.last >= FRAME_SECONDS

    def shown(self, moved: bool) -> None:
        """A frame (``moved``: with new pictures, after the last one's time is up) or the status alone (no wait)."""
        if moved:
            time.sleep(max(0.0, self.last + FRAME_SECONDS - time.monotonic()))
        self.last = time.monotonic()


def _new(pictures: tuple[np.ndarray, ...], shown: tuple[np.ndarray, ...] | None) -> bool:
    """Whether ``pictures`` differ from those on screen (a frame where no path moved a pixel is not sent)."""
    return shown is None or any(not np.array_equal(a, b) for a, b in zip(pictures, shown))


class Track:
    """The snapshots' positions (S, 2) copied into one array allocated up front. Kept as one small tensor per
    step instead, they sit among the descent's freed temporaries, which glibc then cannot reuse: the server's memory
    grew by ~170 MiB over a 1000-step Run of 128 starts (measured)."""

    def __init__(self, snapshots: int, starts: int):
        self.points = np.empty((snapshots, starts, 2), dtype=np.float32)
        self.count = 0

    def add(self, z: np.ndarray) -> None:
        self.points[self.count] = z
        self.count += 1

    def thinned(self) -> np.ndarray:
        """At most ``PATH_POINTS`` points of each path (steps, S, 2), evenly spaced back from the last (a frame's
        cost stays bounded however many steps the run has taken)."""
        every = -(-self.count // PATH_POINTS)
        return self.points[:self.count][::-1][::every][::-1]


@functools.lru_cache(maxsize=8)
def _descent_scene(widths: tuple[int, ...], m: int, noise: float, seed: int, starts: int, device: torch.device):
    """The problem, its starts, and its heat map and end-point axes drawn once (cached: a second Run of the same
    problem draws nothing but the paths)."""
    risk, z0, _ = descent_problem(K, list(widths), m, noise, seed, starts, device)
    r = rho(len(widths))
    heat = PathsRaster(heat_map(risk, len(widths), GRID), f"log f over the latent plane · ρ_{len(widths)} = {r:.3f}")
    return risk, z0, heat, EndsRaster(r, ENDS_TOP)


def _opening() -> tuple[np.ndarray, np.ndarray]:
    """The default problem's heat map with its starts and the end points' axes, shown before any Run: the pictures
    are in the page from the start, and the first Run of the default finds its problem drawn (cached)."""
    s = checked(LANDSCAPE)
    risk, z0, heat, ends = _descent_scene(tuple(PRESETS[s.preset]), s.m, s.noise, s.seed, s.starts,
                                          resolve_device("auto"))
    for _ in descend(risk, z0, s.method, 2, every=1):   # the descent's first-call costs, paid at start
        pass
    z = z0.to(risk.device)
    reached = risk.reached(z)[0].cpu().numpy()
    return (heat.frame(z0[0].cpu().numpy()[None], reached),
            ends.frame(risk.cosine(z)[0].cpu().numpy(), risk.norm_ratio(z)[0].cpu().numpy(), reached))


@_guarded
def run_descent(preset, m, noise, starts, method, steps, seed, request: gr.Request = None):
    """Descend from many random starts on the k = 2 landscape; stream the heat map with all paths, the end
    points and the status "n of N reached z*" (ends with ``done`` or ``stopped``)."""
    stop = RUNS.start(request).stop
    began = time.monotonic()
    device = resolve_device("auto")
    s = checked(LANDSCAPE, preset, m, noise, starts, method, steps, seed)
    widths, method, m, starts, steps, seed = list(PRESETS[s.preset]), s.method, s.m, s.starts, s.steps, s.seed
    risk, z0, heat, ends = _descent_scene(tuple(widths), m, s.noise, seed, starts, device)
    track, pace, shown = Track(steps + 1, starts), Pace(steps), None
    head = f"{METHODS[method]} · widths {widths} · m = {m} · {describe_device(device)}"
    for snap in descend(risk, z0, method, steps, every=1):
        track.add(snap.z[0].numpy())
        timed_out = time.monotonic() - began > max_seconds()
        done = snap.final or stop.is_set() or timed_out
        if not pace.wants(snap.iteration, done):
            continue
        z = snap.z.to(device)
        reached = risk.reached(z)[0].cpu().numpy()
        state = ("stopped" if stop.is_set() else "time limit" if timed_out else "done") if done else "running"
        status = (f"{int(reached.sum())} of {starts} reached z* · step {snap.iteration}/{steps} · {head} · "
                  f"{snap.message + ' · ' if snap.message else ''}{state}")
        if stop.is_set():  # Stop: said at once, the pictures keep the last frame
            yield status, gr.skip(), gr.skip()
            return
        pictures = (heat.frame(track.thinned(), reached),
                    ends.frame(risk.cosine(z)[0].cpu().numpy(), risk.norm_ratio(z)[0].cpu().numpy(), reached))
        moved = _new(pictures, shown)
        pace.shown(moved)
        shown = pictures if moved else shown
        yield (status, *pictures) if moved or done else (status, gr.skip(), gr.skip())  # done: the API's result
        if done:
            return


@_guarded
def run_phase(preset, steps, seed, request: gr.Request = None):
    """Success rate vs m for plain GD and the negation scheme (k = 2, the preset's widths), one m at a time."""
    stop = RUNS.start(request).stop
    device = resolve_device("auto")
    s = checked(LANDSCAPE_PHASE, preset, steps, seed)
    widths = list(PRESETS[s.preset])
    rows, began = [], time.monotonic()
    points = phase_transition(K, widths, PHASE_M, PHASE_TRIALS, s.steps, s.seed, device)
    status = f"phase transition · widths {widths} · {PHASE_TRIALS} trials per m · running"
    for point in in_background(points, stop):
        stopped, timed_out = stop.is_set(), time.monotonic() - began > max_seconds()
        if point is None and not (stopped or timed_out):
            yield status, gr.skip()  # a point on its way: the same status again, a yield where a cancel can land
            continue
        if point is not None:
            rows += [{"m": point.m, "success rate": rate, "method": METHODS[name]}
                     for name, rate in point.success.items()]
        last = (point is not None and point.m == PHASE_M[-1]) or stopped or timed_out
        state = ("stopped" if stopped else "time limit" if timed_out else "done") if last else "running"
        status = (f"phase transition · widths {widths} · {PHASE_TRIALS} trials per m · "
                  f"m = {rows[-1]['m'] if rows else '–'} ({len(rows) // 2}/{len(PHASE_M)}) · {state}")
        yield status, pd.DataFrame(rows)
        if last:
            return


@_guarded
def run_slice(prior_name, m, restarts, seed, request: gr.Request = None):
    """f on the plane through z*, −z* and 0 of a trained prior, with CSGM's restarts (Adam at the prior's
    learning rate) projected onto it as they move."""
    stop, began = RUNS.start(request).stop, time.monotonic()
    s = checked(LANDSCAPE_SLICE, prior_name, m, restarts, seed)
    prior_name, m, restarts = s.prior, s.m, s.restarts
    prior, device = PRIORS[prior_name], resolve_device("auto")
    risk, plane, starts = slice_problem(prior.load(device), prior.latent_dim, m, 0.0, s.seed, restarts, device)
    grid = SLICE_GRID[prior.domain]
    status = f"{prior_name.upper()} · m = {m} · computing the slice ({grid}² points) · running"
    yield status, None
    for heat in in_background((slice_map(risk, plane, grid) for _ in range(1)), stop):
        if stop.is_set() or time.monotonic() - began > max_seconds():
            yield f"{prior_name.upper()} · m = {m} · {'stopped' if stop.is_set() else 'time limit'}", None
            return
        if heat is None:
            yield status, gr.skip()  # the same status again, a yield where a cancel can land
    picture = PathsRaster(heat, f"{prior_name.upper()}: log f on the plane through z*, −z*, 0",
                          "along z* (units of ‖z*‖)", "random orthogonal direction", spurious_label="−z*")
    steps, every = prior.adam.steps, 5
    track, pace, shown = Track(steps // every + 2, restarts), Pace(steps, every), None
    for snap in descend(risk, starts, "adam", steps, prior.adam.lr, every=every):
        track.add(plane.project(snap.z[0]).cpu().numpy())
        timed_out = time.monotonic() - began > max_seconds()
        done = snap.final or stop.is_set() or timed_out
        if not pace.wants(snap.iteration, done):
            continue
        reached = risk.reached(snap.z.to(device))[0].cpu().numpy()
        state = ("stopped" if stop.is_set() else "time limit" if timed_out else "done") if done else "running"
        frame = (picture.frame(track.thinned(), reached),)
        moved = _new(frame, shown)
        pace.shown(moved)
        shown = frame if moved else shown
        yield (f"{prior_name.upper()} · m = {m} · {restarts} CSGM restarts, step {snap.iteration}/{steps} · "
               f"{int(reached.sum())} reached z* · {state}"), frame[0] if moved or done else gr.skip()
        if done:
            return


def build(demo: gr.Blocks) -> None:
    """The tab: the k = 2 landscape with live paths, the phase transition, a trained prior's slice."""
    gr.Markdown(THEORY, elem_id="landscape-theory")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            preset = gr.Radio(list(PRESETS), value="2 layers, wide", label="Generator (k = 2)",
                              info="2 layers: widths 50, 500 · 3 layers: 20, 100, 500", elem_id="ls-preset")
            method = gr.Radio([(label, name) for name, label in METHODS.items()], value="gd", label="Method",
                              elem_id="ls-method")
            m = slider(row(LANDSCAPE, "m"), 1, label="m (measurements)", elem_id="ls-m")
            noise = slider(row(LANDSCAPE, "noise"), 0.01, label="noise σ (‖G(z*)‖ = 1)", elem_id="ls-noise")
            starts = slider(row(LANDSCAPE, "starts"), 1, label="random starts", elem_id="ls-starts")
            steps = slider(row(LANDSCAPE, "steps"), 10, label="steps", elem_id="ls-steps")
            seed_row = row(LANDSCAPE, "seed")
            seed = gr.Number(seed_row.default, precision=0, minimum=seed_row.low, maximum=seed_row.high, label="seed",
                             elem_id="ls-seed")
            with gr.Row():
                run_btn = gr.Button("Run", variant="primary", elem_id="ls-run-btn", min_width=90)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="ls-stop-btn", min_width=90)
        with gr.Column(scale=3):
            status = gr.Textbox("ready", label="Status", lines=1, max_lines=2, interactive=False,
                                elem_id="ls-status")
            with gr.Row(equal_height=False):
                opening = _opening()
                heat = gr.Image(opening[0], label="heat map", show_label=False, elem_id="ls-heat", scale=3, **PICTURE)
                ends = gr.Image(opening[1], label="end points", show_label=False, elem_id="ls-ends", scale=2,
                                **PICTURE)
    with gr.Accordion("Phase transition: success rate vs m (plain GD vs GD + negation)", open=True):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                gr.Markdown(f"k = 2, the generator chosen above, {PHASE_TRIALS} random problems per m, one random "
                            f"start each; success: ‖ẑ − z*‖/‖z*‖ < 10⁻³. Theory: m ∝ k·d suffices.")
                phase_steps = slider(row(LANDSCAPE_PHASE, "steps"), 50, label="steps", elem_id="ls-phase-steps")
                with gr.Row():
                    phase_btn = gr.Button("Run phase transition", variant="primary", elem_id="ls-phase-btn")
                    phase_stop = gr.Button("Stop", variant="stop", elem_id="ls-phase-stop-btn")
            with gr.Column(scale=3):
                phase_status = gr.Textbox("ready", label="Status", lines=1, interactive=False,
                                          elem_id="ls-phase-status")
                phase_plot = gr.LinePlot(None, x="m", y="success rate", color="method", x_title="m (measurements)",
                                         y_title="success rate", y_lim=[0, 1], height=300, elem_id="ls-phase-plot",
                                         show_label=False)
    with gr.Accordion("A trained prior: the same slice for the MNIST VAE or the face DCGAN", open=False):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                gr.Markdown("f on the plane through z*, −z* and 0 (z* drawn at random), and CSGM's own restarts "
                            "(Adam at the paper's learning rate for the prior) projected onto it. Real generators "
                            "are not random: how far does the picture carry? The DCGAN slice takes a while on a CPU.")
                prior = gr.Radio(list(PRIORS), value="vae", label="Prior", elem_id="ls-prior")
                slice_m = slider(row(LANDSCAPE_SLICE, "m"), 10, label="m", elem_id="ls-slice-m")
                restarts = slider(row(LANDSCAPE_SLICE, "restarts"), 1, label="CSGM restarts", elem_id="ls-restarts")
                with gr.Row():
                    slice_btn = gr.Button("Draw the slice", variant="primary", elem_id="ls-slice-btn")
                    slice_stop = gr.Button("Stop", variant="stop", elem_id="ls-slice-stop-btn")
            with gr.Column(scale=3):
                slice_status = gr.Textbox("ready", label="Status", lines=1, interactive=False,
                                          elem_id="ls-slice-status")
                slice_plot = gr.Image(label="trained prior", show_label=False, elem_id="ls-slice", **PICTURE)

    raw(preset, method, seed, prior)  # checked by the rows of cs_core.tab_settings
    # a visitor's run pre-empts kiosk autoplay, as Reconstruct's does
    events = dict(concurrency_limit=1, concurrency_id="landscape", show_progress="minimal")
    run_btn.click(kiosk.preempting(run_descent), [preset, m, noise, starts, method, steps, seed], [status, heat, ends],
                  api_name="landscape", **events)
    phase_btn.click(kiosk.preempting(run_phase), [preset, phase_steps, seed], [phase_status, phase_plot],
                    api_name="landscape_phase", **events)
    slice_btn.click(kiosk.preempting(run_slice), [prior, slice_m, restarts, seed], [slice_status, slice_plot],
                    api_name="landscape_slice", **events)
    stop_btn.click(RUNS.stop, None, None, api_name="landscape_stop", show_progress="hidden")
    for button in (phase_stop, slice_stop):  # the same Stop: the session's landscape run, whichever panel's
        button.click(RUNS.stop, None, None, **HIDDEN)
