"""The load test (ui.loadtest) against an in-process server: concurrent sessions, same numbers as alone."""
import os

import pytest

pytest.importorskip("gradio_client")

from cs_core.errors import InputError  # noqa: E402
from ui.loadtest import Settings, check_loopback, format_summary, load_test, main  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.timeout(240)]


@pytest.mark.parametrize("url", ["http://10.0.0.1:7860/", "http://example.com/", "ftp://127.0.0.1/", "127.0.0.1:80"])
def test_refuses_non_loopback_urls(url):
    with pytest.raises(InputError):
        check_loopback(url)


def test_cli_refuses_a_remote_url(capsys):
    assert main(["--url", "http://192.168.1.1:7860/"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_concurrent_sessions_complete_and_match_runs_alone(running_app):
    with running_app() as url:
        summary = load_test(url, sessions=4, runs=2, settings=Settings(iterations=60), timeout=150,
                            pid=os.getpid(), settle=1.0)
    print(format_summary(summary))
    assert summary["ok"], format_summary(summary)
    assert summary["completed"] == summary["identical_to_alone"] == 8
    before, after = summary["rss_before_mib"], summary["rss_after_mib"]
    assert after - before < 150, format_summary(summary)  # MiB: back close to the baseline
