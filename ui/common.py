"""What the tabs share: theme and CSS, limits, display helpers, form parsing, priors at start, run/stop plumbing,
the error decorator.

Display only: every number comes from ``cs_core``.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import inspect
import logging
import math
import os
import queue
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from cs_core.domains import DOMAINS, get_domain  # noqa: E402
from cs_core.errors import InputError  # noqa: E402
from cs_core.export import RunRecord  # noqa: E402
from cs_core.images import to_uint8  # noqa: E402
from cs_core.priors import PRIORS  # noqa: E402
from cs_core.problem import make_problem  # noqa: E402
from cs_core.session import run_to_end  # noqa: E402
from cs_core.solvers import METHODS, Options, methods_for  # noqa: E402

PAPER_URL = "https://arxiv.org/abs/1703.03208"
MAX_FPS = 8                        # frames sent to the browser per second, at most
STOP_WAIT = 1.5                    # seconds Stop waits for a frame on its way (a cancelled one never arrives)
HEARTBEAT = 0.5                    # a handler computing in the background yields at least this often
QUEUE_SIZE = 16                    # runs waiting for the device beyond that are refused ("queue is full")
DISPLAY_SIDE = 224                 # images are nearest-upscaled to about this side for display
DOMAIN_CHOICES = [("MNIST digits · 28×28", "mnist"), ("Faces · 64×64 RGB", "faces")]
DEFAULT_METHODS = {"mnist": ["lasso-dct", "csgm-vae"], "faces": ["lasso-dct", "lasso-wavelet", "csgm-dcgan"]}
HIDDEN = dict(api_visibility="private", show_progress="hidden")  # form callbacks: no API, no spinner
KEPT_SESSIONS = 32                 # sessions whose last finished run (and its export) a tab keeps

THEME = gr.themes.Soft()
CSS = """
#images-row img { image-rendering: pixelated; }
#status textarea { font-family: ui-monospace, monospace; font-size: 0.85rem; }
#images-row [data-testid="block-label"] { white-space: normal; max-width: calc(100% - 12px); line-height: 1.25; }
#metrics table { font-size: 0.8rem; }
#title h1 { margin-bottom: 0.2rem; }
"""


MMAP_THRESHOLD = 8 * 2 ** 20       # bytes: allocations this large get their own mapping (see bound_malloc)
TRIM_THRESHOLD = 16 * 2 ** 20      # bytes: free memory a malloc arena keeps at its top for the next request


def bound_malloc(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Fix glibc malloc's thresholds (``mallopt``), True when set: an allocation of at least ``mmap_threshold``
    bytes gets its own mapping, returned to the system when freed, and an arena keeps at most
    ``trim_threshold`` bytes of free memory at its top. By default glibc raises both after the first large free
    (up to 32 and 64 MB), so a handler's large temporaries (torch tensors of tens of MB) are carved from the
    malloc arena of whichever worker thread runs it, which keeps and fragments them: one ``/sketch`` at
    m = 2000 raised the server's peak memory by 460–540 MiB (now about 30 MiB). 8 MB rather than less keeps the
    sketch training's tensors (a few MB each step) in the arena, reused without new pages. Not glibc (no
    ``mallopt``): False, nothing changes."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: glibc's, on Linux
    except (OSError, AttributeError):
        return False
    # malloc.h: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3
    return bool(mallopt(-3, int(mmap_threshold)) and mallopt(-1, int(trim_threshold)))


bound_malloc()  # the server and the tests' servers all import this module before their first request


def save_pil_to_cache_once(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's ``processing_utils.save_pil_to_cache``, writing each file once and whole. Gradio's cache is
    content-addressed (a folder per hash of the encoded bytes) but rewrites the file whenever the same image is
    sent again (a method's unchanged image in the final frame, pixels that did not move between snapshots), and
    the rewrite truncates it under a request still reading it: the response ends short of its Content-Length
    and the client sees a reset connection. Here an existing file is left alone (same path, same bytes) and a
    new one is written to a temporary name and renamed into place."""
    from gradio import processing_utils
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    if not path.exists():
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as part:
            part.write(data)
        os.replace(part.name, path)
    return str(path)


gr.processing_utils.save_pil_to_cache = save_pil_to_cache_once  # Gradio's image outputs all save through it


