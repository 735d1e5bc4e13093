"""Error-vs-m summaries and the one figure they are drawn in (the sweeps' and the beyond-the-range one)."""
import math
from pathlib import Path

import numpy as np

from ..palette import method_color
from ..stats import student_t_interval

Point = tuple[int, float, float, int]  # (m, mean MSE, 95 % half-width, n images)


def summarise(rows: list[dict]) -> dict[tuple[str, str, str], list[Point]]:
    """(domain, source, method) → [(m, mean MSE, Student-t 95 % half-width (0 for one image), n)] sorted by m."""
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["domain"], r["source"], r["method"]), {}).setdefault(int(r["m"]), []).append(float(r["mse"]))
    summary = {}
    for key, by_m in groups.items():
        summary[key] = []
        for m in sorted(by_m):
            mean, half, n = student_t_interval(by_m[m])
            summary[key].append((m, mean, 0.0 if math.isnan(half) else half, n))
    return summary


def plot_error_vs_m(summary: dict, path: Path, panels: dict[str | None, str], title: str,
                    floors: dict[str, list[float]] | None = None, ylabel: str = "per-pixel MSE (pixels in [0, 1])"):
    """Mean per-pixel MSE vs m, log–log, 95 % confidence bands (lower edge ≥ mean/10), one line per method.
    ``panels``: source → the panel's title, one panel each (``None``: every source in one panel, told apart by
    line style). ``floors``: source → values whose mean is drawn as a dashed line (the oracle's error)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sources = sorted({source for _, source, _ in summary})
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 if len(panels) == 1 else 11, 4.4), dpi=120, squeeze=False)
    for ax, (panel, panel_title) in zip(axes[0], panels.items()):
        for (_, source, method), points in sorted(summary.items()):
            if panel is not None and source != panel:
                continue
            m, mean, half, n = map(np.asarray, zip(*points))
            label = f"{method} ({source}, n={int(n.max())})" if panel is None else f"{method} (n={int(n.max())})"
            color = method_color(method)
            ax.plot(m, mean, marker="o", label=label, color=color,
                    linestyle=("-", "--", ":")[sources.index(source) % 3] if panel is None else "-")
            ax.fill_between(m, np.maximum(mean - half, mean / 10), mean + half, color=color, alpha=0.2)
        floor = (floors or {}).get(panel)
        if floor:
            ax.axhline(np.mean(floor), color="gray", linestyle="--",
                       label=f"oracle: closest G(z) found for x* (n={len(floor)})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("number of measurements m")
        ax.set_ylabel(ylabel)
        ax.set_title(panel_title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8 if len(panels) == 1 else 7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
