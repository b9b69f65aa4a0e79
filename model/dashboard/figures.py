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
    "chart_limits", "chart_series", "charts_figure", "draw_chart", "draw_map", "figure_png", "gap_label",
    "legend_handles", "map_figure", "map_label", "map_norm", "money", "nice_ceiling", "plain", "readout_lines",
    "ring_note", "side_titles",
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


def side_titles(view: View) -> tuple[str, str]:
    """Headings of the two sides, naming the programmes on the with side."""
    names = ", ".join(view.programmes) if view.programmes else "none switched on"
    return SIDES[0], f"{SIDES[1]}: {names}"


def map_label(name: str) -> str:
    """Colour-bar label of a map outcome, with its unit."""
    if name == "homicide_rate":
        return "Homicides per 100,000 a year (last 90 days)"
    o = outcome(name)
    return f"{o.label} ({o.unit})"


def map_norm(values: np.ndarray, name: str) -> Normalize:
    """One colour scale for both sides (and every frame of an animation): shares on 0-1, rates from 0."""
    if outcome(name).unit in ("0-1", "share"):
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
               figsize: tuple[float, float] = (7.0, 6.2)) -> Figure:
    """The map of one side with its colour bar; pass the same ``norm`` for both sides."""
    norm = norm or map_norm(np.concatenate([view.hood[name][0], view.hood[name][1]]), name)
    fig = Figure(figsize=figsize)  # fixed margins: a constrained layout would double the drawing time
    ax = fig.add_axes((0.02, 0.2, 0.96, 0.78))
    points = draw_map(ax, view, side, name, norm)
    bar = fig.colorbar(points, cax=fig.add_axes((0.1, 0.1, 0.8, 0.035)), orientation="horizontal")
    bar.set_label(map_label(name), fontsize=LABEL)
    bar.ax.tick_params(labelsize=TICK)
    return fig


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


def _gap(ax: Axes, months: np.ndarray, values: np.ndarray, name: str) -> None:
    """The with side's difference from the without side, written at the end of its line."""
    label = gap_label(values, name)
    if label is None:
        return
    text, colour, below = label
    ax.annotate(text, (months[-1], float(values[1, -1])), xytext=(6, -4 if below else 4), textcoords="offset points",
                fontsize=TICK, fontweight="bold", color=colour, va="top" if below else "bottom")


def draw_chart(ax: Axes, view: View, name: str, legend: bool = False) -> None:
    """One outcome, both sides, on one axis; the x axis spans the whole horizon."""
    months, values, ylabel = chart_series(view, name)
    for side in (0, 1):
        ax.plot(months, values[side], color=SIDE_COLOURS[side], lw=2.4 if side else 2.0, label=SIDES[side])
    ax.set_xlim(0, view.total_steps * 365.0 / view.steps_per_year / MONTH_DAYS)
    top = float(np.nanmax(values)) if values.size else 0.0
    if outcome(name).unit in ("0-1", "share") and values.size:
        lo = float(np.nanmin(values))
        ax.set_ylim(max(0.0, lo - 0.05), min(1.0, top + 0.05))
    else:
        ax.set_ylim(0, top * 1.12 if top > 0 else 1.0)
    if values.size:
        _gap(ax, months, values, name)
    title = "Programme cost" if name == "cost_usd" else outcome(name).label
    ax.set_title(title, fontsize=TITLE - 1, loc="left")
    ax.set_ylabel(ylabel, fontsize=LABEL)
    ax.set_xlabel("months", fontsize=LABEL)
    ax.tick_params(labelsize=TICK)
    ax.grid(alpha=0.3)
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
    if outcome(name).unit in ("0-1", "share"):
        if not finite.size:
            return 0.0, 1.0
        lo = max(0.0, math.floor(round((float(finite.min()) - 0.05) * 10, 9)) / 10)
        hi = min(1.0, math.ceil(round((float(finite.max()) + 0.05) * 10, 9)) / 10)
        return lo, hi
    return 0.0, nice_ceiling(float(finite.max()) * 1.12 if finite.size else 0.0)


def _png(canvas: FigureCanvasAgg) -> bytes:
    """What ``canvas`` holds, as PNG bytes: fast compression (the page's images are small and local)."""
    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
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

    def png(self) -> bytes:
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
        return _png(self.canvas)


