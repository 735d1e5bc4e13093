"""Shared fixtures and markers.

Markers (pytest.ini): ``browser`` — drives Debian Chromium (skipped where /usr/bin/chromium is missing);
``server`` — starts the app (added by itself to every test that uses the ``running_app`` fixture).
``make test-fast`` runs ``-m "not browser and not server"``.
"""
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the tests' own gradio_client never asks the Hub

import pytest  # noqa: E402
import torch  # noqa: E402

import app_server  # noqa: E402
from cs_core.devices import available_devices  # noqa: E402


def pytest_collection_modifyitems(config, items):
    no_chromium = pytest.mark.skip(reason=f"needs Debian Chromium at {app_server.CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "running_app" in item.fixturenames and not item.get_closest_marker("server"):
            item.add_marker(pytest.mark.server)
        if item.get_closest_marker("browser") and not app_server.CHROMIUM.exists():
            item.add_marker(no_chromium)


@pytest.fixture(params=available_devices(), ids=str)
def device(request) -> torch.device:
    """Every test taking ``device`` runs on the CPU and, when present, on CUDA."""
    return request.param


@pytest.fixture(scope="session")
def running_app():
    """``with running_app() as url:`` serves a freshly built demo on a free loopback port
    (``running_app(with_demo=True)`` yields ``(demo, url)``)."""
    return app_server.running_app


@pytest.fixture(scope="session")
def open_page():
    """``browser, page = open_page(playwright, url, width, height)``: Chromium with one page at ``url``."""
    return app_server.open_page


@pytest.fixture(scope="session")
def launch_chromium():
    """``launch_chromium(playwright, *flags)``: Debian Chromium, headless, offline flags (plus ``flags``)."""
    return app_server.launch_chromium


@pytest.fixture(scope="session")
def served():
    """``with served(env, *command) as (url, process)``: the demo launched the way a user launches it
    (``python demo_app.py``, or ``python *command``), in a process of its own with exactly ``env``."""
    return app_server.served


@pytest.fixture(scope="session")
def free_port():
    """``free_port()``: a free port on 127.0.0.1."""
    return app_server.free_port


@pytest.fixture(scope="session")
def vae_available() -> bool:
    """Whether the MNIST VAE checkpoint loads."""
    return app_server.vae_available()
