"""Every tab as sturdy as Reconstruct: one validator per field (cs_core.tab_settings) for the app and the CLI,
sliders that show the rows' limits, Stop and cancel within a second, the time cap, the export kept across a
failed run, one log line per input error and an id for an internal one. Bounded memory is tests/test_tabs_memory.py."""
import logging
import math
import threading
import time

import pytest
import torch

import gradio as gr
from cs_core.errors import InputError
from cs_core.tab_settings import LANDSCAPE, LANDSCAPE_PHASE, LANDSCAPE_SLICE, SKETCH, SWEEP, checked, row
from ui import common

# ---------------------------------------------------------------- the rows


@pytest.mark.parametrize("rows", [LANDSCAPE, LANDSCAPE_PHASE, LANDSCAPE_SLICE, SKETCH, SWEEP],
                         ids=["landscape", "phase", "slice", "sketch", "sweep"])
def test_every_numeric_row_refuses_wrong_types_and_values_naming_its_range(rows):
    base = {r.name: ["x"] for r in rows if r.kind is list}  # the other fields valid
    for r in rows:
        if r.kind not in (int, float):
            continue
        low = r.low if r.low is not None else -1.0
        high = r.high if r.high is not None else 1e300
        bad = [None, "", "abc", math.nan, math.inf, True, low - 1, high * 2 + 1]
        if r.kind is int:
            bad += [low + 0.5, 1e30]
        for value in bad:
            with pytest.raises(InputError) as err:
                checked(rows, **{**base, r.name: value})
            message = str(err.value)
            assert message.startswith(r.label) and r.allowed() in message, message
        assert checked(rows, **{**base, r.name: r.high if r.high is not None else r.low}) is not None


def test_choices_and_lists_name_what_is_allowed():
    with pytest.raises(InputError, match="unknown method 'sgd'; choose gd, adam or negation"):
        checked(LANDSCAPE, method="sgd")
    with pytest.raises(InputError, match="unknown prior 'vgg'; choose .*sketch"):
        checked(LANDSCAPE_SLICE, prior="vgg")
    with pytest.raises(InputError, match="choose at least one value of m"):
        checked(SWEEP, methods=["lasso-dct"], ms=None)
    with pytest.raises(InputError, match="dataset must be gmm, circles, spiral, your drawing or your file; got None"):
        checked(SKETCH, dataset=None)


def test_the_sweep_offers_per_domain_what_fits_the_cap_and_refuses_the_rest():
    from cs_core.experiments.paper import PAPER_M
    from cs_core.solvers import methods_for
    from cs_core.tab_settings import SWEEP_OFFER, offered_ms, sweep_images, sweep_methods, sweep_ms
    from ui import sweep
    for domain, offer in SWEEP_OFFER.items():
        assert set(offer.methods) <= set(methods_for(domain)) and 1 <= offer.images <= row(SWEEP, "images").high
        assert set(sweep.SWEEP_DEFAULT_M[domain]) <= set(offered_ms(domain, PAPER_M)) and \
            set(common.default_methods(domain)) <= set(offer.methods)
    assert offered_ms("faces", PAPER_M) == (20, 50, 100)
    with pytest.raises(InputError, match="^the faces sweep offers lasso-dct, lasso-wavelet or csgm-dcgan; got 'dip'$"):
        sweep_methods("faces", ["lasso-dct", "dip"])
    with pytest.raises(InputError, match="does not fit domain mnist"):
        sweep_methods("mnist", ["csgm-dcgan"])
    assert sweep_methods("faces", ["csgm-dcgan", "lasso-dct", "csgm-dcgan"]) == ["csgm-dcgan", "lasso-dct"]
    with pytest.raises(InputError, match="^number of images for faces must be a whole number from 1 to 1; got 2$"):
        sweep_images("faces", 2)
    assert sweep_images("mnist", 10) == 10
    with pytest.raises(InputError, match="^m = 500 is not offered for faces; choose from 20, 50, 100$"):
        sweep_ms("faces", [20, 500], PAPER_M)


