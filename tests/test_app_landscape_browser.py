"""The "Why descent works" tab in a real browser: Run streams the heat map live, Stop halts it, a run ends "done".

With UPDATE_SCREENSHOT=1 the finished run also becomes docs/screenshot-landscape.png.
"""
import os
import shutil
import time

import pytest
from helpers import ARTIFACTS, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(300)]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")

STATUS = "#ls-status textarea"
# Records every new picture of the heat map (gr.Plot draws a matplotlib figure as an <img>).
WATCH_HEAT = """() => {
  window.__heat = [];
  const root = document.querySelector('#ls-heat');
  const record = () => {
    const img = root.querySelector('img');
    const last = window.__heat[window.__heat.length - 1];
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

        set_slider(page, "ls-steps", "1000")       # a long run, to be stopped
        page.evaluate(WATCH_HEAT)
        page.click("#ls-run-btn")
        page.wait_for_function("window.__heat.length >= 2", timeout=90_000)   # the paths move live
        page.click("#ls-stop-btn")
        page.wait_for_function(ends_with("stopped"), timeout=15_000)
        stopped_at = page.evaluate("window.__heat.length")
        status = page.input_value(STATUS)
        time.sleep(2.0)
        assert page.evaluate("window.__heat.length") <= stopped_at + 1, "the heat map kept changing after Stop"
        assert "reached z*" in status and "step 1000/1000" not in status, status

        set_slider(page, "ls-steps", "60")
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
