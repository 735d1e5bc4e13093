"""The tabs' shared run/stop mechanism and error decorator (ui/common.py), without a server."""
import inspect

import pytest

gr = pytest.importorskip("gradio")

from cs_core.errors import InputError  # noqa: E402
from ui import common, landscape, sketch, sweep  # noqa: E402
from ui.reconstruct import handlers  # noqa: E402


class Visitor:
    def __init__(self, session_hash):
        self.session_hash = session_hash


def test_stop_reaches_only_the_visitor_who_pressed_it():
    runs = common.Runs()
    a, b = runs.start(Visitor("a")), runs.start(Visitor("b"))
    runs.stop(Visitor("a"))
    assert a.stop.is_set() and not b.stop.is_set()
    runs.stop(Visitor("nobody"))  # no run: nothing happens
    assert not runs.start(Visitor("a")).stop.is_set(), "a new run starts unstopped"


def test_request_stop_names_the_progress_and_skips_a_finished_run():
    runs = common.Runs()
    run = runs.start(Visitor("a"))
    run.progress = "device cpu · Lasso 10/100"
    assert runs.request_stop(Visitor("a")) == "device cpu · Lasso 10/100 · stopped"
    run.finished.set()
    assert not isinstance(runs.request_stop(Visitor("a")), str)


def test_user_errors_turns_input_errors_into_gr_errors_for_plain_and_streaming_handlers():
    @common.user_errors
    def plain(x):
        raise InputError(f"m must be from 1 to 784; got {x}")

    @common.user_errors(oom="use a smaller m")
    def streaming(x, request: gr.Request = None):
        yield x
        raise InputError("noise σ must be ≥ 0")

    assert inspect.isgeneratorfunction(streaming) and not inspect.isgeneratorfunction(plain)
    assert "request" in inspect.signature(streaming).parameters  # Gradio still sees the request parameter
    with pytest.raises(gr.Error, match="from 1 to 784; got 0"):
        plain(0)
    stream = streaming(1)
    assert next(stream) == 1
    with pytest.raises(gr.Error, match="noise σ must be ≥ 0"):
        next(stream)


def test_every_tab_uses_the_shared_stop():
    for tab in (handlers, sweep, landscape, sketch):
        assert isinstance(tab.RUNS, common.Runs), tab.__name__


def test_an_image_sent_again_leaves_its_cache_file_alone_and_a_new_one_is_written_whole(tmp_path):
    """Gradio's image outputs save through ``common.save_pil_to_cache_once``: the same pixels give the same file,
    not rewritten (a rewrite truncates it under a request still reading it); new pixels give a new, whole file."""
    import os

    import numpy as np
    from gradio import processing_utils
    from PIL import Image
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    path = processing_utils.save_img_array_to_cache(image, str(tmp_path), format="png")
    os.utime(path, ns=(0, 0))
    assert processing_utils.save_img_array_to_cache(image.copy(), str(tmp_path), format="png") == path
    assert os.stat(path).st_mtime_ns == 0  # not written again
    other = processing_utils.save_img_array_to_cache(255 - image, str(tmp_path), format="png")
    assert other != path and np.array_equal(np.asarray(Image.open(other)), 255 - image)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["image.png", "image.png"]  # no leftovers
