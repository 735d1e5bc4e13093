"""Gradio demo of compressed sensing with generative priors: assemble the tabs of ``ui`` and launch.

    python demo_app.py [--host 127.0.0.1] [--port 7860] [--share] [--concurrency N] [--max-seconds S]
                       [--kiosk [--idle-seconds N]]

Each tab is a module of ``ui`` with a ``TITLE`` and a ``build``; all math lives in ``cs_core``.
"""
from __future__ import annotations

import argparse
import os
import threading

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from cs_core.devices import resolve_device  # noqa: E402
from cs_core.images import MAX_FILE_BYTES  # noqa: E402
from ui import common, kiosk, landscape, reconstruct, sketch, sweep  # noqa: E402

INTRO = f"""# Compressed sensing with generative models
Measure an image with far fewer numbers than pixels, then reconstruct it: **Lasso** looks for a
sparse image in a fixed basis, **CSGM** searches the latent space of a trained generator.
After Bora, Jalal, Price & Dimakis, *Compressed Sensing using Generative Models* (ICML 2017,
[arXiv:1703.03208]({common.PAPER_URL})). Pick an image and press **Run**.
"""


def build_demo(background_warm_up: bool = False) -> gr.Blocks:
    """The app's Blocks: priors are loaded and warmed up here, once, then every tab is built. With
    ``background_warm_up`` (the server's start) the warm-up runs in a thread beside the start-up, so the
    first page is served without waiting for it; tests keep it first, so their timings start from a quiet server."""
    device = resolve_device("auto")
    missing = common.load_priors(device)
    if background_warm_up:
        threading.Thread(target=common.warm_up, args=(device,), name="warm-up", daemon=True).start()
    else:
        common.warm_up(device)
    with gr.Blocks(title="Compressed sensing with generative models", delete_cache=(600, 3600),
                   fill_width=True) as demo:
        gr.Markdown(INTRO, elem_id="title")
        if missing:
            gr.Markdown("\n".join(f"> ⚠ Prior **{name}** is not available, so CSGM ({name}) cannot run: {msg}"
                                  for name, msg in missing.items()), elem_id="notice")
        with gr.Tab(reconstruct.TITLE, elem_id=reconstruct.ELEM_ID):
            reconstruct.build(demo, device)
        with gr.Tab(sweep.TITLE, elem_id=sweep.ELEM_ID):
            sweep.build(demo)
        with gr.Tab(landscape.TITLE, elem_id=landscape.ELEM_ID):
            landscape.build(demo)
        with gr.Tab(sketch.TITLE, elem_id=sketch.ELEM_ID):
            sketch.build(demo)
    demo.queue(max_size=common.QUEUE_SIZE, default_concurrency_limit=1)
    return demo


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, share: bool = False, **kwargs):
    """``demo.launch`` with the app's theme and CSS (Gradio 6 takes them here), offline by default; in kiosk
    mode also the kiosk's large type and its idle-detection script."""
    kwargs.setdefault("max_file_size", MAX_FILE_BYTES)  # uploads above it are refused by Gradio itself
    if kiosk.enabled():
        kwargs.update(css=common.CSS + kiosk.CSS, js=kiosk.js(reconstruct.TITLE))
    kwargs.setdefault("css", common.CSS)
    return demo.launch(server_name=host, server_port=port, share=share, theme=common.THEME, **kwargs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Compressed sensing with generative models: the demo.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to serve on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link (off by default)")
    parser.add_argument("--concurrency", type=int, help="runs at once on the device (default 1, env CSGM_DEMO_CONCURRENCY)")
    parser.add_argument("--max-seconds", type=float, help="wall-time cap per run (default 120, env CSGM_DEMO_MAX_SECONDS)")
    parser.add_argument("--kiosk", action="store_true", help="booth mode: large type, and autoplay of the examples "
                        "while nobody touches the page (env CSGM_DEMO_KIOSK=1)")
    parser.add_argument("--idle-seconds", type=float, help="kiosk: seconds untouched before autoplay (default 60, "
                        "env CSGM_DEMO_IDLE_SECONDS)")
    args = parser.parse_args(argv)
    if args.idle_seconds is not None and not args.idle_seconds > 0:
        parser.error("--idle-seconds must be > 0")
    if args.kiosk:
        os.environ["CSGM_DEMO_KIOSK"] = "1"
    if args.idle_seconds is not None:
        os.environ["CSGM_DEMO_IDLE_SECONDS"] = str(args.idle_seconds)
    if args.concurrency is not None:
        os.environ["CSGM_DEMO_CONCURRENCY"] = str(args.concurrency)
    if args.max_seconds is not None:
        os.environ["CSGM_DEMO_MAX_SECONDS"] = str(args.max_seconds)
    launch(build_demo(background_warm_up=True), args.host, args.port, args.share)


if __name__ == "__main__":
    main()