def _slider_limits(build) -> dict:
    """elem_id → (minimum, maximum, value) of every slider a tab builds."""
    with gr.Blocks() as demo:
        build(demo)
    return {c.elem_id: (c.minimum, c.maximum, c.value) for c in demo.blocks.values() if isinstance(c, gr.Slider)}


def test_the_sliders_show_the_rows_limits():
    from ui import landscape, sketch, sweep
    shown = _slider_limits(landscape.build)
    for elem, rows, name in [("ls-m", LANDSCAPE, "m"), ("ls-noise", LANDSCAPE, "noise"),
                             ("ls-starts", LANDSCAPE, "starts"), ("ls-steps", LANDSCAPE, "steps"),
                             ("ls-phase-steps", LANDSCAPE_PHASE, "steps"), ("ls-slice-m", LANDSCAPE_SLICE, "m"),
                             ("ls-restarts", LANDSCAPE_SLICE, "restarts")]:
        r = row(rows, name)
        assert shown[elem] == (r.low, r.high, r.default), elem
    shown = _slider_limits(sketch.build)
    for elem, name in [("sketch-m", "m"), ("sketch-steps", "steps")]:
        assert shown[elem] == (row(SKETCH, name).low, row(SKETCH, name).high, row(SKETCH, name).default)
    assert _slider_limits(sweep.build)["sweep-images"] == (1, 10, 3) == \
        (row(SWEEP, "images").low, row(SWEEP, "images").high, row(SWEEP, "images").default)
    assert sketch.SOURCES == list(row(SKETCH, "dataset").choices)


@pytest.mark.parametrize("argv", [
    ["landscape", "descend", "--seed", "1000000000000000000000000000000", "--steps", "2"],
    ["landscape", "descend", "--noise", "nan", "--steps", "2"],
    ["landscape", "descend", "--starts", "0"],
    ["landscape", "descend", "--method", "sgd"],
    ["landscape", "slice", "--restarts", "0", "--out", "x.png"],
    ["sketch", "fit", "--dataset", "spiral", "--m", "0"],
    ["sketch", "fit", "--dataset", "spiral", "--seed", "-1"],
    ["sweep", "--domain", "mnist", "--methods", "lasso-dct", "--images", "0", "--out", "x"],
])
def test_the_cli_gives_one_error_line_and_exit_2(argv, capsys):
    from cs_core.cli import main
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "(--" in err[0], err


# ---------------------------------------------------------------- the shared mechanisms


def test_input_errors_are_one_log_line_and_internal_errors_carry_an_id(caplog):
    common.LOG.addHandler(caplog.handler)
    try:
        @common.user_errors
        def bad():
            raise InputError("m must be a whole number from 2 to 1000; got 2.5")

        @common.user_errors
        def broken():
            yield "frame"
            raise RuntimeError("a bug")

        with pytest.raises(gr.Error) as err:
            bad()
        assert not err.value.print_exception and "from 2 to 1000" in err.value.message
        line = caplog.records[-1]
        assert line.exc_info is None and line.getMessage() == \
            "input error in bad: m must be a whole number from 2 to 1000; got 2.5"
        with pytest.raises(gr.Error) as err:
            list(broken())
        ident = err.value.message.split("(id ")[1].split(")")[0]
        assert err.value.message.startswith("internal error") and len(ident) == 8
        line = caplog.records[-1]
        assert line.getMessage() == f"internal error {ident} in broken" and line.exc_info[0] is RuntimeError
    finally:
        common.LOG.removeHandler(caplog.handler)


def test_in_background_beats_while_the_core_computes_and_closing_stops_it():
    stop, seen = threading.Event(), []

    def slow():
        for i in range(100):
            seen.append(i)
            time.sleep(0.3)
            yield i

    items = common.in_background(slow(), stop, beat=0.05)
    got = [next(items) for _ in range(12)]
    assert None in got and 0 in got            # heartbeats between the items
    started = time.monotonic()
    items.close()
    assert stop.is_set() and time.monotonic() - started < 0.1
    time.sleep(0.8)
    assert len(seen) <= 4                      # the thread ended after its current item
    stop = threading.Event()
    assert [x for x in common.in_background((i for i in range(3)), stop) if x is not None] == [0, 1, 2]
    assert not stop.is_set()                   # a run that ends by itself is not "stopped"