def release_memory() -> None:
    """Hand the free memory of every malloc arena back to the system (glibc's ``malloc_trim(0)``, which also
    releases free pages inside an arena, not only at its top); nothing where there is no such call."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def concurrency() -> int:
    """Runs at once (they share the device): env ``CSGM_DEMO_CONCURRENCY`` (``--concurrency``), default 1."""
    return max(1, int(os.environ.get("CSGM_DEMO_CONCURRENCY", "1")))


def max_seconds() -> float:
    """Wall-time cap of one run: env ``CSGM_DEMO_MAX_SECONDS`` (``--max-seconds``), default 120 s."""
    return float(os.environ.get("CSGM_DEMO_MAX_SECONDS", "120"))


# ---------------------------------------------------------------- display helpers (no math)

def display(image: torch.Tensor) -> np.ndarray:
    """``(1, C, H, W)`` in [0, 1] → uint8 nearest-upscaled to about ``DISPLAY_SIDE`` (display only)."""
    arr = to_uint8(image)
    k = max(1, math.ceil(DISPLAY_SIDE / arr.shape[0]))
    return arr.repeat(k, axis=0).repeat(k, axis=1)


def method_label(name: str) -> str:
    return METHODS[name].label if name in METHODS else name


def method_choices(domain: str) -> list[tuple[str, str]]:
    return [(METHODS[name].label, name) for name in methods_for(domain)]


# ---------------------------------------------------------------- form values

def raw(*widgets):
    """Let the widgets hand an API caller's values to the handler as they come, where the settings' rows check
    them (naming the field): Gradio's own checks would log a traceback and not say which field is wrong."""
    for widget in widgets:
        widget.preprocess = _as_given
    return widgets[0] if len(widgets) == 1 else widgets


def _as_given(payload):
    return payload


def slider(row, step, **kwargs) -> gr.Slider:
    """A slider over a settings row's limits (``cs_core.tab_settings``), at its default; its values are checked
    by the row."""
    return raw(gr.Slider(row.low, row.high, value=row.default, step=step, **kwargs))


def as_int(value):
    """Gradio numbers arrive as floats; whole ones become ints, anything else goes to the core as is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------- priors, loaded once at start

MISSING_PRIORS: dict[str, str] = {}


def load_priors(device: torch.device) -> dict[str, str]:
    """Load every prior once at start; ``{name: fix message}`` for those that could not be loaded."""
    MISSING_PRIORS.clear()
    for name, prior in PRIORS.items():
        try:
            prior.load(device)
        except InputError as exc:
            MISSING_PRIORS[name] = str(exc)
    return dict(MISSING_PRIORS)


def usable_methods(domain: str) -> list[str]:
    """The domain's methods, less those built on a prior that could not be loaded (``<method>-<prior>``)."""
    return [n for n in methods_for(domain) if n.rsplit("-", 1)[-1] not in MISSING_PRIORS]


def default_methods(domain: str) -> list[str]:
    """The preselected methods: the domain's preset, less CSGM with a prior that could not be loaded."""
    offered = usable_methods(domain)
    return [n for n in DEFAULT_METHODS[domain] if n in offered] or offered[:1]


def warm_up(device: torch.device) -> None:
    """One 1-iteration run of every loadable method at start, so a visitor's first Run does not pay the
    one-time costs (lazy imports such as the optimiser's, first kernels)."""
    for name in DOMAINS:
        dom = get_domain(name)
        problem = make_problem(torch.zeros((1, *dom.shape)), dom, "gaussian", {"m": 10}, 0.0, 0, device)
        run_to_end(problem, usable_methods(name), Options(iterations=1, restarts=1))


# ---------------------------------------------------------------- run / stop plumbing

def session_id(request) -> str:
    return getattr(request, "session_hash", None) or "api"


@dataclass
class Run:
    """One session's run, as Stop sees it."""
    stop: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    emitting: bool = False  # from reading the stop flag until Gradio has taken the frame (resumed the generator)
    progress: str = ""      # the latest status line, less its final word
    record: RunRecord | None = None  # everything the run streamed, for the exports


