"""Tab "Reconstruct": measure an image, reconstruct it with Lasso and CSGM side by side, watch them converge.

``form`` derives the form from ``cs_core.settings.FIELDS``; ``layout`` places it and wires the events; ``handlers``
runs, stops, exports and compares; ``callbacks`` keeps the form consistent; ``presets`` holds the paper's figures.
"""
from .callbacks import form_defaults
from .presets import examples
from .layout import build

TITLE = "Reconstruct"
ELEM_ID = "reconstruct-tab"

__all__ = ["ELEM_ID", "TITLE", "build", "examples", "form_defaults"]
