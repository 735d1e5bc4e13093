"""The load test's mixed profile, short: visitors in all four tabs at once with bad inputs interleaved; no
failure, every bad input answered with an error, every result equal to the same request run alone."""
import pytest

from ui.loadtest_mixed import TABS, bad_request, format_mixed, good_request, mixed_test


def test_each_tab_has_a_good_and_a_bad_request_that_differ_in_one_field():
    for tab in TABS:
        (api, good), (bad_api, bad) = good_request(tab, 1), bad_request(tab, 1)
        assert api == bad_api
        changed = [k for k in good if good[k] != bad[k]] if isinstance(good, dict) else \
            [i for i, (a, b) in enumerate(zip(good, bad)) if a != b]
        assert len(changed) == 1, (tab, changed)


@pytest.mark.server
@pytest.mark.timeout(600)
def test_a_short_mixed_load_has_no_failure_and_no_cross_talk(running_app):
    with running_app() as url:
        summary = mixed_test(url, sessions=4, seconds=20, settle=1.0)
    print(format_mixed(summary))
    assert summary["ok"], format_mixed(summary)
    assert all(t["requests"] >= 1 and t["bad_answered"] == t["bad_requests"] for t in summary["tabs"].values())
