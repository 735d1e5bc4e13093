"""Matplotlib figures of the landscape, shared by the CLI (PNG files) and the app (gr.Plot).

Built on ``matplotlib.figure.Figure`` (no pyplot state, safe in server threads).
"""

import numpy as np
import torch
from matplotlib.figure import Figure

REACHED_COLOR = "#2ca02c"
STUCK_COLOR = "#d62728"
METHOD_COLORS = {"gd": "#1f77b4", "adam": "#9467bd", "negation": "#ff7f0e"}


def _log_map(ax, axis: torch.Tensor, values: torch.Tensor, label: str):
    extent = [float(axis[0]), float(axis[-1]), float(axis[0]), float(axis[-1])]
    image = ax.imshow(np.log10(values.numpy() + 1e-12), origin="lower", extent=extent, cmap="viridis",
                      interpolation="nearest", aspect="equal")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)


def _marks(ax, star, spurious, spurious_label):
    """z* (star), the spurious point (cross) and 0 (dot), each given as plane coordinates."""
    ax.plot(*star, marker="*", ms=18, color="white", mec="black", ls="none", label="z*")
    ax.plot(*spurious, marker="X", ms=13, color="white", mec="black", ls="none", label=spurious_label)
    ax.plot(0, 0, marker="o", ms=8, color="white", mec="black", ls="none", label="0")


def landscape_figure(axis: torch.Tensor, values: torch.Tensor, star, spurious, paths: np.ndarray | None = None,
                     reached: np.ndarray | None = None, title: str = "", xlabel: str = "z₁", ylabel: str = "z₂",
                     size: float = 6.0, spurious_label: str = "−ρ_d z*") -> Figure:
    """Heat map of log10 f with z*, the spurious point (−ρ_d z*), 0 marked and optional paths (steps, S, 2) coloured by ``reached``."""
    fig = Figure(figsize=(size, size * 0.86), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    _log_map(ax, axis, values, "log₁₀ f")
    if paths is not None and len(paths):
        for s in range(paths.shape[1]):
            color = REACHED_COLOR if reached is None or reached[s] else STUCK_COLOR
            ax.plot(paths[:, s, 0], paths[:, s, 1], color=color, lw=1.2, alpha=0.85)
            ax.plot(paths[-1, s, 0], paths[-1, s, 1], marker="o", ms=4, color=color, mec="black", mew=0.5)
        ax.plot(paths[0, :, 0], paths[0, :, 1], "o", ms=3, color="white", alpha=0.7)
    _marks(ax, star, spurious, spurious_label)
    lim = float(axis[-1])
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(loc="upper right", fontsize=9, framealpha=0.8)
    return fig


def endpoint_figure(rho: float, top: float, size: float = 4.5) -> Figure:
    """The axes of where the starts end (cos∠(z, z*) against ‖z‖/‖z*‖, up to ``top``) with the theory's marks
    (1, 1) and (−1, ρ_d) and a legend; the points themselves are drawn per frame (:mod:`.raster`)."""
    fig = Figure(figsize=(size, size * 0.9), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.plot([1], [1], marker="*", ms=22, color="white", mec="black", ls="none", zorder=1)
    ax.plot([-1], [rho], marker="X", ms=16, color="white", mec="black", ls="none", zorder=1,
            label=f"theory: (−1, ρ_d = {rho:.3f})")
    for color, label in ((REACHED_COLOR, "reached z*"), (STUCK_COLOR, "elsewhere")):
        ax.scatter([], [], s=30, color=color, edgecolor="black", lw=0.4, label=label)
    ax.set(xlim=(-1.12, 1.12), ylim=(0, top), xlabel="cos ∠(z, z*)", ylabel="‖z‖ / ‖z*‖", title="where the starts are")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", fontsize=9)
    return fig


def phase_figure(rows: list[dict], title: str = "", per_k: bool = False, size: float = 6.0) -> Figure:
    """Success rate vs m (or vs m/k when ``per_k``): rows of {"k", "m", "success": {method: rate}}, and optionally
    "wilson95": {method: [low, high]} (drawn as error bars); one line per (k, method)."""
    fig = Figure(figsize=(size, size * 0.62), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ks = sorted({r["k"] for r in rows})
    styles = ["-", "--", ":", "-."]
    for i, k in enumerate(ks):
        mine = [r for r in rows if r["k"] == k]
        x = [r["m"] / k if per_k else r["m"] for r in mine]
        for method, label in (("gd", "plain GD"), ("negation", "GD + negation")):
            rate = [r["success"][method] for r in mine]
            bars = [[v - r["wilson95"][method][0] for v, r in zip(rate, mine)],  # 95 % Wilson, when given
                    [r["wilson95"][method][1] - v for v, r in zip(rate, mine)]] if all("wilson95" in r for r in mine) else None
            ax.errorbar(x, rate, yerr=bars, fmt=styles[i % len(styles)], marker="o", ms=4, capsize=2, elinewidth=0.8,
                        color=METHOD_COLORS[method], label=f"{label}" + (f", k = {k}" if len(ks) > 1 else ""))
    ax.set(xlabel="m / k" if per_k else "m (measurements)", ylabel="success rate", ylim=(-0.03, 1.03), title=title)
    if rows and not per_k and max(r["m"] for r in rows) / max(1, min(r["m"] for r in rows)) > 8:
        ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig
