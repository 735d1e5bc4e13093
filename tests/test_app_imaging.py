"""The MRI example in a real browser: one click sets the Fourier sensor and its controls, the k-space mask is
shown, and a run of TV, DIP, Lasso and CSGM on it streams to done."""
import pytest
from helpers import ARTIFACTS, STATUS, run_and_watch, set_iterations

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(300)]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


def test_mri_example_shows_its_controls_and_pattern_and_runs_to_done(running_app, open_page):
    from ui import reconstruct
    if "MRI ×4" not in reconstruct.examples()[1]:
        pytest.skip("the gallery image of the MRI example is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app() as url, sync_api.sync_playwright() as p:
        browser, page = open_page(p, url)
        page.wait_for_selector("#truth img")
        assert not page.locator("#accel").is_visible() and not page.locator("#sensor-pattern").is_visible()
        page.locator("#examples").get_by_text("MRI ×4").click()
        page.wait_for_selector("#sensor-pattern img")  # the k-space mask of the example's sensor
        assert page.locator("#operator input[value=fourier]").is_checked()
        assert page.locator("#accel input").input_value() == "4"
        assert not page.locator("#m").is_visible() and not page.locator("#kernel").is_visible()
        set_iterations(page, "15")
        _, seen = run_and_watch(page, "done", timeout_ms=120_000)
        assert seen, "no reconstruction frame arrived"
        status = page.input_value(STATUS)
        assert all(f"{label} 15/15" in status for label in ("TV", "Deep Image Prior", "CSGM (DCGAN)")), status
        assert "m = 6144" in page.locator("#measurements").inner_text()  # 16 of 64 lines × 64 × 3 channels × 2
        cells = page.locator("#metrics").inner_text()
        assert "TV" in cells and "Deep Image Prior" in cells
        page.locator("#operator").get_by_text("Blur").click()
        page.wait_for_selector("#kernel", state="visible")
        assert not page.locator("#accel").is_visible()
        page.screenshot(path=str(ARTIFACTS / "app-mri.png"), full_page=True)
        browser.close()
