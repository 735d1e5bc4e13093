"""The webcam in a real browser: Chromium's fake camera plays a gallery photo, the visitor captures a frame in the
faces domain, the photo is cropped to its face, and the run reaches done."""
import numpy as np
import pytest
from helpers import ARTIFACTS, STATUS, status_ends_with
from PIL import Image

from cs_core.assets import get_asset

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.timeout(300)]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")

WIDTH, HEIGHT = 640, 480


def write_y4m(photo: np.ndarray, path) -> None:
    """One 4:2:0 frame of ``photo`` (H, W, 3) uint8, centred on a grey 640×480 canvas (BT.601 full-range YCbCr)."""
    canvas = np.full((HEIGHT, WIDTH, 3), 128, dtype=np.uint8)
    side = HEIGHT - 80
    face = np.asarray(Image.fromarray(photo).resize((side, side), Image.LANCZOS))
    top, left = (HEIGHT - side) // 2, (WIDTH - side) // 2
    canvas[top:top + side, left:left + side] = face
    ycbcr = np.asarray(Image.fromarray(canvas).convert("YCbCr"))
    y = ycbcr[..., 0]
    cb, cr = (ycbcr[..., c].reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean((1, 3)).round().astype(np.uint8)
              for c in (1, 2))
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg\n".encode())
        f.write(b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes())


def test_a_webcam_capture_is_cropped_to_the_face_and_runs_to_done(running_app, launch_chromium, tmp_path):
    camera = tmp_path / "camera.y4m"
    write_y4m(np.asarray(Image.open(get_asset("astronaut-face").path).convert("RGB")), camera)
    flags = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
             f"--use-file-for-fake-video-capture={camera}"]
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app() as url, sync_api.sync_playwright() as p:
        browser = launch_chromium(p, *flags)
        context = browser.new_context(viewport={"width": 1500, "height": 1100}, permissions=["camera"])
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_selector("#truth img")
        page.locator("#domain").get_by_label("Faces · 64×64 RGB").check()
        page.get_by_role("tab", name="Upload").click()
        page.locator("#upload [aria-label='Capture from camera']").click()
        page.screenshot(path=str(ARTIFACTS / "app-webcam-source.png"), full_page=True)
        page.locator("#upload").get_by_text("Click to Access Webcam").click()
        page.wait_for_function("(() => { const v = document.querySelector('#upload video');"
                               " return v && v.readyState >= 2 && v.videoWidth > 0; })()")
        before = page.input_value(STATUS)
        page.locator("#upload [title='capture photo']").click()
        page.wait_for_function("document.querySelector('#truth img') && "
                               "document.querySelector('#truth').innerText.includes('face')")
        methods = page.locator("#methods")
        for name in ("Lasso (wavelet)", "CSGM (DCGAN)"):
            box = methods.get_by_label(name, exact=True)
            if box.is_checked():
                box.uncheck()
        methods.get_by_label("Lasso (DCT)", exact=True).check()
        page.click("#run-btn")
        page.wait_for_function(status_ends_with("done", before), timeout=180_000)
        status = page.input_value(STATUS)
        page.screenshot(path=str(ARTIFACTS / "app-webcam.png"), full_page=True)
        browser.close()
    assert "largest face" in status, status
