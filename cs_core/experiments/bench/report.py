"""The bench's result (the JSON-ready dict ``run_bench`` returns, or a saved docs/bench/*.json) as Markdown."""
from .common import SNAPSHOT_EVERY

# FISTA's step rules in the tables' order: (the key of the rule's run, of its speed-up, of its per-image speed-up)
STEP_ROWS = (("fista_power", "speedup_power", "speedup_per_image_power"),
             ("fista", "speedup", "speedup_per_image"),
             ("fista_working_set", "speedup_working_set", "speedup_per_image_working_set"))


def _f(value, digits=3, unit="") -> str:
    if value is None:
        return "not reached"
    if isinstance(value, float):
        return f"{value:.{digits}g}{unit}" if abs(value) < 1e4 else f"{value:.{digits}e}{unit}"
    return f"{value}{unit}"


def _spread(run: dict) -> str:
    """`` (min–max)`` of a FISTA row's speed-ups over the repeats, when there were several."""
    spread = run.get("speedup_spread")
    if not spread or spread["min"] == spread["max"]:
        return ""
    return f" ({_f(spread['min'])}–{_f(spread['max'])})"


def format_report(result: dict) -> str:
    """The bench result as markdown tables (medians; ratio = reference time ÷ our time)."""
    m = result["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores_usable']} usable cores ({m['cores']} total), torch threads "
        f"{m['torch_threads']}, device {m['device']}; torch {m['torch']}, scikit-learn {m['sklearn']}. "
        f"Load average at start {m['load_average_start']}, end {m.get('load_average_end')}.",
        f"Medians of {result['repeats']} repeats{' (quick mode)' if result['quick'] else ''}; "
        f"whole bench {result.get('wall_s', 0):.0f} s.",
        "",
    ]
    c = result["csgm"]
    s = c["setting"]
    after = s["after"]
    lines += [
        f"### CSGM-DCGAN, faces, m = {s['m']}, σ = {s['noise']}, {s['restarts']} restarts × {s['steps']} steps, "
        f"lr {s['lr']}, λ {s['lam']}",
        "",
        "| solver | total s | to reference's final loss, s | to reference's MSE, s | final ‖y − AG(z)‖² | final MSE |",
        "|---|---|---|---|---|---|",
        f"| reference loop (one restart at a time) | {_f(c['reference']['seconds'])} | — | — | "
        f"{_f(c['reference']['measurement_loss'], 4)} | {_f(c['reference']['mse'], 3)} |",
        f"| before (`csgm`, paper's Adam, restarts batched) | {_f(c['ours']['seconds'])} | {_f(c['ours']['to_reference_loss_s'])} | "
        f"{_f(c['ours']['to_reference_mse_s'])} | {_f(c['ours']['measurement_loss'], 4)} | {_f(c['ours']['mse'], 3)} |",
        "",
        f"| after (`csgm`, the prior's defaults: {after['optimiser']}, {after['restarts']} restarts pruned after "
        f"{after['prune_after']}, ≤ {after['steps']} steps, stopped at {c['after']['steps']}) | {_f(c['after']['seconds'])} | "
        f"{_f(c['after']['to_reference_loss_s'])} | {_f(c['after']['to_reference_mse_s'])} | "
        f"{_f(c['after']['measurement_loss'], 4)} | {_f(c['after']['mse'], 3)} |",
        "",
        f"Speed-up over the reference loop: before (paper's Adam, batched) total {_f(c['speedup_total'])}×, to the "
        f"reference's final loss {_f(c['speedup_to_reference_loss'])}×; after: total {_f(c['after_speedup_total'])}×, "
        f"to the reference's final loss **{_f(c['after_speedup_to_reference_loss'])}×**.",
        "",
        f"### Lasso, same problem, equal objective F ≤ F*(1 + {result['lasso']['setting']['match']:g})",
        "",
        "| basis | λ | F* | FISTA step | FISTA iterations (retried) | FISTA s | sklearn tol | sklearn epochs | "
        "sklearn s | speed-up (min–max of the repeats) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("dct", "wavelet"):
        r = result["lasso"][name]
        for key, speedup, _ in STEP_ROWS:
            f = r[key]
            lines.append(
                f"| {name} | {_f(r['lam'])} | {_f(r['F_star'], 6)} | {f['step']} | {_f(f['iterations'])} "
                f"({'—' if f['retried_steps'] is None else f['retried_steps']}) | {_f(f['seconds'])} | {_f(r['sklearn']['tol'])} | "
                f"{_f(r['sklearn']['n_iter'])} | {_f(r['sklearn']['seconds'])} | {_f(r[speedup])}×{_spread(f)} |")
    b = result["lasso"]["batch"]
    lines += ["", f"Batch of {b['images']} faces (Lasso-{b['basis']}, one A), sklearn {_f(b['sklearn']['per_image_s'])} s "
              f"per image:", "", "| FISTA step | iterations | s for the batch | s per image | speed-up per image |",
              "|---|---|---|---|---|"]
    for key, _, speedup in STEP_ROWS:
        f = b[key]
        lines.append(f"| {f['step']} | {_f(f['iterations'])} | {_f(f['seconds'])} | {_f(f['per_image_s'])} | "
                     f"**{_f(b[speedup])}×** |")
    lines += ["", f"### Time to the first streamed snapshot (every {SNAPSHOT_EVERY} iterations, from building A and y)",
              "", "| setting | methods | first frame s | all methods reported s | first frame, first run s |",
              "|---|---|---|---|---|"]
    for key, r in result["first_snapshot"].items():
        lines.append(f"| {key}, m = {r['m']} | {' + '.join(r['methods'])} | {_f(r['first_frame_s'])} | "
                     f"{_f(r['all_methods_s'])} | {_f(r['cold_first_frame_s'])} |")
    lines += ["", "### Peak memory", "", "| after section | peak RSS MiB | CUDA peak allocated MiB |", "|---|---|---|"]
    for key, r in result["memory"].items():
        lines.append(f"| {key.removeprefix('after_')} | {r['peak_rss_mib']:.0f} | "
                     f"{_f(r.get('cuda_peak_allocated_mib'), 4) if 'cuda_peak_allocated_mib' in r else '—'} |")
    return "\n".join(lines)
