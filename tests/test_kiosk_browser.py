"""In a real browser: a settings link restores the form; kiosk autoplay starts by itself, runs an example to done,
goes on to the next, stops on a click, resumes when idle again, and gives way to a visitor's run.

With UPDATE_SCREENSHOT=1 the kiosk view becomes docs/screenshot-kiosk.png.
"""
import json
import os
import shutil
import time
from contextlib import contextmanager

import pytest
from helpers import ARTIFACTS, ROOT, STATUS, status_ends_with

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(300)]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")
STATUS_JS = f"document.querySelector('{STATUS}').value.trim()"
PREEMPTED = "a visitor's run has the device · stopped"
IDLE = "2"  # seconds untouched before autoplay (CSGM_DEMO_IDLE_SECONDS)
LINK = ("domain=faces&asset=face-gen-seed-1001&op=inpaint&mask=center&mask_size=20&noise=0.01"
        "&methods=lasso-dct,csgm-dcgan&seed=4")


@contextmanager
def environment(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture(scope="module")
def browser(launch_chromium):
    from ui import reconstruct
    if not reconstruct.examples()[0]:
        pytest.skip("the image gallery (assets/manifest.json) is not installed: no examples")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


def open_page(browser, url: str, width: int = 1500, height: int = 1000):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector("#truth img")
    return page


def checked(page, elem_id: str) -> list[str]:
    """The labels of the ticked choices."""
    return page.locator(f"#{elem_id} input:checked").evaluate_all("els => els.map(e => e.closest('label').innerText.trim())")


def test_a_link_restores_the_form_and_follows_it(browser, running_app):
    with environment(CSGM_DEMO_KIOSK="0"), running_app() as url:
        page = open_page(browser, f"{url}?{LINK}")
        page.wait_for_function("document.querySelector('#settings-link textarea').value.includes('domain=faces')")
        assert checked(page, "domain") == ["Faces · 64×64 RGB"] and checked(page, "operator") == ["Inpainting"]
        assert page.input_value("#mask-size input") == "20" and page.input_value("#noise input") == "0.01"
        assert checked(page, "methods") == ["Lasso (DCT)", "CSGM (DCGAN)"]
        assert page.input_value("#asset input") == "face-gen-seed-1001 · faces"
        page.wait_for_function("document.querySelector('#truth [data-testid=block-label]').innerText.includes('64')")
        assert page.input_value("#settings-link textarea") == f"{url.rstrip('/')}/?{LINK}"
        noise = page.locator("#noise input")
        noise.fill("0.05")
        noise.press("Enter")
        page.wait_for_function("document.querySelector('#settings-link textarea').value.includes('noise=0.05')")

        page.goto(f"{url}?domain=cats&m=abc&noise=0.02")  # bad values: ignored, with a warning naming them
        page.wait_for_selector("#truth img")
        warning = page.get_by_text("partly ignored")
        warning.wait_for()
        text = page.locator(".toast-body").first.inner_text()
        assert "domain: must be one of mnist, faces; got 'cats'" in text and "m: must be a whole number" in text
        assert checked(page, "domain") == ["MNIST digits · 28×28"] and page.input_value("#m input") == "100"
        page.wait_for_function("document.querySelector('#noise input').value === '0.02'")
        page.close()


def test_kiosk_autoplay_starts_by_itself_stops_on_a_click_and_gives_way_to_visitors(browser, running_app):
    from gradio_client import Client
    with environment(CSGM_DEMO_KIOSK="1", CSGM_DEMO_IDLE_SECONDS=IDLE), running_app() as url:
        page = open_page(browser, url, 1920, 1080)
        # nobody touches the page: the first example starts, runs to done, then the next one starts
        page.wait_for_function(f"{STATUS_JS}.startsWith('autoplay · MNIST digit')")
        assert page.locator("#kiosk-banner").is_visible()
        page.wait_for_function(status_ends_with("done"), timeout=90_000)
        first = page.input_value(STATUS)
        time.sleep(0.5)  # the last frame's images settle
        shot = ARTIFACTS / "app-kiosk.png"
        page.screenshot(path=str(shot))
        if os.environ.get("UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(shot, ROOT / "docs" / "screenshot-kiosk.png")
        page.wait_for_function(f"{STATUS_JS}.startsWith('autoplay · Face · m = 500') && "
                               f"{STATUS_JS}.endsWith('running')", timeout=30_000)

        # a click (here on another tab) hands the page to the visitor: autoplay stops and stays off while they are there
        page.get_by_role("tab", name="Measurements vs error").click()
        page.wait_for_function(status_ends_with("stopped"), timeout=10_000)
        assert not page.locator("#kiosk-banner").is_visible()
        stopped = page.input_value(STATUS)
        time.sleep(1.0)
        assert page.input_value(STATUS) == stopped

        # untouched again for the idle time: autoplay resumes with the next example, on the Reconstruct tab
        page.wait_for_function(f"{STATUS_JS}.startsWith('autoplay · Face · 32×32') && "
                               f"{STATUS_JS}.endsWith('running')", timeout=30_000)
        assert page.locator("#status").is_visible()
        # a visitor's run (here through the API) pre-empts it
        visitor = Client(url, verbose=False).submit(
            asset="digit-test-0254", upload=None, domain="mnist", operator="gaussian", m=50, mask="center",
            mask_size=None, keep=0.5, factor=None, noise=0.0, methods=["lasso-dct"], iterations="30", restarts=None,
            lr=None, lam=None, csgm_lam=None, seed=0, device="auto", api_name="/reconstruct")
        page.wait_for_function(f"{STATUS_JS}.endsWith({json.dumps(PREEMPTED)})", timeout=30_000)
        assert visitor.result()[0].endswith("done")
        print(f"\nkiosk: first autoplay run: {first}\nafter the click: {stopped}\npre-empted: {page.input_value(STATUS)}")
        page.close()

