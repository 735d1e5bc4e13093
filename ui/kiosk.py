"""Kiosk mode for a booth (``python demo_app.py --kiosk``): large type, and autoplay of the gallery examples.

The browser watches for real clicks, touches and key presses (JS below). When nobody has touched the page for
``idle_seconds()`` it presses a hidden button: the server fills the form with the next example and runs it to
``done``; a few seconds later, if still untouched, the next one. A real touch stops autoplay at once (the same
Stop as the visible button) and the page is the visitor's; autoplay resumes after the idle time again.

Several kiosks on one server never starve real visitors:
- autoplay runs have their own concurrency id limited to one run for all kiosks together, so they never take a
  visitor's slot (``--concurrency``) and hold at most one queue place per kiosk;
- a visitor's run pre-empts autoplay: once one has started (even a short one that has already ended), the
  autoplay run stops at its next frame; while one is in progress no autoplay run starts (it says so, and the kiosk tries again after the pause).
"""
from __future__ import annotations

import functools
import json
import os
import threading

import gradio as gr

from .common import HIDDEN, Runs

PAUSE_SECONDS = 6.0  # a finished autoplay run stays on screen this long before the next (at most the idle time)
# Gradio also adds each rule scoped under its container, which outranks a plain selector: hence the !important
# and the doubled id.
CSS = """
.gradio-container { zoom: 1.25; max-width: 100% !important; }
footer { display: none !important; }
#run-btn, #stop-btn { font-size: 1.5rem !important; }
#kiosk-banner { position: fixed; left: 0; right: 0; bottom: 0; z-index: 1000; margin: 0; border-radius: 0;
                padding: 0.5rem 1.5rem; background: var(--color-accent) !important; text-align: center;
                display: none !important; }
#kiosk-banner p { margin: 0; font-size: 1.35rem; }
#kiosk-banner * { color: white !important; }
body.csgm-autoplay #kiosk-banner#kiosk-banner { display: block !important; }
"""
BANNER = "▶ **Autoplay** — the paper's examples, one after another. **Touch the screen to try it yourself.**"
# Client side: idle detection and the autoplay loop. Only trusted events (a person) count as activity.
JS = """() => {
  const IDLE_MS = %(idle_ms)s, PAUSE_MS = %(pause_ms)s;
  const kiosk = window.csgmKiosk = {lastTouch: performance.now(), playing: false, ended: -Infinity, started: 0};
  document.body.classList.add('csgm-kiosk');
  const press = (selector) => { const b = document.querySelector(selector); if (b) b.click(); return !!b; };
  const show = (on) => document.body.classList.toggle('csgm-autoplay', on);
  const home = () => {  // autoplay plays on the Reconstruct tab, from the top of the page
    const tab = [...document.querySelectorAll('button[role=tab]')].find(b => b.textContent.trim() === %(tab)s);
    if (tab && tab.getAttribute('aria-selected') !== 'true') tab.click();
    window.scrollTo({top: 0});
  };
  kiosk.finished = () => { if (kiosk.playing) { kiosk.playing = false; kiosk.ended = performance.now(); } };
  const touch = (event) => {
    if (!event.isTrusted) return;
    kiosk.lastTouch = performance.now();
    show(false);
    if (kiosk.playing) { kiosk.playing = false; press('#autoplay-stop-btn'); }
  };
  for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart'])
    window.addEventListener(type, touch, {capture: true, passive: true});
  setInterval(() => {
    const now = performance.now();
    if (!kiosk.playing && now - kiosk.lastTouch >= IDLE_MS && now - kiosk.ended >= PAUSE_MS
        && document.querySelector('#autoplay-btn')) {
      home(); press('#autoplay-btn');
      kiosk.playing = true; kiosk.started += 1; show(true);
    }
  }, 250);
}"""


def enabled() -> bool:
    """Kiosk mode: env ``CSGM_DEMO_KIOSK=1`` (``--kiosk``)."""
    return os.environ.get("CSGM_DEMO_KIOSK", "") == "1"


def idle_seconds() -> float:
    """Seconds without a touch before autoplay: env ``CSGM_DEMO_IDLE_SECONDS`` (``--idle-seconds``), default 60."""
    return float(os.environ.get("CSGM_DEMO_IDLE_SECONDS", "60"))


def js(tab: str) -> str:
    """The page's script, for autoplay on the tab titled ``tab``."""
    idle = idle_seconds()
    return JS % {"idle_ms": json.dumps(idle * 1000), "pause_ms": json.dumps(min(PAUSE_SECONDS, idle) * 1000),
                 "tab": json.dumps(tab)}


class Visitors:
    """The visitors' runs in progress and how many have started (autoplay gives way to them)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.active = 0
        self.started = 0  # also counts runs that started and ended between two autoplay frames

    def __enter__(self):
        with self._lock:
            self.active += 1
            self.started += 1

    def __exit__(self, *exc):
        with self._lock:
            self.active -= 1


VISITORS = Visitors()


def preempting(run):
    """``run`` (a streaming handler) counted as a visitor's run: while it is in progress, an autoplay run stops at
    its next frame (status ``… · stopped``) and none starts."""
    @functools.wraps(run)
    def visitor_run(*args, **kwargs):
        with VISITORS:
            yield from run(*args, **kwargs)
    return visitor_run


def attach(inputs: list, outputs: list, run, rows: list[list], labels: list[str], runs: Runs):
    """Autoplay for the tab whose ``run(*row, request=...)`` streams ``outputs`` (``outputs[0]`` the
    status) and whose examples are ``rows`` (values of ``inputs``) with their ``labels``. No examples, no autoplay."""
    if not rows:
        return
    gr.Markdown(BANNER, elem_id="kiosk-banner")
    play_btn = gr.Button("autoplay", visible="hidden", elem_id="autoplay-btn")
    stop_btn = gr.Button("stop autoplay", visible="hidden", elem_id="autoplay-stop-btn")
    index = gr.State(0)
    keep_inputs, keep_rest = [gr.skip()] * len(inputs), [gr.skip()] * (len(outputs) - 1)

    def autoplay(i: int, request: gr.Request = None):
        """The next example, filled in and run to the end (or until a visitor's run pre-empts it)."""
        i %= len(rows)
        prefix = f"autoplay · {labels[i]}"
        if VISITORS.active:
            yield (*keep_inputs, f"{prefix} · waits: a visitor's run has the device", *keep_rest, i)
            return
        seen = VISITORS.started
        stream = run(*rows[i], request=request)
        try:
            yield (*rows[i], f"{prefix} · starting", *keep_rest, i + 1)
            for status, *rest in stream:
                preempted = ((VISITORS.active or VISITORS.started != seen) and isinstance(status, str)
                             and status.endswith(" · running"))
                if preempted:
                    status = status.removesuffix("running") + "a visitor's run has the device · stopped"
                yield (*keep_inputs, f"{prefix} · {status}" if isinstance(status, str) else status, *rest, i + 1)
                if preempted:
                    return
        except gr.Error as exc:  # e.g. a prior that could not be loaded: say so, and go on with the next example
            yield (*keep_inputs, f"{prefix} · {exc.message} · skipped", *keep_rest, i + 1)
        finally:
            stream.close()

    play = play_btn.click(autoplay, [index], [*inputs, *outputs, index], concurrency_id="autoplay",
                          concurrency_limit=1, **HIDDEN)
    play.then(None, None, None, js="() => window.csgmKiosk && window.csgmKiosk.finished()")
    stop_btn.click(runs.request_stop, None, [outputs[0]], cancels=[play], **HIDDEN)
