"""Live frames of the landscape's figures at the cost of a few lines: the figure is drawn once with matplotlib,
then each frame copies its pixels and draws only what moves (paths, end points) with PIL.

The marks the figure draws over the moving parts (z*, the spurious point, 0 and the legend) are kept as a
pixel mask (the full figure against one drawn without them) and pasted back on top of every frame.
"""
from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from .figures import REACHED_COLOR, STUCK_COLOR, endpoint_figure, landscape_figure
from .scene import HeatMap

START_COLOR = (255, 255, 255)


def _pixels(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


class FigureRaster:
    """A figure's pixels with its marks held apart, and the map from data coordinates of its first axes to pixels."""

    def __init__(self, fig: Figure, marks):
        full = _pixels(fig)
        fig.set_layout_engine("none")          # the second drawing must keep the first one's layout
        for artist in marks:
            artist.set_visible(False)
        self.base = _pixels(fig)
        self.mask = (full != self.base).any(-1)
        self.marks = full
        ax = fig.axes[0]
        self._to_display = ax.transData.transform
        self.height = full.shape[0]
        x0, y0, x1, y1 = ax.bbox.extents
        self.box = (int(np.ceil(x0)), int(np.ceil(self.height - y1)), int(x1), int(self.height - y0))

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """Data coordinates (..., 2) → pixel coordinates (column, row) of the image, (..., 2)."""
        d = self._to_display(np.asarray(xy, dtype=float).reshape(-1, 2))
        return np.stack([d[:, 0], self.height - d[:, 1]], -1).reshape(np.shape(xy))

    def frame(self, draw) -> np.ndarray:
        """uint8 (H, W, 3): the base, ``draw(ImageDraw, offset)`` clipped to the axes, then the marks on top."""
        left, top, right, bottom = self.box
        image = Image.fromarray(self.base)
        inner = image.crop(self.box)
        draw(ImageDraw.Draw(inner), np.array([left, top], dtype=float))
        image.paste(inner, (left, top))
        out = np.asarray(image).copy()
        out[self.mask] = self.marks[self.mask]
        return out


class PathsRaster:
    """The heat map of log f, drawn once; :meth:`frame` adds the descent paths coloured by where they ended."""

    def __init__(self, heat: HeatMap, title: str, xlabel: str = "z₁", ylabel: str = "z₂",
                 spurious_label: str = "−ρ_d z*", size: float = 6.0):
        fig = landscape_figure(heat.axis, heat.values, heat.star, heat.spurious, title=title, xlabel=xlabel,
                               ylabel=ylabel, size=size, spurious_label=spurious_label)
        ax = fig.axes[0]
        self.raster = FigureRaster(fig, [*ax.lines, ax.get_legend()])

    def frame(self, paths: np.ndarray, reached: np.ndarray) -> np.ndarray:
        """``paths`` (steps, S, 2) in the map's coordinates; start s green if ``reached[s]``, else red."""
        pix = self.raster.to_pixels(paths)

        def draw(canvas: ImageDraw.ImageDraw, offset: np.ndarray):
            p = pix - offset
            for s in range(p.shape[1]):
                color = _rgb(REACHED_COLOR if reached[s] else STUCK_COLOR)
                if len(p) > 1:
                    canvas.line([tuple(q) for q in p[:, s]], fill=color, width=2)
                x, y = p[-1, s]
                canvas.ellipse((x - 3.5, y - 3.5, x + 3.5, y + 3.5), fill=color, outline=(0, 0, 0))
            for x, y in p[0]:
                canvas.ellipse((x - 2, y - 2, x + 2, y + 2), fill=START_COLOR)

        return self.raster.frame(draw)


class EndsRaster:
    """Where the starts are: cos∠(z, z*) against ‖z‖/‖z*‖ with the theory's marks, drawn once; points per frame
    (those beyond the top are drawn on its edge)."""

    def __init__(self, rho: float, top: float, size: float = 4.5):
        self.top = top
        fig = endpoint_figure(rho, top, size)
        ax = fig.axes[0]
        self.raster = FigureRaster(fig, [ax.get_legend()])

    def frame(self, cosine: np.ndarray, norm_ratio: np.ndarray, reached: np.ndarray) -> np.ndarray:
        pix = self.raster.to_pixels(np.stack([cosine, np.clip(norm_ratio, 0, self.top)], -1))

        def draw(canvas: ImageDraw.ImageDraw, offset: np.ndarray):
            for (x, y), ok in zip(pix - offset, reached):
                canvas.ellipse((x - 4.5, y - 4.5, x + 4.5, y + 4.5), outline=(0, 0, 0),
                               fill=_rgb(REACHED_COLOR if ok else STUCK_COLOR))

        return self.raster.frame(draw)