def test_a_stoppable_sweep_gives_the_same_rows_and_stops_between_iterations():
    from cs_core.experiments.paper import sweep
    args = ("mnist", ["lasso-dct"], [25, 100], "heldout", 2, 0.0, 0, torch.device("cpu"))
    plain, checked_rows = list(sweep(*args)), list(sweep(*args, should_stop=lambda: False))
    assert [(r["m"], r["image"], r["mse"], r["iterations"]) for r in plain] == \
        [(r["m"], r["image"], r["mse"], r["iterations"]) for r in checked_rows]
    calls = []
    assert list(sweep(*args, should_stop=lambda: calls.append(1) or len(calls) > 3)) == []


def test_runs_remember_only_the_sessions_that_started_one_last():
    runs = common.Runs(keep=3)
    sessions = [type("Request", (), {"session_hash": f"s{i}"})() for i in range(5)]
    for request in sessions:
        runs.start(request)
    assert [runs.get(r) is not None for r in sessions] == [False, False, True, True, True]
    runs.get(sessions[2]).record = "kept"
    runs.start(sessions[2])                      # a new run of s2: it keeps s2's record and is now the latest
    runs.start(sessions[0])                      # s3, the oldest, goes
    assert runs.get(sessions[2]).record == "kept"
    assert [runs.get(r) is not None for r in sessions] == [True, False, True, False, True]


# ---------------------------------------------------------------- through the API of a running server

GOOD = {  # one valid request per endpoint, positional in the API's order
    "/landscape": ["2 layers, wide", 50, 0.0, 4, "gd", 10, 0],
    "/landscape_phase": ["2 layers, wide", 50, 0],
    "/landscape_slice": ["vae", 10, 1, 0],
    "/sketch": ["spiral", 10, "gaussian", 0, None, None],
    "/sketch_train": ["spiral", 10, "gaussian", 100, 0, None, None],
    "/sweep": ["mnist", ["lasso-dct"], [25], 1, "heldout"],
}
ROWS = {"/landscape": LANDSCAPE, "/landscape_phase": LANDSCAPE_PHASE, "/landscape_slice": LANDSCAPE_SLICE,
        "/sketch": tuple(r for r in SKETCH if r.name != "steps"), "/sketch_train": SKETCH, "/sweep": SWEEP}
LONG = {  # runs that take far longer than a second
    "/landscape": ["2 layers, wide", 1000, 0.0, 128, "adam", 1000, 0],
    "/sketch_train": ["spiral", 2000, "gaussian", 3000, 0, None, None],
    "/sweep": ["mnist", ["lasso-pixel", "lasso-dct", "csgm-vae"], [25, 100, 400, 750], 10, "heldout"],
}


def _status(api: str, outputs) -> str:
    """A run's status line in one of its updates (the training's is its last output, the others' their first)."""
    return str(outputs[-1 if api == "/sketch_train" else 0])


def _bad_values(r):
    values = [None, "abc", 1e30, (r.high if r.high is not None else 0) + 1]
    return values + ([1.5] if r.kind is int else [])


@pytest.fixture(scope="module")
def url(running_app):
    with running_app() as address:
        yield address


def _started(job, timeout=60.0):
    """Wait for the job's first update (its run has begun)."""
    deadline = time.monotonic() + timeout
    while not job.outputs() and not job.done():
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.05)
    assert not job.done(), job.outputs()


