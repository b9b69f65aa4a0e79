"""Figures of a :class:`~model.dashboard.comparison.View`, sized and lettered for a room.

Matplotlib without pyplot (as :mod:`model.plots`): a map of the neighbourhoods for one side, the
live charts of both sides, and the words and numbers of the readout. The page, the PNG export
and the GIF export all draw with these functions, so a slide shows what the room saw.

>>> from model.dashboard import Comparison, Settings
>>> v = Comparison(Settings("baseline.yaml", size="small")).view()
>>> fig = charts_figure(v); len(fig.axes)
6
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from model.dashboard.comparison import CHART_OUTCOMES, SIDES, View
from model.metrics import outcome
from model.plots import SCENARIO_COLOURS

__all__ = [
    "SIDE_COLOURS", "chart_series", "charts_figure", "draw_chart", "draw_map", "figure_png", "map_figure",
    "map_label", "map_norm", "money", "plain", "readout_lines", "side_titles",
]

#: without, with: the report's colours for a baseline and a programme
SIDE_COLOURS = (SCENARIO_COLOURS[0], SCENARIO_COLOURS[1])
TITLE, LABEL, TICK = 16, 13, 12
MONTH_DAYS = 365.0 / 12


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


def draw_map(ax: Axes, view: View, side: int, name: str, norm: Normalize, title: str = "") -> object:
    """One side's neighbourhoods on ``ax``: area by residents, colour by ``name``; edges faint.

    On the with side, neighbourhoods where a programme is delivered are ringed in black.
    Returns the scatter (for a colour bar).
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
    if side == 1 and view.targeted.any():
        ax.text(0.0, 0.0, "black ring: programme delivered here", transform=ax.transAxes, fontsize=TICK,
                va="top")
    if title:
        ax.set_title(title, fontsize=TITLE, color=SIDE_COLOURS[side], loc="left")
    return points


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


def _gap(ax: Axes, months: np.ndarray, values: np.ndarray, name: str) -> None:
    """The with side's difference from the without side, written at the end of its line."""
    before, after = float(values[0, -1]), float(values[1, -1])
    if name == "cost_usd" or not outcome(name).is_count or before <= 0:
        return
    text = f"{after - before:+,.0f} ({(after - before) / before:+.0%})"
    better = (after < before) == outcome(name).lower_is_better
    ax.annotate(text, (months[-1], after), xytext=(6, -4 if after < before else 4), textcoords="offset points",
                fontsize=TICK, fontweight="bold", color="#2e7d32" if better else "#c62828",
                va="top" if after < before else "bottom")


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
