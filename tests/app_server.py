"""The demo served in-process on a free loopback port or launched in a process of its own, and Debian Chromium to
look at it: the set-up behind the ``running_app``, ``served``, ``open_page``, ``launch_chromium`` and ``free_port``
fixtures of ``conftest.py`` (test modules use the fixtures)."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from helpers import ROOT

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ["no_proxy"] = os.environ["NO_PROXY"]

if str(ROOT) not in sys.path:  # demo_app.py lives at the repository root
    sys.path.insert(0, str(ROOT))
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; never a browser downloaded by playwright
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def vae_available() -> bool:
    """Whether the MNIST VAE checkpoint loads (tests using CSGM-VAE skip otherwise)."""
    from cs_core.errors import InputError
    from cs_core.priors import PRIORS
    try:
        PRIORS["vae"].load("cpu")
        return True
    except (KeyError, InputError):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(with_demo: bool = False):
    """Yield the URL of a freshly built demo (or ``(demo, url)``); close it afterwards. The app reads its
    environment (``CSGM_DEMO_*``) when built, so set that first."""
    import demo_app

    demo = demo_app.build_demo()
    _, url, _ = demo_app.launch(demo, "127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield (demo, url) if with_demo else url
    finally:
        demo.close()


@contextmanager
def served(env: dict, *command: str, timeout: float = 300.0):
    """``python *command --port P`` in a process of its own, with exactly ``env`` (``command`` defaults to
    ``demo_app.py``): yield (its URL, the process) once it answers; terminate it afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, *(command or ["demo_app.py"]), "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, deadline = f"http://127.0.0.1:{port}/", time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start (exit code {proc.poll()})")
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(30)


def launch_chromium(playwright, *flags: str):
    """Debian Chromium, headless, with the offline flags (and any further ``flags``)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, *flags])


def open_page(playwright, url: str, width: int = 1500, height: int = 1100):
    """Chromium with one page at ``url`` (30 s default timeout): (browser, page)."""
    browser = launch_chromium(playwright)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(30_000)
    page.goto(url)
    return browser, page
