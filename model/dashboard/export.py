"""Exports for slides: the current charts or maps as PNG, and an animated GIF of the run so far.

The GIF shows, frame by frame, both maps and one chart of the two sides up to that day (drawn
with matplotlib as the live page is, written with Pillow). Frames are spread evenly over the steps
done.

>>> from model.dashboard import Comparison, Settings
>>> c = Comparison(Settings("baseline.yaml", size="small")); c.step(20)
20
>>> frame_steps(c.steps_done, 8).tolist()
[3, 5, 8, 10, 13, 15, 18, 20]
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from model.dashboard.comparison import SIDES, Comparison, View
from model.dashboard.figures import (
    LABEL,
    TICK,
    TITLE,
    LiveFigure,
    canvas_image,
    charts_figure,
    draw_chart,
    draw_map,
    gap_annotation,
    legend_handles,
    map_label,
    map_norm,
    plain,
    readout_lines,
    recolour_maps,
    ring_note,
    show_chart,
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
             frames: int = 40, fps: int = 6, dpi: int = 80,
             progress: Callable[[int, int], None] | None = None) -> Path:
    """An animated GIF of the run so far: both maps and one chart, ``frames`` frames (fewer if fewer steps).

    Every frame uses one colour scale and one chart axis (set by the whole run), so colours and lines
    compare across frames. The still parts are drawn once; each frame only redraws what moved (as the
    live page does). ``progress(done, total)`` is called after each frame is drawn, and once more
    (``total``, ``total``) when the file is written.
    """
    steps = frame_steps(comparison.steps_done, frames)
    if not steps.size:
        raise ValueError("nothing to animate yet: step the cities first")
    total = len(steps)
    views = [comparison.view(int(s)) for s in steps]
    last = views[-1]
    norm = map_norm(np.concatenate([v.hood[name].ravel() for v in views]), name)
    # fixed margins: a layout engine would lay out every frame again
    fig = Figure(figsize=(12, 9.6), dpi=dpi, facecolor="white")
    map_axes = [fig.add_axes((0.01, 0.43, 0.43, 0.45)), fig.add_axes((0.46, 0.43, 0.43, 0.45))]
    chart_ax = fig.add_axes((0.07, 0.07, 0.9, 0.3))
    live = LiveFigure(fig)
    points = [draw_map(ax, views[0], side, name, norm, title=SIDES[side], note=False)
              for side, ax in enumerate(map_axes)]
    note = ring_note(map_axes[1])
    bar = fig.colorbar(points[0], cax=fig.add_axes((0.91, 0.47, 0.015, 0.37)))
    bar.set_label(map_label(name), fontsize=LABEL)
    bar.ax.tick_params(labelsize=TICK)
    draw_chart(chart_ax, last, chart)  # the whole run sets the axes; the lines are then cut back frame by frame
    for text in list(chart_ax.texts):
        text.remove()
    lines = chart_ax.get_lines()
    chart_ax.legend(handles=legend_handles(), fontsize=TICK, frameon=False, loc="upper left")
    gap = gap_annotation(chart_ax)
    headline = fig.text(0.5, 0.985, "", ha="center", va="top", fontsize=TITLE)
    live.move(*points, note, *lines, gap, headline)

    images = []
    for i, view in enumerate(views):
        recolour_maps(points, note, view, name)
        show_chart(lines, gap, view, chart)
        headline.set_text(_headline(view))
        live.draw()
        images.append(canvas_image(live.canvas))
        if progress is not None:
            progress(i + 1, total)
    # one palette for every frame, taken from the last (it has every colour the run reached): quick, and
    # no flicker between frames; no dithering keeps the flat colours flat
    palette = images[-1].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    frames_p = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    path = Path(path)
    frames_p[0].save(path, format="GIF", save_all=True, append_images=frames_p[1:], duration=round(1000 / fps),
                     loop=0)
    if progress is not None:
        progress(total, total)
    return path


def gif_bytes(comparison: Comparison, **kwargs) -> bytes:  # noqa: ANN003 - save_gif's keywords
    """:func:`save_gif` into memory (for a download button)."""
    with tempfile.TemporaryDirectory() as tmp:
        return save_gif(comparison, Path(tmp) / "safestreets.gif", **kwargs).read_bytes()
