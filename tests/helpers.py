"""Plain helpers shared by several test modules (test modules never import from each other): running a
solver to its end, the CLI's error contract, a decompression-bomb PNG, and the Reconstruct page's status and
frames in the browser. Helpers that set something up (a server, a browser) are fixtures in conftest.py."""
import json
import subprocess
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots of the browser tests


def last(generator):
    """The last snapshot a solver's generator yields."""
    snapshot = None
    for snapshot in generator:
        pass
    return snapshot


def bomb_png(path: Path, side: int) -> Path:
    """A valid PNG of side×side black pixels that compresses to a few kB (a decompression bomb)."""
    def chunk(kind, data):
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    raw = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    data = b"".join(raw.compress(row) for _ in range(side)) + raw.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def in_process(args, capsys):
    """Run ``main`` in this process (fast); tests/test_cli.py's subprocess tests check the same path end to end."""
    from cs_core.cli import main
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, captured.out, captured.err)


def assert_input_error(run):
    """The CLI's answer to bad input: exit status 2 and one line ``error: ...``, nothing on stdout."""
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


# The Reconstruct tab in a browser.
STATUS = "#status textarea"
# Records every new src of the first reconstruction image, with its time (ms since page load).
WATCH_RECON = """() => {
  window.__frames = [];
  const root = document.querySelector('#recon-0');
  const record = () => {
    const img = root.querySelector('img');
    const last = window.__frames[window.__frames.length - 1];
    if (img && img.src && (!last || last.src !== img.src)) window.__frames.push({src: img.src, t: performance.now()});
  };
  new MutationObserver(record).observe(root, {subtree: true, childList: true, attributes: true,
                                              attributeFilter: ['src']});
  return performance.now();
}"""


def status_ends_with(word: str, not_before: str = "") -> str:
    """JS condition: the status ends with ``word`` (and is no longer the text ``not_before``)."""
    status = f"document.querySelector('{STATUS}').value.trim()"
    return f"{status}.endsWith('{word}') && {status} !== {json.dumps(not_before.strip())}"


def frames(page) -> list[dict]:
    """The frames recorded since ``WATCH_RECON`` ran."""
    return page.evaluate("window.__frames")


def run_and_watch(page, until: str, timeout_ms: int = 240_000) -> tuple[float, list[dict]]:
    """Click Run and wait until the status ends with ``until``: (the start time, the frames seen)."""
    before = page.input_value(STATUS)
    start = page.evaluate(WATCH_RECON)
    page.click("#run-btn")
    page.wait_for_function(status_ends_with(until, before), timeout=timeout_ms)
    return start, frames(page)


def set_iterations(page, value: str):
    """Type ``value`` into the Advanced settings' iterations (opening the accordion if needed)."""
    field = page.locator("#iterations textarea")
    if not field.is_visible():
        page.locator("#advanced").get_by_text("Advanced settings").click()
    field.fill(value)
    field.press("Enter")


def long_iterations(domain: str = "mnist") -> str:
    """The most iterations the app's planned-time budget allows every method of the domain together at the page's
    default m: whatever methods an earlier test left checked, a run long enough to stop, cancel or queue behind,
    that the budget does not refuse."""
    from cs_core.run_budget import largest
    from cs_core.solvers import Options, methods_for
    from ui.reconstruct.gallery import DEFAULT_M
    return str(largest("iterations", domain, DEFAULT_M[domain], methods_for(domain), Options(), 120.0))