class LiveMaps:
    """Both sides' maps, kept alive while the cities play; :meth:`update` recolours them for a new view.

    One colour scale for both sides, as :func:`map_norm` sets it but rounded up (1, 1.5, 2, 3, 4...): the
    colour bars (and the rest of the still parts) are redrawn only when that round top changes.
    """

    def __init__(self, view: View, name: str = "homicide_rate", dpi: int = LIVE_DPI,
                 figsize: tuple[float, float] = (7.0, 6.2)) -> None:
        self.name = name
        self._shares = outcome(name).unit in ("0-1", "share")
        self.norm = map_norm(np.concatenate(view.hood[name]), name)
        if not self._shares:
            self.norm.vmax = nice_ceiling(max(self.norm.vmax, 1.0), FINE_STEPS)
        self._lock = threading.Lock()
        self.live: list[LiveFigure] = []
        self._points = []
        self._note = None
        for side in (0, 1):
            fig = Figure(figsize=figsize, dpi=dpi)
            ax = fig.add_axes((0.02, 0.2, 0.96, 0.78))
            points = draw_map(ax, view, side, name, self.norm, note=False)
            bar = fig.colorbar(points, cax=fig.add_axes((0.1, 0.1, 0.8, 0.035)), orientation="horizontal")
            bar.set_label(map_label(name), fontsize=LABEL)
            bar.ax.tick_params(labelsize=TICK)
            live = LiveFigure(fig)
            live.move(points)
            if side == 1:
                self._note = ring_note(ax)
                live.move(self._note)
            self.live.append(live)
            self._points.append(points)

    @property
    def figures(self) -> tuple[Figure, Figure]:
        return self.live[0].figure, self.live[1].figure

    def update(self, view: View) -> tuple[bytes, bytes]:
        """Both maps as they stand in ``view``, as PNG bytes (without, with)."""
        with self._lock:
            values = view.hood[self.name]
            finite = values[np.isfinite(values)]
            if not self._shares and finite.size:
                top = nice_ceiling(max(float(np.percentile(finite, 95)), 1.0), FINE_STEPS)
                if top != self.norm.vmax:
                    self.norm.vmax = top  # both dots and both colour bars follow the shared scale
                    for live in self.live:
                        live.invalidate()
            for side, points in enumerate(self._points):
                points.set_array(values[side])
            self._points[1].set_edgecolors(np.where(view.targeted, "black", "none"))
            self._note.set_visible(bool(view.targeted.any()))
            return self.live[0].png(), self.live[1].png()


class LiveChart(LiveFigure):
    """One outcome's chart, both sides, kept alive while the cities play (a small figure of its own,
    so a chart whose axis widens is redrawn alone)."""

    def __init__(self, view: View, name: str, dpi: int = LIVE_DPI, figsize: tuple[float, float] = (5.0, 3.4)) -> None:
        super().__init__(Figure(figsize=figsize, dpi=dpi))
        self.name = name
        self._lock = threading.Lock()
        ax = self.ax = self.figure.add_axes((0.2, 0.2, 0.76, 0.68))
        self.lines = [ax.plot([], [], color=SIDE_COLOURS[side], lw=2.4 if side else 2.0, label=SIDES[side])[0]
                      for side in (0, 1)]
        self.gap = ax.annotate("", (0.0, 0.0), xytext=(6, 4), textcoords="offset points", fontsize=TICK,
                               fontweight="bold")
        self.move(*self.lines, self.gap)
        _, _, ylabel = chart_series(view, name)
        ax.set_xlim(0, view.total_steps * 365.0 / view.steps_per_year / MONTH_DAYS)
        ax.set_ylim(*chart_limits(np.zeros((2, 0)), name))
        ax.set_title("Programme cost" if name == "cost_usd" else outcome(name).label, fontsize=TITLE - 1, loc="left")
        ax.set_ylabel(ylabel, fontsize=LABEL)
        ax.set_xlabel("months", fontsize=LABEL)
        ax.tick_params(labelsize=TICK)
        ax.grid(alpha=0.3)

    def update(self, view: View) -> bytes:
        """The chart as it stands in ``view``, as PNG bytes."""
        with self._lock:
            months, values, _ = chart_series(view, self.name)
            for side, line in enumerate(self.lines):
                line.set_data(months, values[side])
            limits = chart_limits(values, self.name)
            if limits != tuple(self.ax.get_ylim()):
                self.ax.set_ylim(*limits)
                self.invalidate()
            label = gap_label(values, self.name)
            self.gap.set_visible(label is not None)
            if label is not None:
                text, colour, below = label
                self.gap.set_text(text)
                self.gap.set_color(colour)
                self.gap.set_verticalalignment("top" if below else "bottom")
                self.gap.xy = (float(months[-1]), float(values[1, -1]))
                self.gap.xyann = (6, -4 if below else 4)
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
    return [Line2D([], [], color=SIDE_COLOURS[side], lw=2.4 if side else 2.0, label=SIDES[side]) for side in (0, 1)]
