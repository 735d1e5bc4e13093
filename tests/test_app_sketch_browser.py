"""The "Learn from a sketch" tab in a real browser: Sketch → data, sizes and density; Train streams and Stop stops;
the default run ends below the single-Gaussian baseline; a shape drawn on the canvas is sketched and trained."""
import math
import re

import pytest
from helpers import ARTIFACTS

STATUS = "document.querySelector('#sketch-status textarea').value.trim()"

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(300)]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


def set_slider(page, elem_id: str, value: int):
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def distances(status: str) -> tuple[float, float, float]:
    """(trained, untrained, single Gaussian) held-out distances of a status line."""
    found = re.search(r"energy distance ([\d.]+) \(untrained ([\d.]+), single Gaussian ([\d.]+)\)", status)
    return tuple(float(x) for x in found.groups())


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

        from cs_core.sketching.learn import DEFAULT   # the defaults, on the spiral: visibly better than a blob
        page.get_by_label("spiral").check()
        set_slider(page, "sketch-m", DEFAULT.m)
        set_slider(page, "sketch-steps", DEFAULT.steps)
        page.click("#sketch-train-btn")
        page.wait_for_function(f"{STATUS}.endsWith('running')")
        page.wait_for_function(f"{STATUS}.endsWith('done')", timeout=120_000)
        status = page.input_value("#sketch-status textarea")
        assert status.startswith(f"step {DEFAULT.steps}/{DEFAULT.steps}"), status
        trained, untrained, gaussian = distances(status)
        assert trained < gaussian < untrained, status
        page.wait_for_selector("#sketch-loss svg")
        page.screenshot(path=str(ARTIFACTS / "app-sketch.png"), full_page=True)

        href = page.get_attribute("#sketch-mnist-caption a", "href")  # into the Reconstruct tab, prior selected
        assert href.startswith("?") and "csgm-sketch" in href, href
        page.goto(url.rstrip("/") + "/" + href)
        page.wait_for_function("[...document.querySelectorAll('label')].some(l => l.innerText.trim() === "
                               "'CSGM (SKETCH)' && l.querySelector('input:checked'))")
        browser.close()


def test_a_shape_drawn_on_the_canvas_is_sketched_and_trained(running_app, open_page):
    with running_app() as url, sync_api.sync_playwright() as p:
        browser, page = open_page(p, url)
        page.get_by_role("tab", name="Learn from a sketch").click()
        page.locator("#sketch-canvas").scroll_into_view_if_needed()
        page.locator("#sketch-canvas button[aria-label*='raw' i], #sketch-canvas button[aria-label*='rush' i]"
                     ).first.click()                  # the draw tool
        canvas = page.locator("#sketch-canvas canvas").first
        canvas.wait_for()
        box = canvas.bounding_box()
        cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, min(box["width"], box["height"]) / 3
        page.mouse.move(cx + r, cy)                       # a circle, drawn like a visitor with the mouse
        page.mouse.down()
        for i in range(1, 61):
            page.mouse.move(cx + r * math.cos(i * math.pi / 30), cy + r * math.sin(i * math.pi / 30), steps=2)
        page.mouse.up()
        page.get_by_label("your drawing").check()
        set_slider(page, "sketch-steps", 300)
        page.click("#sketch-btn")
        page.wait_for_function("document.querySelector('#sketch-sizes').innerText.includes('20,000 points')")
        page.wait_for_selector("#sketch-data img")
        page.click("#sketch-train-btn")
        page.wait_for_function(f"{STATUS}.endsWith('done')", timeout=120_000)
        status = page.input_value("#sketch-status textarea")
        trained, untrained, _ = distances(status)
        assert status.startswith("step 300/300") and trained < untrained / 3, status
        page.screenshot(path=str(ARTIFACTS / "app-sketch-drawn.png"), full_page=True)
        browser.close()
