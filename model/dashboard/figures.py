"""Figures of a :class:`~model.dashboard.comparison.View`, sized and lettered for a room.

Matplotlib without pyplot (as :mod:`model.plots`): a map of the neighbourhoods for one side, the
live charts of both sides, and the words and numbers of the readout. The page, the PNG export
and the GIF export all draw with these functions, so a slide shows what the room saw.

While the cities play, the page does not build figures frame by frame: :class:`LiveMaps` and
:class:`LiveCharts` keep their figures, draw the still parts (axes, ticks, colour bar, neighbour
lines) once into a background, and on each frame only paste that background back and draw the
parts that moved (the dots' colours and rings, the lines, the gaps) on top (blitting). Scales move
in round steps (1, 2, 5, 10...), so the background is redrawn only when a line outgrows its axis
or the colours their scale.

>>> from model.dashboard import Comparison, Settings
>>> v = Comparison(Settings("baseline.yaml", size="small")).view()
>>> fig = charts_figure(v); len(fig.axes)
6
"""

from __future__ import annotations

import io
import math
import threading

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from model.dashboard.comparison import CHART_OUTCOMES, SIDES, View
from model.metrics import outcome
from model.plots import SCENARIO_COLOURS

__all__ = [
    "FINE_STEPS", "LIVE_DPI", "ROUND_STEPS", "SIDE_COLOURS", "LiveChart", "LiveCharts", "LiveFigure", "LiveMaps",
    "canvas_image", "chart_limits", "chart_series", "charts_figure", "draw_chart", "draw_map", "figure_png",
    "gap_annotation", "gap_label", "legend_handles", "map_figure", "map_label", "map_norm", "money", "nice_ceiling",
    "plain", "readout_lines", "recolour_maps", "ring_note", "show_chart",
]

#: without, with: the report's colours for a baseline and a programme
SIDE_COLOURS = (SCENARIO_COLOURS[0], SCENARIO_COLOURS[1])
TITLE, LABEL, TICK = 16, 13, 12
MONTH_DAYS = 365.0 / 12
#: dots per inch of the live page's images: a map 560 pixels wide, a chart 400 (the page scales them to fit)
LIVE_DPI = 80


def money(usd: float) -> str:
    """``$1.2M``, ``$350k``, ``$900`` (sign kept)."""
    sign = "-" if usd < 0 else ""
    usd = abs(usd)
    if usd >= 1e6:
        return f"{sign}${usd / 1e6:,.1f}M"
    if usd >= 1e3:
        return f"{sign}${usd / 1e3:,.0f}k"
    return f"{sign}${usd:,.0f}"


def plain(text: str) -> str:
    """``text`` for matplotlib, which would read the dollar signs of ``$1.2M ... $3k`` as mathematics."""
    return text.replace("$", r"\$")


def readout_lines(view: View) -> tuple[str, str]:
    """The readout in words: what was averted so far, and at what cost."""
    r = view.readout
    averted = r.homicides_averted
    if averted > 0:
        first = f"{averted:,.0f} homicides averted so far ({r.crimes_averted:,.0f} crimes)"
    elif averted < 0:
        first = f"{-averted:,.0f} more homicides than without so far ({r.crimes_averted:,.0f} crimes averted)"
    else:
        first = f"no homicides averted yet ({r.crimes_averted:,.0f} crimes averted)"
    per = r.cost_per_homicide_averted
    second = f"programme cost {money(r.cost_usd)}" + (f", {money(per)} per homicide averted" if per else "")
    return first, second


def map_label(name: str) -> str:
    """Colour-bar label of a map outcome, with its unit."""
    if name == "homicide_rate":
        return "Homicides per 100,000 a year (last 90 days)"
    o = outcome(name)
    return f"{o.label} ({o.unit})"


def _is_share(name: str) -> bool:
    """An outcome on a 0-1 scale (fear, trust, shares), as opposed to a count or a rate."""
    return outcome(name).unit in ("0-1", "share")


def map_norm(values: np.ndarray, name: str) -> Normalize:
    """One colour scale for both sides (and every frame of an animation): shares on 0-1, rates from 0."""
    if _is_share(name):
        return Normalize(0.0, 1.0)
    finite = values[np.isfinite(values)]
    top = float(np.percentile(finite, 95)) if finite.size else 1.0
    return Normalize(0.0, max(top, 1.0))


def _cmap(name: str) -> str:
    return "YlOrRd" if outcome(name).lower_is_better else "YlGnBu"