class Runs:
    """The runs of one tab, one per browser session, so Stop reaches the run of the visitor who pressed it. Only
    the ``keep`` sessions that started a run last are remembered (a record holds every snapshot of a run, so
    their memory stays bounded however many visitors come); the runs still going are always among them, since a
    tab runs at most its concurrency limit (far below ``keep``) at once and a run starts only when it is served."""

    def __init__(self, keep: int = KEPT_SESSIONS):
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self.keep = keep

    def start(self, request: gr.Request | None) -> Run:
        """A new run for the session; it keeps the last run's record until it records one of its own."""
        key = session_id(request)
        previous = self._runs.pop(key, None)
        run = self._runs[key] = Run(record=previous.record if previous else None)
        while len(self._runs) > self.keep:
            self._runs.popitem(last=False)
        return run

    def get(self, request: gr.Request | None) -> Run | None:
        return self._runs.get(session_id(request))

    def stop(self, request: gr.Request = None) -> None:
        """Stop for a tab whose Stop shows nothing: the session's run ends at its next frame (status ``stopped``)."""
        run = self._runs.get(session_id(request))
        if run is not None:
            run.stop.set()

    def request_stop(self, request: gr.Request = None):
        """Ask the session's run to stop and wait until no frame that read "running" can still be on its way,
        so the status reliably ends with "stopped" (``cancels`` alone would also drop a queued run)."""
        run = self._runs.get(session_id(request))
        if run is None or run.finished.is_set():
            return gr.skip()
        run.stop.set()
        deadline = time.monotonic() + STOP_WAIT
        while run.emitting and not run.finished.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        return f"{run.progress} · stopped" if run.progress else "stopped"


def in_background(items, stop: threading.Event, beat: float = HEARTBEAT):
    """Iterate ``items`` (a core generator) in a thread of its own and yield what it yields, or None after every
    ``beat`` seconds without an item and as soon as ``stop`` is set; so the handler reaches a ``yield`` at least
    that often (where a cancel lands) and answers Stop at once. Closing this generator before the items end sets
    ``stop`` (the core reads it through its ``should_stop``), and the thread closes ``items`` after its current
    item."""
    box: queue.Queue = queue.Queue(maxsize=1)
    closed = threading.Event()
    finished = False

    def work():
        try:
            for item in items:
                while not closed.is_set():
                    with contextlib.suppress(queue.Full):
                        box.put((True, item), timeout=0.1)
                        break
                if closed.is_set():
                    break
            box.put((False, None))
        except BaseException as exc:  # noqa: BLE001 - handed over to the handler's thread
            box.put((False, exc))
        finally:
            items.close()

    threading.Thread(target=work, name="in-background", daemon=True).start()
    try:
        last = time.monotonic()
        while True:
            try:
                more, item = box.get(timeout=0.05)
            except queue.Empty:
                if stop.is_set() or time.monotonic() - last >= beat:
                    last = time.monotonic()
                    yield None
                continue
            if not more:
                finished = True
                if item is not None:
                    raise item
                return
            yield item
    finally:
        closed.set()
        if not finished:
            stop.set()


# ---------------------------------------------------------------- errors

LOG = logging.getLogger("csgm.app")
if not LOG.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOG.addHandler(_handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False


@contextlib.contextmanager
def _shown(oom: str | None, where: str):
    """The visitor sees what went wrong; the server log gets one line per input error and the traceback (under
    the id shown to the visitor) of anything unexpected."""
    try:
        yield
    except gr.Error:
        raise
    except InputError as exc:
        LOG.info("input error in %s: %s", where, exc)
        raise gr.Error(str(exc), print_exception=False) from None
    except torch.cuda.OutOfMemoryError:
        if oom is None:
            raise
        LOG.warning("out of memory in %s", where)
        raise gr.Error(oom, print_exception=False) from None
    except Exception:
        ident = uuid.uuid4().hex[:8]
        LOG.exception("internal error %s in %s", ident, where)
        raise gr.Error(f"internal error (id {ident}): this is a fault of the app, not of your settings",
                       print_exception=False) from None


def user_errors(fn=None, *, oom: str | None = None):
    """Decorate a handler (plain or streaming): the core's ``InputError`` (which names the field and its range)
    becomes a ``gr.Error`` with the same text (one line in the server log, no traceback); given ``oom``, running
    out of GPU memory becomes ``gr.Error(oom)``; any other exception is logged with its traceback under an id,
    and the visitor sees "internal error (id …)"."""
    if fn is None:
        return functools.partial(user_errors, oom=oom)
    where = getattr(fn, "__name__", "handler")
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def streaming(*args, **kwargs):
            try:
                with _shown(oom, where):
                    yield from fn(*args, **kwargs)
            finally:
                release_memory()
        return streaming

    @functools.wraps(fn)
    def plain(*args, **kwargs):
        try:
            with _shown(oom, where):
                return fn(*args, **kwargs)
        finally:
            release_memory()
    return plain
