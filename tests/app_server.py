"""Launch the demo in-process on a free loopback port, for the API and browser tests."""
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ["no_proxy"] = os.environ["NO_PROXY"]

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # demo_app.py lives at the repository root
    sys.path.insert(0, str(ROOT))
ARTIFACTS = ROOT / "test-artifacts"
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
def running_app():
    """Yield the URL of a freshly built demo; close it afterwards."""
    import demo_app

    demo = demo_app.build_demo()
    _, url, _ = demo_app.launch(demo, "127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield url
    finally:
        demo.close()


def open_page(playwright, url: str, width: int = 1500, height: int = 1100):
    """Debian Chromium with the offline flags and one page at ``url`` (30 s default timeout): (browser, page)."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(30_000)
    page.goto(url)
    return browser, page
