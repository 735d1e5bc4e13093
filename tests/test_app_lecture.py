"""For a lecture, in a real browser: a drawn mask hides exactly the painted pixels; the run exports as GIF, PNG
and CSV that download and open; the compare slider shows the truth against a chosen method.

The app runs in this process, so the test can see what the browser sent (the painted layer) and compare it with
the sensor view the page shows.
"""
import csv
import io
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from helpers import ARTIFACTS, STATUS
from PIL import Image

from cs_core.operators.inpaint import drawn_mask

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(300)]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


@pytest.fixture(scope="module")
def session(running_app, launch_chromium):
    """One page and the layers the server received from its mask editor."""
    from ui.reconstruct import form as reconstruct
    received = []
    original = reconstruct.painted

    def spy(editor):
        received.append(original(editor))
        return received[-1]

    reconstruct.painted = spy
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with running_app() as url, sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1500, "height": 1200}, accept_downloads=True)
            page.set_default_timeout(30_000)
            page.goto(url)
            page.wait_for_selector("#truth img")
            yield page, received
            browser.close()
    finally:
        reconstruct.painted = original


def image_of(page, selector: str) -> np.ndarray:
    src = page.locator(f"{selector} img").first.get_attribute("src")
    with urllib.request.urlopen(src) as response:
        return np.asarray(Image.open(io.BytesIO(response.read())).convert("L")).astype(int)


def run_to_done(page):
    before = page.input_value(STATUS)
    page.click("#run-btn")
    page.wait_for_function(f"(() => {{ const s = document.querySelector('{STATUS}').value.trim(); "
                           f"return s.endsWith('done') && s !== {before.strip()!r}; }})()", timeout=120_000)


def test_drawn_mask_hides_exactly_the_painted_pixels(session):
    page, received = session
    page.locator("#advanced").get_by_text("Advanced settings").click()
    page.locator("#iterations textarea").fill("60")
    page.locator("#operator").get_by_text("Inpainting").click()
    page.locator("#mask").get_by_text("drawn by you").click()
    canvas = page.locator("#mask-editor canvas").first
    canvas.wait_for()
    time.sleep(1.0)  # the background image is laid on the canvas
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - 40, cy - 10)
    page.mouse.down()
    for step in range(1, 11):                      # a stroke across the middle of the digit
        page.mouse.move(cx - 40 + 8 * step, cy - 10 + 2 * step)
    page.mouse.up()
    page.screenshot(path=str(ARTIFACTS / "lecture-mask-painted.png"), full_page=True)
    run_to_done(page)
    assert received and received[-1] is not None, "the painted layer did not reach the server"
    hidden = ~drawn_mask(received[-1], 28).numpy()
    assert 3 <= hidden.sum() < 28 * 28 / 2, f"{hidden.sum()} pixels hidden"
    view = image_of(page, "#measurements")
    k = view.shape[0] // 28
    pixels = view[k // 2::k, k // 2::k][:28, :28]  # the centre of each displayed (nearest-upscaled) pixel
    truth = image_of(page, "#truth")[k // 2::k, k // 2::k][:28, :28]
    grey = np.abs(pixels - 128) <= 1
    assert np.array_equal(grey & hidden, hidden), "a painted pixel was measured"
    measured = ~hidden
    assert np.abs(pixels[measured] - truth[measured]).max() <= 1, "a pixel that was not painted is hidden"
    assert "m = " + str(28 * 28 - int(hidden.sum())) in page.locator("#measurements").inner_text()
    page.screenshot(path=str(ARTIFACTS / "lecture-mask-run.png"), full_page=True)


def download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def test_export_downloads_a_gif_png_and_csv_that_open(session):
    page, _ = session
    page.click("#export-btn")
    page.wait_for_selector("#export-gif", state="visible", timeout=60_000)
    gif = Image.open(io.BytesIO(download(page, "#export-gif")))
    png = Image.open(io.BytesIO(download(page, "#export-png")))
    rows = list(csv.DictReader(io.StringIO(download(page, "#export-csv").decode())))
    assert gif.format == "GIF" and gif.n_frames >= 10
    assert png.format == "PNG" and gif.size == png.size
    assert gif.size[0] >= 4 * 28 * 5  # truth, sensor view and two methods side by side
    methods = {r["method"] for r in rows}
    assert methods == {"lasso-dct", "csgm-vae"}
    assert max(int(r["iteration"]) for r in rows) == 60 and sum(r["final"] == "1" for r in rows) == 2
    page.screenshot(path=str(ARTIFACTS / "lecture-export.png"), full_page=True)


def test_compare_slider_shows_truth_against_the_chosen_method(session):
    page, _ = session
    slider = page.locator("#compare-slider img")
    assert slider.count() == 2
    first = slider.nth(1).get_attribute("src")
    page.locator("#compare-method input").click()
    page.get_by_role("option", name="CSGM (VAE)").click()
    page.wait_for_function("document.querySelectorAll('#compare-slider img')[1].src !== " + repr(first))
    page.screenshot(path=str(ARTIFACTS / "lecture-compare.png"), full_page=True)
