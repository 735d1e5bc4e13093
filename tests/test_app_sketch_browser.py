"""The "Learn from a sketch" tab in a real browser: Sketch → data, sizes and density; Train streams and Stop stops."""

import pytest
from helpers import ARTIFACTS

STATUS = "document.querySelector('#sketch-status textarea').value.trim()"

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(300)]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


def set_slider(page, elem_id: str, value: int):
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def test_sketch_tab_sketches_trains_live_and_stops(running_app, open_page):
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app() as url, sync_api.sync_playwright() as p:
        browser, page = open_page(p, url)
        page.get_by_role("tab", name="Learn from a sketch").click()
        page.get_by_label("circles").check()
        set_slider(page, "sketch-m", 200)
        page.click("#sketch-btn")
        page.wait_for_selector("#sketch-data img")
        page.wait_for_selector("#sketch-density img")
        sizes = page.inner_text("#sketch-sizes")
        assert "20,000 points" in sizes and "400 floats" in sizes and "3,200 bytes" in sizes, sizes

        set_slider(page, "sketch-steps", 3000)
        page.click("#sketch-train-btn")
        page.wait_for_function(f"{STATUS}.endsWith('running') && !{STATUS}.startsWith('step 0/')")
        page.wait_for_selector("#sketch-samples img")
        page.click("#sketch-stop-btn")
        page.wait_for_function(f"{STATUS}.endsWith('stopped')")
        status = page.input_value("#sketch-status textarea")
        assert "held-out energy distance" in status and "step 3000/" not in status.split("·")[0], status

        set_slider(page, "sketch-steps", 100)
        page.click("#sketch-train-btn")
        page.wait_for_function(f"{STATUS}.endsWith('done')", timeout=120_000)
        assert page.input_value("#sketch-status textarea").startswith("step 100/100")
        page.wait_for_selector("#sketch-loss svg")
        page.screenshot(path=str(ARTIFACTS / "app-sketch.png"), full_page=True)

        href = page.get_attribute("#sketch-mnist-caption a", "href")  # into the Reconstruct tab, prior selected
        assert href.startswith("?") and "csgm-sketch" in href, href
        page.goto(url.rstrip("/") + "/" + href)
        page.wait_for_function("[...document.querySelectorAll('label')].some(l => l.innerText.trim() === "
                               "'CSGM (SKETCH)' && l.querySelector('input:checked'))")
        browser.close()
