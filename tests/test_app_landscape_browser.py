"""The "Why descent works" tab in a real browser: the default Run shows the paths moving (≥ 10 frames) and ends
"n of N reached z*"; Stop halts a run; in kiosk mode a visitor's Run there pre-empts autoplay.

With UPDATE_SCREENSHOT=1 the finished run also becomes docs/screenshot-landscape.png.
"""
import os
import re
import shutil
import time

import pytest
from helpers import ARTIFACTS, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(300)]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")

STATUS = "#ls-status textarea"
# Records every new picture of the heat map after the one on screen now (an <img> whose src changes with each frame;
# the server names a picture by its content, so a frame where nothing moved would not count).
WATCH_HEAT = """() => {
  window.__heat = [];
  const root = document.querySelector('#ls-heat');
  const shown = root.querySelector('img')?.src;
  const record = () => {
    const img = root.querySelector('img');
    const last = window.__heat.length ? window.__heat[window.__heat.length - 1] : shown;
    if (img && img.src && last !== img.src) window.__heat.push(img.src);
  };
  new MutationObserver(record).observe(root, {subtree: true, childList: true, attributes: true});
}"""


def ends_with(word: str) -> str:
    return f"document.querySelector('{STATUS}').value.trim().endsWith('{word}')"


def set_slider(page, elem_id: str, value: str):
    field = page.locator(f"#{elem_id} input[type=number]")
    field.fill(value)
    field.press("Enter")
    page.wait_for_function(f"document.querySelector('#{elem_id} input[type=range]').value === '{value}'")


def test_landscape_tab_streams_stops_and_finishes(running_app, open_page):
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app() as url, sync_api.sync_playwright() as p:
        browser, page = open_page(p, url)
        page.get_by_role("tab", name="Why descent works").click()
        page.wait_for_selector("#ls-run-btn")

        page.click("#ls-run-btn")                  # the defaults, to done
        page.wait_for_function(ends_with("done"), timeout=60_000)
        status = page.input_value(STATUS)
        assert re.match(r"\d+ of 32 reached z\* · step 100/100 ", status), status

        set_slider(page, "ls-steps", "1000")       # the slowest run the sliders allow (seconds), to be stopped
        set_slider(page, "ls-starts", "128")
        set_slider(page, "ls-m", "1000")
        page.evaluate(WATCH_HEAT)
        page.click("#ls-run-btn")
        page.wait_for_function("window.__heat.length >= 1", timeout=90_000)   # the paths move live
        page.click("#ls-stop-btn")
        page.wait_for_function(ends_with("stopped"), timeout=15_000)
        stopped_at = page.evaluate("window.__heat.length")
        status = page.input_value(STATUS)
        time.sleep(2.0)
        assert page.evaluate("window.__heat.length") <= stopped_at + 1, "the heat map kept changing after Stop"
        assert "reached z*" in status and "step 1000/1000" not in status, status

        set_slider(page, "ls-steps", "60")
        set_slider(page, "ls-starts", "32")
        set_slider(page, "ls-m", "200")
        page.get_by_label("GD + negation check").check()
        page.click("#ls-run-btn")
        page.wait_for_function(ends_with("done"), timeout=120_000)
        status = page.input_value(STATUS)
        assert status.startswith("32 of 32 reached z*") and "step 60/60" in status, status
        page.wait_for_selector("#ls-ends img")
        shot = ARTIFACTS / "app-landscape.png"
        page.locator("#landscape-tab").screenshot(path=str(shot))
        if os.environ.get("UPDATE_SCREENSHOT"):
            shutil.copy(shot, ROOT / "docs" / "screenshot-landscape.png")
        browser.close()


def test_the_default_run_shows_the_paths_moving_in_at_least_10_frames(running_app, open_page):
    with running_app() as url, sync_api.sync_playwright() as p:
        browser, page = open_page(p, url)
        page.get_by_role("tab", name="Why descent works").click()
        page.wait_for_selector("#ls-run-btn")
        page.evaluate(WATCH_HEAT)
        page.click("#ls-run-btn")
        page.wait_for_function(ends_with("running"), polling="raf")
        page.wait_for_function(ends_with("done"), timeout=60_000)
        assert re.match(r"\d+ of 32 reached z\* · step 100/100 ", page.input_value(STATUS))
        frames = page.evaluate("window.__heat.length")
        browser.close()
    assert frames >= 10, f"{frames} frames of the paths moving"


def test_a_visitors_run_in_the_landscape_tab_preempts_kiosk_autoplay(running_app, launch_chromium, monkeypatch):
    from ui import reconstruct
    if not reconstruct.examples()[0]:
        pytest.skip("the image gallery (assets/manifest.json) is not installed: no autoplay examples")
    monkeypatch.setenv("CSGM_DEMO_KIOSK", "1")
    monkeypatch.setenv("CSGM_DEMO_IDLE_SECONDS", "2")
    kiosk_status = "(document.querySelector('#status textarea')?.value ?? '').trim()"  # '' until the page is built
    with running_app() as url, sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        booth = browser.new_page(viewport={"width": 1500, "height": 1000})
        booth.goto(url)
        booth.wait_for_function(f"{kiosk_status}.startsWith('autoplay · ') && {kiosk_status}.endsWith('running')",
                                timeout=60_000)
        visitor = browser.new_context().new_page()            # another visitor, on another screen
        visitor.goto(url)
        visitor.get_by_role("tab", name="Why descent works").click()
        for elem_id, value in (("ls-steps", "1000"), ("ls-starts", "128"), ("ls-m", "1000")):
            set_slider(visitor, elem_id, value)  # a run of several seconds: longer than autoplay's idle pause
        visitor.click("#ls-run-btn")
        # the autoplay run in progress stops, or the next one waits, while the visitor's run has the device
        booth.wait_for_function(f"{kiosk_status}.includes(\"a visitor's run has the device\")", timeout=30_000)
        visitor.wait_for_function(f"(document.querySelector('{STATUS}')?.value ?? '').trim().endsWith('done')",
                                  timeout=60_000)
        browser.close()
