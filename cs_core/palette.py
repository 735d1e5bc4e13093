"""One colour per method, shared by the results figures and the app's plots."""
from .solvers import METHODS

LASSO_COLORS = {"lasso-pixel": "#7f7f7f", "lasso-dct": "#1f77b4", "lasso-wavelet": "#2ca02c"}
PRIOR_COLORS = ["#d62728", "#ff7f0e", "#9467bd"]
UNTRAINED_COLORS = {"tv": "#17becf", "dip": "#e377c2", "sensor": "#000000"}  # no training data (sensor: its view)
FAMILY_COLORS = {"sparse-gen-": "#8c6d31", "finetune-": "#bcbd22", "ilo-": "#393b79", "oracle-": "#3b3b3b"}
OTHER_COLOR = "#8c564b"


def method_color(name: str) -> str:
    """Lasso: one colour per basis; TV, DIP (and a sweep's sensor view) their own; CSGM: one per prior, in
    registry order; the range-extending methods and the oracle: one per family."""
    if name in LASSO_COLORS:
        return LASSO_COLORS[name]
    if name in UNTRAINED_COLORS:
        return UNTRAINED_COLORS[name]
    family = next((c for prefix, c in FAMILY_COLORS.items() if name.startswith(prefix)), None)
    if family:
        return family
    csgm = [m for m in METHODS if m.startswith("csgm-")]
    return PRIOR_COLORS[csgm.index(name) % len(PRIOR_COLORS)] if name in csgm else OTHER_COLOR
