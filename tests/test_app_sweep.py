"""The demo's "Measurements vs error" tab, endpoint /sweep: it streams the curve and ends with the core's numbers."""
import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from cs_core.devices import resolve_device  # noqa: E402
from cs_core.experiments.figure import summarise  # noqa: E402
from cs_core.experiments.paper import sweep  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]

METHODS, MS, IMAGES = ["lasso-dct", "csgm-vae"], [25, 100], 2


@pytest.fixture(scope="module")
def client(running_app):
    with running_app() as url:
        yield Client(url, verbose=False)


def table_rows(table) -> list[dict]:
    """The Dataframe output as the client returns it (``{"headers", "data"}``) → rows by column name."""
    return [dict(zip(table["headers"], row)) for row in table["data"]]


def test_small_sweep_streams_and_matches_the_core(client, vae_available):
    if not vae_available:
        pytest.skip("the VAE prior is not available")
    job = client.submit(domain="mnist", methods=METHODS, ms=MS, images=IMAGES, source="heldout", api_name="/sweep")
    updates = list(job)
    statuses = [u[0] for u in updates]
    assert len(updates) >= 2, statuses
    assert statuses[-1].endswith("done"), statuses
    assert all(s.endswith("running") for s in statuses[:-1]), statuses
    final = table_rows(updates[-1][2])
    assert sorted((r["method"], r["m"]) for r in final) == sorted((n, m) for n in METHODS for m in MS)

    direct = summarise(list(sweep("mnist", METHODS, MS, "heldout", IMAGES, 0.0, 0, resolve_device("auto"))))
    expected = {(method, m): (mean, n) for (_, _, method), points in direct.items() for m, mean, _, n in points}
    for r in final:
        mean, n = expected[(r["method"], r["m"])]
        assert r["images"] == n == IMAGES
        assert r["mean MSE"] == pytest.approx(mean, rel=1e-6)


def test_sweep_input_errors(client):
    with pytest.raises(AppError, match="does not fit domain"):
        client.predict(domain="mnist", methods=["csgm-dcgan"], ms=[25], images=1, source="heldout",
                       api_name="/sweep")
    with pytest.raises(AppError, match="at least one value of m"):
        client.predict(domain="mnist", methods=["lasso-dct"], ms=[], images=1, source="heldout", api_name="/sweep")
    with pytest.raises(AppError, match="heldout exists for mnist only"):
        client.predict(domain="faces", methods=["lasso-dct"], ms=[100], images=1, source="heldout",
                       api_name="/sweep")


@pytest.mark.parametrize("domain,source,directory", [("mnist", "heldout", "mnist"), ("mnist", "real", "mnist-real"),
                                                     ("faces", "inrange", "faces-inrange"),
                                                     ("faces", "real", "faces-real")])
def test_each_source_shows_its_own_precomputed_figure(domain, source, directory):
    from ui import sweep
    figure, caption = sweep.sweep_figure(domain, source)
    assert f"docs/results/{directory}/figure.png" in caption
    assert figure.ndim == 3 and figure.shape[2] == 3
