"""Exports for slides: the current charts or maps as PNG, and an animated GIF of the run so far.

The GIF shows, frame by frame, both maps and one chart of the two sides up to that day
(matplotlib.animation with the Pillow writer). Frames are spread evenly over the steps done.

>>> from model.dashboard import Comparison, Settings
>>> c = Comparison(Settings("baseline.yaml", size="small")); c.step(20)
20
>>> frame_steps(c.steps_done, 8).tolist()
[2, 5, 8, 10, 12, 15, 18, 20]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.figure import Figure

from model.dashboard.comparison import SIDES, Comparison, View
from model.dashboard.figures import (
    LABEL,
    TICK,
    TITLE,
    charts_figure,
    draw_chart,
    draw_map,
    map_label,
    map_norm,
    plain,
    readout_lines,
)

__all__ = ["frame_steps", "gif_bytes", "save_charts_png", "save_gif", "save_maps_png"]


def frame_steps(done: int, frames: int) -> np.ndarray:
    """At most ``frames`` steps, evenly spread over 1..``done``, ending at ``done``."""
    if done < 1 or frames < 1:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.ceil(np.linspace(done / frames, done, min(frames, done))).astype(np.int64))


def save_charts_png(comparison: Comparison, path: str | Path, dpi: int = 120) -> Path:
    """The live charts as they stand, as a PNG file."""
    path = Path(path)
    charts_figure(comparison.view()).savefig(path, dpi=dpi, facecolor="white")
    return path


def save_maps_png(comparison: Comparison, path: str | Path, name: str = "homicide_rate", dpi: int = 120) -> Path:
    """Both maps side by side, on one colour scale, as a PNG file."""
    view = comparison.view()
    norm = map_norm(np.concatenate(view.hood[name]), name)
    fig = Figure(figsize=(14, 6.6), layout="constrained")
    axes = fig.subplots(1, 2)
    for side, title in enumerate(SIDES):
        points = draw_map(axes[side], view, side, name, norm, title=title)
    bar = fig.colorbar(points, ax=axes, location="bottom", shrink=0.6, aspect=40)
    bar.set_label(map_label(name), fontsize=LABEL)
    fig.suptitle(_headline(view), fontsize=TITLE)
    path = Path(path)
    fig.savefig(path, dpi=dpi, facecolor="white")
    return path


def _headline(view: View) -> str:
    """Day, programmes, and what they did so far (two lines)."""
    names = ", ".join(view.programmes) or "no programme switched on"
    return plain(f"Day {view.days:,.0f} - {names}\n" + "; ".join(readout_lines(view)))


def save_gif(comparison: Comparison, path: str | Path, name: str = "homicide_rate", chart: str = "homicides",
             frames: int = 40, fps: int = 6, dpi: int = 80) -> Path:
    """An animated GIF of the run so far: both maps and one chart, ``frames`` frames (fewer if fewer steps).

    Every frame uses one colour scale (set by the whole run), so colours compare across frames.
    """
    steps = frame_steps(comparison.steps_done, frames)
    if not steps.size:
        raise ValueError("nothing to animate yet: step the cities first")
    views = [comparison.view(int(s)) for s in steps]
    norm = map_norm(np.concatenate([v.hood[name].ravel() for v in views]), name)
    fig = Figure(figsize=(12, 9.6), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=(1.25, 1))
    map_axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
    chart_ax = fig.add_subplot(grid[1, :])
    titles = SIDES
    first = draw_map(map_axes[0], views[0], 0, name, norm, title=titles[0])
    bar = fig.colorbar(first, ax=map_axes, location="right", shrink=0.85)
    bar.set_label(map_label(name), fontsize=LABEL)
    bar.ax.tick_params(labelsize=TICK)

    def draw(i: int) -> list:
        view = views[i]
        for side, ax in enumerate(map_axes):
            ax.clear()
            draw_map(ax, view, side, name, norm, title=titles[side])
        chart_ax.clear()
        draw_chart(chart_ax, view, chart, legend=True)
        fig.suptitle(_headline(view), fontsize=TITLE)
        return []

    animation = FuncAnimation(fig, draw, frames=len(views), blit=False, repeat=False)
    path = Path(path)
    animation.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    return path


def gif_bytes(comparison: Comparison, **kwargs) -> bytes:  # noqa: ANN003 - save_gif's keywords
    """:func:`save_gif` into memory (for a download button)."""
    with tempfile.TemporaryDirectory() as tmp:
        return save_gif(comparison, Path(tmp) / "safestreets.gif", **kwargs).read_bytes()
