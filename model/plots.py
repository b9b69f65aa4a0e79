"""Matplotlib figures used by the CLI, the report and notebooks (they read only result tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure

from model.metrics import outcome

if TYPE_CHECKING:
    from model.results import RunResult

__all__ = ["run_figure", "MAIN_SERIES", "monthly"]

MAIN_SERIES = ("homicides", "robberies", "extortions", "fear", "trust", "gang_members")


def _subplots(*grid: int, figsize: tuple[float, float], **kwargs) -> tuple[Figure, object]:  # noqa: ANN003
    """A figure and its axes without pyplot: no global figure registry, no backend switch on import."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kwargs)


def monthly(timeseries: pd.DataFrame, name: str, steps_per_year: int) -> pd.Series:
    """A series per month: sums for counts, means for levels (indexed by years elapsed)."""
    month = (timeseries["step"] * 12 // steps_per_year).astype(int)
    values = timeseries[name].groupby(month)
    series = values.sum() if outcome(name).is_count else values.mean()
    series.index = series.index / 12.0
    return series


def run_figure(result: RunResult, names: tuple[str, ...] = MAIN_SERIES) -> Figure:
    """The main series of one run, by month, one panel each."""
    spy = result.scenario.steps_per_year
    fig, axes = _subplots(2, 3, figsize=(12, 6.5), sharex=True)
    for ax, name in zip(axes.ravel(), names, strict=False):
        o = outcome(name)
        series = monthly(result.timeseries, name, spy)
        ax.plot(series.index, series.values, color="#1f4e79", lw=1.6)
        reported = f"{name}_reported"
        if reported in result.timeseries.columns:
            ax.plot(series.index, monthly(result.timeseries, reported, spy).values, color="#c55a11",
                    lw=1.2, ls="--", label="reported")
            ax.legend(frameon=False, fontsize=8)
        ax.set_title(f"{o.label} ({'per month' if o.is_count else o.unit})", fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("years")
    fig.suptitle(f"{result.scenario.name} - seed {result.seed}", fontsize=11)
    fig.tight_layout()
    return fig


# ---- batch comparisons (model.analysis tables) ---------------------------------------------------

__all__ += ["band_figure", "forest_figure", "neighbourhood_map_figure", "neighbourhood_rank_figure",
            "displacement_figure", "sensitivity_figure", "SCENARIO_COLOURS"]

SCENARIO_COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a50021")


def band_figure(bands: pd.DataFrame, names: tuple[str, ...] = MAIN_SERIES, ncols: int = 3) -> Figure:
    """Mean paths with their 95 % bands, one panel per outcome, one colour per scenario.

    ``bands`` is :func:`model.analysis.timeseries_bands` output (by month or by step). Where
    ``<name>_reported`` is in the table too, the reported series is drawn dashed in the same panel.
    """
    import numpy as np

    names = tuple(n for n in names if n in set(bands["outcome"]))
    nrows = max(1, int(np.ceil(len(names) / ncols)))
    fig, axes = _subplots(nrows, ncols, figsize=(4.2 * ncols, 3.1 * nrows), sharex=True, squeeze=False)
    scenarios = list(dict.fromkeys(bands["scenario"]))
    per = "per month" if "month" in bands.columns else "per step"
    for ax, name in zip(axes.ravel(), names, strict=False):
        o = outcome(name)
        for i, scen in enumerate(scenarios):
            colour = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
            for series, style, label in ((name, "-", scen), (f"{name}_reported", "--", f"{scen} (reported)")):
                b = bands[(bands["scenario"] == scen) & (bands["outcome"] == series)]
                if b.empty:
                    continue
                b = b.groupby("year", as_index=False)[["mean", "lo", "hi"]].mean()
                ax.plot(b["year"], b["mean"], color=colour, lw=1.5 if style == "-" else 1.1, ls=style, label=label)
                ax.fill_between(b["year"], b["lo"], b["hi"], color=colour, alpha=0.18 if style == "-" else 0.08,
                                lw=0)
        ax.set_title(f"{o.label} ({per if o.is_count else o.unit})", fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("years")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def forest_figure(effects: pd.DataFrame, value: str = "pct_change") -> Figure:
    """Effect sizes with 95 % intervals (percent change by default), one row per outcome and scenario.

    Green where the change is an improvement and its interval excludes zero, red where it is a
    clear worsening, grey where the interval includes zero. ``effects`` is
    :func:`model.analysis.effects` output.
    """
    import numpy as np

    lo, hi = ("pct_lo", "pct_hi") if value == "pct_change" else ("diff_lo", "diff_hi")
    e = effects[np.isfinite(effects[value].astype(float))].reset_index(drop=True)
    scenarios = list(dict.fromkeys(e["scenario"]))
    fig, ax = _subplots(figsize=(8, 0.38 * max(len(e), 3) + 1.2))
    colours = {"better": "#2e7d32", "worse": "#c62828", "no clear change": "#7f7f7f"}
    y = np.arange(len(e))[::-1]
    for yi, (_, row) in zip(y, e.iterrows(), strict=True):
        c = colours.get(row["verdict"], "#7f7f7f")
        lo_v, hi_v = float(row[lo]), float(row[hi])
        if np.isfinite(lo_v) and np.isfinite(hi_v):
            ax.plot([lo_v, hi_v], [yi, yi], color=c, lw=2)
        marker = "os^Dv"[scenarios.index(row["scenario"]) % 5]
        ax.plot([row[value]], [yi], marker=marker, color=c, ms=6)
    labels = [f"{r.label}" + (f" - {r.scenario}" if len(scenarios) > 1 else "") for r in e.itertuples()]
    ax.set_yticks(y, labels, fontsize=9)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("percent change vs baseline (95% CI)" if value == "pct_change" else "difference vs baseline")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def neighbourhood_map_figure(change: pd.DataFrame, position, edges, treated=None,  # noqa: ANN001 - arrays
                             title: str = "") -> Figure:
    """A map of one replication's city: each neighbourhood coloured by its change per 1,000 residents.

    ``change`` is :func:`model.analysis.neighbourhood_change` rows of one scenario and seed;
    ``position`` the (K, 2) array of neighbourhood positions of that seed's city, ``edges`` its
    adjacency (pairs of ids); ``treated`` an optional boolean array (outlined in black). Marker
    area follows residents. Blue = fewer (better for crimes), red = more.
    """
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm

    pos = np.asarray(position, dtype=float)
    c = change.set_index("neighbourhood").reindex(range(len(pos)))
    values = c["diff_per_1000"].to_numpy(dtype=float)
    fig, ax = _subplots(figsize=(6.4, 5.6))
    for a, b in edges:
        ax.plot(pos[[a, b], 0], pos[[a, b], 1], color="#bbbbbb", lw=0.6, zorder=1)
    # robust colour scale: a tiny neighbourhood's extreme rate should not wash out the rest
    span = float(np.nanpercentile(np.abs(values), 95)) if np.isfinite(values).any() else 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-(span or 1.0), vmax=span or 1.0)
    residents = c["residents"].to_numpy(dtype=float)
    size = 40 + 360 * residents / np.nanmax(residents)
    edge = np.where(np.asarray(treated, dtype=bool), "black", "none") if treated is not None else "none"
    sc = ax.scatter(pos[:, 0], pos[:, 1], c=values, s=size, cmap="RdBu_r", norm=norm, edgecolors=edge,
                    linewidths=1.6, zorder=2)
    cb = fig.colorbar(sc, ax=ax, shrink=0.8)
    o = outcome(str(change["outcome"].iloc[0])) if len(change) else None
    cb.set_label(f"change in {o.label.lower() if o else 'outcome'} per 1,000 residents per year")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or "Change by neighbourhood (black outline: targeted)", fontsize=10)
    fig.tight_layout()
    return fig


def neighbourhood_rank_figure(change: pd.DataFrame, top: int = 30, title: str = "") -> Figure:
    """Neighbourhoods of one replication ranked by change per 1,000 residents (most improved at top)."""
    c = change.sort_values("rank").head(top)
    fig, ax = _subplots(figsize=(7, 0.22 * len(c) + 1.2))
    colours = ["#2166ac" if v < 0 else "#b2182b" for v in c["diff_per_1000"]]
    labels = [f"#{int(n)}" for n in c["neighbourhood"]]
    ax.barh(range(len(c))[::-1], c["diff_per_1000"], color=colours)
    ax.set_yticks(range(len(c))[::-1], labels, fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("change per 1,000 residents per year")
    ax.set_title(title or "Change by neighbourhood, ranked", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def displacement_figure(disp: pd.DataFrame) -> Figure:
    """Percent change (95 % CI) in treated neighbourhoods, their neighbours and elsewhere, per scenario."""
    import numpy as np

    groups = [g for g in ("treated", "neighbours", "elsewhere", "all") if g in set(disp["group"])]
    scenarios = list(dict.fromkeys(disp["scenario"]))
    fig, ax = _subplots(figsize=(7, 3.6))
    width = 0.8 / max(len(scenarios), 1)
    for i, scen in enumerate(scenarios):
        d = disp[disp["scenario"] == scen].set_index("group").reindex(groups)
        x = np.arange(len(groups)) + (i - (len(scenarios) - 1) / 2) * width
        est = d["pct_change"].to_numpy(dtype=float)
        err = np.vstack([est - d["pct_lo"].to_numpy(dtype=float), d["pct_hi"].to_numpy(dtype=float) - est])
        ax.bar(x, est, width * 0.9, color=SCENARIO_COLOURS[(i + 1) % len(SCENARIO_COLOURS)], label=scen,
               yerr=np.nan_to_num(err), capsize=4)
    ax.set_xticks(np.arange(len(groups)), groups)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("percent change vs baseline (95% CI)")
    ax.grid(axis="y", alpha=0.3)
    if len(scenarios) > 1:
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def sensitivity_figure(indices: pd.DataFrame) -> Figure:
    """Bars of Sobol (S1, ST) or Morris (mu*, sigma) indices with their confidence half-widths."""
    import numpy as np

    pairs = (("S1", "S1_conf"), ("ST", "ST_conf")) if "S1" in indices.columns else (("mu_star", "mu_star_conf"),
                                                                                     ("sigma", None))
    names = list(indices["parameter"])
    x = np.arange(len(names))
    fig, ax = _subplots(figsize=(max(4.5, 1.6 * len(names)), 3.4))
    for i, (col, conf) in enumerate(pairs):
        err = indices[conf].to_numpy(dtype=float) if conf else None
        ax.bar(x + (i - 0.5) * 0.38, indices[col], 0.36, yerr=err, capsize=4, label=col,
               color=SCENARIO_COLOURS[i])
    ax.set_xticks(x, names, fontsize=8)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    if "outcome" in indices.columns and len(indices):
        ax.set_title(f"Sensitivity of {outcome(str(indices['outcome'].iloc[0])).label.lower()}", fontsize=10)
    fig.tight_layout()
    return fig
