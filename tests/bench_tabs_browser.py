"""Benchmark (not a test): a visitor's first clicks in the Landscape and Sketch tabs, in Chromium, against the CLI.

    flock /tmp/heavy.lock .venv/bin/python tests/bench_tabs_browser.py [--root CHECKOUT] [--repeats 3] > out.json

- landscape: wall time of ``python -m cs_core landscape descend`` with the tab's defaults (Python's start-up
  included), then in the browser Run → status ``… done`` (each click a new seed, so no problem is cached; the
  first click of the server is reported apart) and the heat map's frames counted by a MutationObserver;
- sketch: Train → ``… done`` with the tab's defaults (sketching included: no Sketch click first), and the
  distances its status reports, on gmm, circles, spiral and a circle painted on the canvas with the mouse.
``--root`` runs the app of another checkout (e.g. an older commit unpacked with ``git archive``), for before/after.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

CLI = ["landscape", "descend", "--k", "2", "--widths", "50,500", "--m", "200", "--starts", "32", "--method", "gd",
       "--steps", "100", "--json"]
WATCH = """(id) => {
  window.__frames = 0;
  const root = document.querySelector('#' + id);
  let last = root.querySelector('img')?.src;   // a new frame is a picture other than the one before it
  new MutationObserver(() => {
    const img = root.querySelector('img');
    if (img && img.src && img.src !== last) { last = img.src; window.__frames += 1; }
  }).observe(root, {subtree: true, childList: true, attributes: true});
}"""


def status_ends(selector: str, *words: str) -> str:
    return f"(() => {{ const v = document.querySelector('{selector}').value.trim(); " \
           f"return {' || '.join(f'v.endsWith({word!r})' for word in words)}; }})()"


def run_until_done(page, button: str, status: str) -> float:
    """Click ``button``; seconds until ``status`` reads ``… done`` (after it has read ``… running``)."""
    start = time.perf_counter()
    page.click(button)
    page.wait_for_function(status_ends(status, "running"), timeout=300_000, polling="raf")
    page.wait_for_function(status_ends(status, "done", "stopped", "limit"), timeout=300_000, polling="raf")
    return time.perf_counter() - start


def paint_a_circle(page) -> None:
    """A circle drawn on the Sketch tab's canvas like a visitor with the mouse (the draw tool picked first)."""
    page.locator("#sketch-canvas").scroll_into_view_if_needed()
    page.locator("#sketch-canvas button[aria-label*='raw' i], #sketch-canvas button[aria-label*='rush' i]").first.click()
    canvas = page.locator("#sketch-canvas canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, min(box["width"], box["height"]) / 3
    page.mouse.move(cx + r, cy)
    page.mouse.down()
    for i in range(1, 61):
        page.mouse.move(cx + r * math.cos(i * math.pi / 30), cy + r * math.sin(i * math.pi / 30), steps=2)
    page.mouse.up()


def cli_seconds(root: Path, seed: int) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cs_core", *CLI, "--seed", str(seed)], cwd=root, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", choices=["landscape", "sketch"], action="append", default=[])
    args = parser.parse_args()
    root = Path(args.root).resolve()
    os.chdir(root)
    sys.path[:0] = [str(root), str(root / "tests")]
    from app_server import open_page, running_app
    from playwright.sync_api import sync_playwright

    report = {"root": str(root), "load_before": os.getloadavg(), "landscape": [], "sketch": []}
    with contextlib.redirect_stdout(sys.stderr), running_app() as url, sync_playwright() as p:  # stdout: the JSON
        browser, page = open_page(p, url)
        if "landscape" not in args.skip:
            page.get_by_role("tab", name="Why descent works").click()
            page.wait_for_selector("#ls-run-btn")
            page.evaluate(WATCH, "ls-heat")
            for i in range(args.repeats + 1):
                seed = 100 + i
                seed_box = page.locator("#ls-seed input")
                seed_box.fill(str(seed))
                seed_box.press("Enter")
                frames = page.evaluate("window.__frames")
                seconds = run_until_done(page, "#ls-run-btn", "#ls-status textarea")
                status = page.input_value("#ls-status textarea")
                report["landscape"].append({"seed": seed, "first_click": i == 0, "browser_seconds": seconds,
                                            "frames": page.evaluate("window.__frames") - frames,
                                            "status": status, "cli_seconds": cli_seconds(root, seed)})
                print(json.dumps(report["landscape"][-1]), file=sys.stderr)
        if "sketch" not in args.skip:
            page.get_by_role("tab", name="Learn from a sketch").click()
            page.wait_for_selector("#sketch-train-btn")
            for dataset in ("gmm", "circles", "spiral", "your drawing"):
                if dataset == "your drawing":
                    paint_a_circle(page)
                page.get_by_label(dataset, exact=True).check()
                seconds = run_until_done(page, "#sketch-train-btn", "#sketch-status textarea")
                status = page.input_value("#sketch-status textarea")
                numbers = [float(x) for x in re.findall(r"\d+\.\d+", status)]
                report["sketch"].append({"dataset": dataset, "browser_seconds": seconds, "status": status,
                                         "numbers": numbers})
                print(json.dumps(report["sketch"][-1]), file=sys.stderr)
        browser.close()
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