@pytest.mark.server
@pytest.mark.timeout(600)
def test_bad_input_to_every_tab_is_an_error_naming_the_field_and_one_log_line(url, capfd):
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    lines = []
    handler = logging.Handler()
    handler.emit = lines.append
    common.LOG.addHandler(handler)
    client, count = Client(url, verbose=False), 0
    try:
        for api, rows in ROWS.items():
            for i, r in enumerate(rows):
                if r.kind not in (int, float):
                    continue
                for value in _bad_values(r):
                    args = list(GOOD[api])
                    args[i] = value
                    with pytest.raises(AppError) as err:
                        client.predict(*args, api_name=api)
                    assert r.label in str(err.value) and r.allowed() in str(err.value), (api, value, err.value)
                    count += 1
        with pytest.raises(AppError, match="choose at least one method"):
            client.predict("mnist", None, [25], 1, "heldout", api_name="/sweep")
        status, picture = client.predict("sketch", 10, 1, 0, api_name="/landscape_slice")  # every prior offered
        assert status.endswith("done") and picture
    finally:
        common.LOG.removeHandler(handler)
    assert count >= 60
    errors = [x for x in lines if x.getMessage().startswith("input error")]
    assert len(errors) == count + 1 and all(x.exc_info is None for x in errors)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.server
@pytest.mark.timeout(600)
def test_each_stop_ends_its_own_tabs_run_within_a_second_and_leaves_the_others(url):
    from gradio_client import Client
    client = Client(url, verbose=False, download_files=False)  # the timings are the server's, not the downloads'
    jobs = {api: client.submit(*args, api_name=api) for api, args in LONG.items()}
    for job in jobs.values():
        _started(job)
    for api, stop in [("/sketch_train", "/sketch_stop"), ("/landscape", "/landscape_stop"), ("/sweep", "/sweep_stop")]:
        started = time.monotonic()
        client.predict(api_name=stop)
        jobs[api].result(timeout=30)
        assert time.monotonic() - started < 1.0, (stop, time.monotonic() - started)
        assert _status(api, jobs[api].outputs()[-1]).endswith("stopped"), jobs[api].outputs()[-1]
        assert all(not j.done() for a, j in jobs.items() if a not in (api, *_stopped(jobs))), stop


def _stopped(jobs):
    return [a for a, j in jobs.items() if j.done()]


@pytest.mark.server
@pytest.mark.timeout(600)
@pytest.mark.parametrize("api", list(LONG))
def test_a_cancel_returns_within_a_second_and_the_tab_is_free_again(url, api):
    from gradio_client import Client
    client = Client(url, verbose=False, download_files=False)
    job = client.submit(*LONG[api], api_name=api)
    _started(job)
    time.sleep(1.0)
    started = time.monotonic()
    job.cancel()
    assert time.monotonic() - started < 1.0
    again = Client(url, verbose=False, download_files=False).submit(*LONG[api], api_name=api)
    _started(again, timeout=5.0)   # the slot is free: the next run starts at once
    again.cancel()


@pytest.mark.server
@pytest.mark.timeout(600)
def test_every_tab_honours_the_time_cap(url, monkeypatch):
    from gradio_client import Client
    monkeypatch.setenv("CSGM_DEMO_MAX_SECONDS", "2")
    client = Client(url, verbose=False, download_files=False)
    for api, args in LONG.items():
        started = time.monotonic()
        job = client.submit(*args, api_name=api)
        job.result(timeout=60)
        assert time.monotonic() - started < 2 + 3, api  # the cap, a frame and the request's own overhead
        assert "time limit" in _status(api, job.outputs()[-1]), (api, job.outputs()[-1])


@pytest.mark.server
@pytest.mark.timeout(600)
def test_the_export_keeps_the_last_good_run_across_a_failed_one(url):
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from ui.loadtest import Settings, client_arguments
    client = Client(url, verbose=False)
    with pytest.raises(AppError, match="nothing to export yet"):
        client.predict(api_name="/export")
    good = client_arguments(Settings(iterations=20), 1)
    assert str(client.predict(**good, api_name="/reconstruct")[0]).endswith("done")
    first = client.predict(api_name="/export")
    with pytest.raises(AppError, match="m"):  # fails in the run, after it has begun (m > n)
        client.predict(**{**good, "m": 100000}, api_name="/reconstruct")
    again = client.predict(api_name="/export")
    assert len(again) == len(first) == 3 and all(again)
