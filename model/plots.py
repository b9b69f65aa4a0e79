"""Matplotlib figures used by the CLI, the report and notebooks (they read only result tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from model.metrics import outcome  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from model.results import RunResult

__all__ = ["run_figure", "MAIN_SERIES", "monthly"]

MAIN_SERIES = ("homicides", "robberies", "extortions", "fear", "trust", "gang_members")


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
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), sharex=True)
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