def draw_map(ax: Axes, view: View, side: int, name: str, norm: Normalize, title: str = "",
             note: bool = True) -> object:
    """One side's neighbourhoods on ``ax``: area by residents, colour by ``name``; edges faint.

    On the with side, neighbourhoods where a programme is delivered are ringed in black (and, with
    ``note``, a line under the map says so). Returns the scatter (for a colour bar).
    """
    pos = view.position
    ax.add_collection(LineCollection(pos[view.edges], colors="#d0d0d0", linewidths=0.7, zorder=1))
    size = 40 + 560 * view.residents / max(float(view.residents.max()), 1.0)
    ring = np.where(view.targeted, "black", "none") if side == 1 else "none"
    points = ax.scatter(pos[:, 0], pos[:, 1], c=view.hood[name][side], s=size, cmap=_cmap(name), norm=norm,
                        edgecolors=ring, linewidths=2.0, zorder=2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    pad = 0.06
    ax.set_xlim(pos[:, 0].min() - pad, pos[:, 0].max() + pad)
    ax.set_ylim(pos[:, 1].min() - pad, pos[:, 1].max() + pad)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if note and side == 1 and view.targeted.any():
        ring_note(ax)
    if title:
        ax.set_title(title, fontsize=TITLE, color=SIDE_COLOURS[side], loc="left")
    return points


def ring_note(ax: Axes) -> Artist:
    return ax.text(0.0, 0.0, "black ring: programme delivered here", transform=ax.transAxes, fontsize=TICK, va="top")


def map_figure(view: View, side: int, name: str = "homicide_rate", norm: Normalize | None = None,
               figsize: tuple[float, float] = (7.0, 6.2), dpi: float | None = None, note: bool = True) -> Figure:
    """The map of one side with its colour bar; pass the same ``norm`` for both sides."""
    norm = norm or map_norm(np.concatenate(view.hood[name]), name)
    fig = Figure(figsize=figsize, dpi=dpi)  # fixed margins: a constrained layout would double the drawing time
    ax = fig.add_axes((0.02, 0.2, 0.96, 0.78))
    points = draw_map(ax, view, side, name, norm, note=note)
    bar = fig.colorbar(points, cax=fig.add_axes((0.1, 0.1, 0.8, 0.035)), orientation="horizontal")
    bar.set_label(map_label(name), fontsize=LABEL)
    bar.ax.tick_params(labelsize=TICK)
    return fig


def recolour_maps(points: list, note: Artist, view: View, name: str) -> None:
    """Both sides' dots (``points``, as :func:`draw_map` returned them) and the ring note, as in ``view``."""
    for side, dots in enumerate(points):
        dots.set_array(view.hood[name][side])
    points[1].set_edgecolors(np.where(view.targeted, "black", "none"))
    note.set_visible(bool(view.targeted.any()))


def chart_series(view: View, name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``(months, values (2, n), y label)`` of one chart: counts as totals so far (cost in millions
    of USD), levels as they are."""
    o = outcome(name)
    values = view.series[name]
    months = np.arange(1, values.shape[1] + 1) * (365.0 / view.steps_per_year) / MONTH_DAYS
    if name == "cost_usd":
        return months, np.cumsum(values, axis=1) / 1e6, "USD million, so far"
    if o.is_count:
        return months, np.cumsum(values, axis=1), f"{o.unit}, so far"
    return months, values, o.unit


def _side_line(side: int) -> dict:
    """How each side's line is drawn: its colour, width and legend label."""
    return {"color": SIDE_COLOURS[side], "lw": 2.4 if side else 2.0, "label": SIDES[side]}


def gap_label(values: np.ndarray, name: str) -> tuple[str, str, bool] | None:
    """``(text, colour, below)`` of the with side's difference from the without side at the end of the
    lines (``None`` for levels, cost, or nothing yet on the without side)."""
    if not values.size or name == "cost_usd" or not outcome(name).is_count:
        return None
    before, after = float(values[0, -1]), float(values[1, -1])
    if before <= 0:
        return None
    better = (after < before) == outcome(name).lower_is_better
    return f"{after - before:+,.0f} ({(after - before) / before:+.0%})", "#2e7d32" if better else "#c62828", \
        after < before


def gap_annotation(ax: Axes) -> Artist:
    """An empty label for the gap at the end of the lines; :func:`show_chart` writes and places it."""
    return ax.annotate("", (0.0, 0.0), xytext=(6, 4), textcoords="offset points", fontsize=TICK, fontweight="bold")


def show_chart(lines: list[Line2D], gap: Artist, view: View, name: str) -> np.ndarray:
    """Both sides' ``lines`` and the ``gap`` label as they stand in ``view``; returns the values drawn."""
    months, values, _ = chart_series(view, name)
    for side, line in enumerate(lines):
        line.set_data(months, values[side])
    label = gap_label(values, name)
    gap.set_visible(label is not None)
    if label is not None:
        text, colour, below = label
        gap.set_text(text)
        gap.set_color(colour)
        gap.set_verticalalignment("top" if below else "bottom")
        gap.xy = (float(months[-1]), float(values[1, -1]))
        gap.xyann = (6, -4 if below else 4)
    return values


def _chart_frame(ax: Axes, view: View, name: str) -> None:
    """The still parts of a chart: the x axis over the whole horizon, title, axis labels, grid."""
    ax.set_xlim(0, view.total_steps * 365.0 / view.steps_per_year / MONTH_DAYS)
    ax.set_title(outcome(name).label, fontsize=TITLE - 1, loc="left")
    ax.set_ylabel(chart_series(view, name)[2], fontsize=LABEL)
    ax.set_xlabel("months", fontsize=LABEL)
    ax.tick_params(labelsize=TICK)
    ax.grid(alpha=0.3)


def draw_chart(ax: Axes, view: View, name: str, legend: bool = False) -> None:
    """One outcome, both sides, on one axis; the x axis spans the whole horizon."""
    lines = [ax.plot([], [], **_side_line(side))[0] for side in (0, 1)]
    values = show_chart(lines, gap_annotation(ax), view, name)
    top = float(np.nanmax(values)) if values.size else 0.0
    if _is_share(name) and values.size:
        lo = float(np.nanmin(values))
        ax.set_ylim(max(0.0, lo - 0.05), min(1.0, top + 0.05))
    else:
        ax.set_ylim(0, top * 1.12 if top > 0 else 1.0)
    _chart_frame(ax, view, name)
    if legend:
        ax.legend(fontsize=TICK, frameon=False, loc="upper left")


def charts_figure(view: View, names: tuple[str, ...] = CHART_OUTCOMES,
                  figsize: tuple[float, float] = (15.0, 7.4)) -> Figure:
    """The live charts: one panel per city outcome, both sides on each, a legend above."""
    ncols = 3
    nrows = int(np.ceil(len(names) / ncols))
    fig = Figure(figsize=figsize)  # fixed margins, as in map_figure
    axes = fig.subplots(nrows, ncols, squeeze=False)
    fig.subplots_adjust(left=0.06, right=0.97, top=0.87, bottom=0.08, wspace=0.3, hspace=0.5)
    for ax, name in zip(axes.ravel(), names, strict=False):
        draw_chart(ax, view, name)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, frameon=False, fontsize=LABEL + 1)
    return fig


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


#: round numbers for chart axes, and finer ones for the maps' colour scale (times any power of ten)
ROUND_STEPS = (1, 2, 5, 10)
FINE_STEPS = (1, 1.5, 2, 3, 4, 5, 6, 8, 10)


def nice_ceiling(x: float, steps: tuple[float, ...] = ROUND_STEPS) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50... (``steps`` times any power of ten) at or above ``x`` (1 for
    ``x`` <= 0)."""
    if not math.isfinite(x) or x <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(x))
    for step in steps:
        if step * power >= x * (1 - 1e-12):
            return float(step * power)
    return 10.0 * power  # pragma: no cover - the steps end at 10


def chart_limits(values: np.ndarray, name: str) -> tuple[float, float]:
    """Y limits of a live chart in round steps: 0 up to 1, 2, 5, 10... above the top for counts; tenths,
    within 0-1, for levels. The lines hold every step so far, so the limits only ever widen."""
    finite = values[np.isfinite(values)] if values.size else values
    if _is_share(name):
        if not finite.size:
            return 0.0, 1.0
        lo = max(0.0, math.floor(round((float(finite.min()) - 0.05) * 10, 9)) / 10)
        hi = min(1.0, math.ceil(round((float(finite.max()) + 0.05) * 10, 9)) / 10)
        return lo, hi
    return 0.0, nice_ceiling(float(finite.max()) * 1.12 if finite.size else 0.0)


def canvas_image(canvas: FigureCanvasAgg) -> Image.Image:
    """What ``canvas`` holds, as an RGB image."""
    width, height = canvas.get_width_height(physical=True)
    return Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")


def _png(canvas: FigureCanvasAgg) -> bytes:
    """What ``canvas`` holds, as PNG bytes: fast compression (the page's images are small and local)."""
    buf = io.BytesIO()
    canvas_image(canvas).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


class LiveFigure:
    """A figure kept between frames: the still parts drawn once into a background, the ``moving``
    artists drawn on top of a copy of it each frame (blitting on the Agg canvas)."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.canvas = FigureCanvasAgg(figure)
        self.moving: list[Artist] = []
        self.redraws = 0  # full drawings of the background (the rest were blits)
        self.frames = 0
        self._background = None

    def move(self, *artists: Artist) -> None:
        """Mark ``artists`` as changing from frame to frame: left out of the background, drawn every frame."""
        for artist in artists:
            artist.set_animated(True)
            self.moving.append(artist)

    def invalidate(self) -> None:
        """The still parts changed (a scale, a limit): draw the background again on the next frame."""
        self._background = None

    def draw(self) -> None:
        """Draw the frame onto the canvas: the background (drawn again only if invalidated), then what moved."""
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self.redraws += 1
        else:
            self.canvas.restore_region(self._background)
        for artist in self.moving:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        self.frames += 1

    def png(self) -> bytes:
        """The frame, drawn, as PNG bytes."""
        self.draw()
        return _png(self.canvas)


class LiveMaps:
    """Both sides' maps, kept alive while the cities play; :meth:`update` recolours them for a new view.

    One colour scale for both sides, as :func:`map_norm` sets it but rounded up (1, 1.5, 2, 3, 4...): the
    colour bars (and the rest of the still parts) are redrawn only when that round top changes.
    """

    def __init__(self, view: View, name: str = "homicide_rate", dpi: int = LIVE_DPI,
                 figsize: tuple[float, float] = (7.0, 6.2)) -> None:
        self.name = name
        self._shares = _is_share(name)
        self.norm = map_norm(np.concatenate(view.hood[name]), name)
        if not self._shares:
            self.norm.vmax = self._round_top(self.norm)
        self._lock = threading.Lock()
        self.live = [LiveFigure(map_figure(view, side, name, self.norm, figsize, dpi, note=False)) for side in (0, 1)]
        self._points = [live.figure.axes[0].collections[-1] for live in self.live]  # the dots draw_map drew
        self._note = ring_note(self.live[1].figure.axes[0])
        for live, points in zip(self.live, self._points, strict=True):
            live.move(points)
        self.live[1].move(self._note)

    @staticmethod
    def _round_top(norm: Normalize) -> float:
        """The top of the colour scale rounded up to 1, 1.5, 2, 3, 4..., so it moves in round steps."""
        return nice_ceiling(norm.vmax, FINE_STEPS)

    @property
    def figures(self) -> tuple[Figure, Figure]:
        return self.live[0].figure, self.live[1].figure

    def update(self, view: View) -> tuple[bytes, bytes]:
        """Both maps as they stand in ``view``, as PNG bytes (without, with)."""
        with self._lock:
            values = view.hood[self.name]
            if not self._shares and np.isfinite(values).any():
                top = self._round_top(map_norm(values, self.name))
                if top != self.norm.vmax:
                    self.norm.vmax = top  # both dots and both colour bars follow the shared scale
                    for live in self.live:
                        live.invalidate()
            recolour_maps(self._points, self._note, view, self.name)
            return self.live[0].png(), self.live[1].png()


class LiveChart(LiveFigure):
    """One outcome's chart, both sides, kept alive while the cities play (a small figure of its own,
    so a chart whose axis widens is redrawn alone)."""

    def __init__(self, view: View, name: str, dpi: int = LIVE_DPI, figsize: tuple[float, float] = (5.0, 3.4)) -> None:
        super().__init__(Figure(figsize=figsize, dpi=dpi))
        self.name = name
        self._lock = threading.Lock()
        ax = self.ax = self.figure.add_axes((0.2, 0.2, 0.76, 0.68))
        self.lines = [ax.plot([], [], **_side_line(side))[0] for side in (0, 1)]
        self.gap = gap_annotation(ax)
        self.move(*self.lines, self.gap)
        ax.set_ylim(*chart_limits(np.zeros((2, 0)), name))
        _chart_frame(ax, view, name)

    def update(self, view: View) -> bytes:
        """The chart as it stands in ``view``, as PNG bytes."""
        with self._lock:
            values = show_chart(self.lines, self.gap, view, self.name)
            limits = chart_limits(values, self.name)
            if limits != tuple(self.ax.get_ylim()):
                self.ax.set_ylim(*limits)
                self.invalidate()
            return self.png()


class LiveCharts:
    """The live charts (one :class:`LiveChart` per outcome), kept alive while the cities play."""

    def __init__(self, view: View, names: tuple[str, ...] = CHART_OUTCOMES, dpi: int = LIVE_DPI) -> None:
        self.charts = [LiveChart(view, name, dpi=dpi) for name in names]

    @property
    def figures(self) -> list[Figure]:
        return [chart.figure for chart in self.charts]

    def update(self, view: View) -> list[bytes]:
        """Every chart as it stands in ``view``, as PNG bytes, in the order of ``names``."""
        return [chart.update(view) for chart in self.charts]


def legend_handles() -> list[Line2D]:
    """Lines for a legend of the two sides (proxies: the live lines are drawn outside the background)."""
    return [Line2D([], [], **_side_line(side)) for side in (0, 1)]
