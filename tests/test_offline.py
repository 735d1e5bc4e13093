"""Nothing leaves 127.0.0.1: the demo, launched as a user launches it and with none of the offline switches set
by the caller (no GRADIO_ANALYTICS_ENABLED, no HF_HUB_OFFLINE), connects to no other host while it serves a
run; every name it resolves and every address it connects to is recorded by an audit hook in its process."""
import ast
import ipaddress
import os
import textwrap

import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]

OFFLINE_SWITCHES = ("GRADIO_ANALYTICS_ENABLED", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")

# demo_app.py run as __main__ with an audit hook that writes each socket.getaddrinfo/socket.connect to a log
AUDITED_DEMO = textwrap.dedent("""
    import runpy, sys
    log = open(sys.argv[1], "a", buffering=1)
    def hook(event, args):
        if event == "socket.connect":
            log.write(repr(args[1]) + "\\n")
        elif event == "socket.getaddrinfo":
            log.write(repr((args[0], args[1])) + "\\n")
    sys.addaudithook(hook)
    sys.argv = ["demo_app.py", *sys.argv[2:]]
    sys.path.insert(0, ".")
    runpy.run_path("demo_app.py", run_name="__main__")
""")


def _is_local(address) -> bool:
    """A Unix socket path, localhost, or a loopback IP address."""
    if isinstance(address, str):  # AF_UNIX
        return True
    host = address[0].decode() if isinstance(address[0], bytes) else address[0]
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_no_outbound_network_while_serving_and_running(served, tmp_path):
    log = tmp_path / "sockets.log"
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_SWITCHES}
    with served({**env, "OMP_NUM_THREADS": "1"}, "-c", AUDITED_DEMO, str(log)) as (url, _):
        status, *_ = Client(url, verbose=False, analytics_enabled=False).predict(
            asset="digit-test-3856", upload=None, domain="mnist", operator="gaussian", m=50, mask="center",
            mask_size=None, keep=0.5, factor=None, noise=0.0, methods=["lasso-dct"], iterations=10, restarts=None,
            lr=None, lam=None, csgm_lam=None, seed=0, device="cpu", api_name="/reconstruct")
    assert status.endswith("done"), status
    seen = [ast.literal_eval(line) for line in log.read_text().splitlines()]
    assert seen, "the audit hook recorded nothing: the probe does not see the server's sockets"
    assert [address for address in seen if not _is_local(address)] == []
