"""Analysis of stored batch results: paired effects, cost-effectiveness, bands, places, sensitivity.

Everything here reads the tidy tables of the results store (see ``model.store``) as pandas
DataFrames and returns DataFrames; nothing runs the model, nothing touches disk.

Pairing. Replication *r* of every scenario runs with the same seed (common random numbers), so a
scenario is compared with the baseline run by run: the pair key is ``(point, seed)``. Differences
are taken within each pair and then averaged, which removes most of the run-to-run noise.

Intervals (all at ``level``, 95 % by default):

* **mean difference** — Student-t interval on the paired differences (``n - 1`` degrees of freedom).
  If every pair differs by exactly the same amount the interval has zero width; identical runs give
  exactly 0 and ``[0, 0]``.
* **percent change** — 100 × (ratio of paired means − 1), with a **delta-method** (linearised
  ratio-estimator) t interval on the log of the ratio: the standard error comes from the paired
  residuals ``scenario_i − R · baseline_i``, so the pairing's noise reduction carries over, the
  bounds never go below −100 %, identical runs
  give exactly ``[0, 0]``, and the interval stays finite when the baseline mean is noisy (a small
  city's homicides). Its residuals differ from the plain differences, so when effects are
  proportional to the baseline level it can be narrower than the difference's interval; the
  ``verdict`` follows the difference.
* **cost per homicide / crime averted** — a ratio whose denominator (the number averted) can be
  near zero, so its interval uses **Fieller's method** on the paired means (same t quantile, with
  the sample covariance of cost and number averted). It needs no random resampling (reproducible,
  and sound with 3 replications, where a bootstrap has only 10 distinct resamples), and it is
  honest when the number averted is not clearly above zero: the interval is then unbounded
  (``hi = inf``) instead of a misleadingly tight number.

Cost-effectiveness. Extra cost is the paired mean of (scenario − baseline) programme cost per year;
homicides (crimes) averted are the paired mean of (baseline − scenario) true homicides (homicides +
robberies + extortions + assaults) per year. A ratio is reported only where the scenario costs more
and averts something on average; otherwise the status says ``not averted`` or ``no extra cost``
rather than printing a negative cost.

Places. The city is drawn afresh from each run's seed (``model.world.build_world`` with the
``world`` stream), so neighbourhood *i* is a different place in each replication. Changes by
neighbourhood are therefore paired and ranked *within* each replication; across replications they
are summarised by groups (treated, their neighbours, elsewhere), which is the displacement view.

Sensitivity. Sobol and Morris indices come from SALib (``SALib.analyze.sobol`` and
``SALib.analyze.morris``) applied to the outcome averaged over replications at each sample point.

>>> import pandas as pd
>>> s = pd.DataFrame({"scenario": ["baseline", "baseline", "p", "p"], "seed": [1, 2, 1, 2],
...                   "point": [0, 0, 0, 0], "outcome": "homicides", "value": [10.0, 12.0, 8.0, 9.0]})
>>> e = effects(s, baseline="baseline", outcomes=["homicides"])
>>> e[["scenario", "diff", "pct_change"]].round(2).to_dict("records")
[{'scenario': 'p', 'diff': -2.5, 'pct_change': -22.73}]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from model.metrics import OUTCOMES, outcome

if TYPE_CHECKING:
    import networkx as nx

    from model.scenario import Scenario
    from model.world import World

__all__ = [
    "CRIME_PARTS",
    "HEADLINE_OUTCOMES",
    "Interval",
    "baseline_of",
    "cost_effectiveness",
    "delta_ratio",
    "displacement",
    "effects",
    "fieller_ratio",
    "morris_indices",
    "neighbourhood_change",
    "paired_differences",
    "per_replication",
    "point_means",
    "scenario_from_manifest",
    "sobol_indices",
    "t_interval",
    "TableResults",
    "tables_from_runs",
    "timeseries_bands",
    "treated_neighbourhoods",
    "world_for",
]

#: the true crimes that make up "crime" for cost per crime averted
CRIME_PARTS = ("homicides", "robberies", "extortions", "assaults")
#: outcomes of the headline table, in order
HEADLINE_OUTCOMES = (
    "homicides", "homicide_rate", "robberies", "extortions", "assaults", "crimes", "crimes_reported",
    "fear", "trust", "gang_members", "recruits", "economic_activity", "cost_usd",
)
PAIR_KEYS = ("point", "seed")


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval (``lo``/``hi`` may be ±inf or NaN)."""

    estimate: float
    lo: float
    hi: float


# ---- small statistics ----------------------------------------------------------------------------

def _t_quantile(n: int, level: float) -> float:
    return float(stats.t.ppf(1.0 - (1.0 - level) / 2.0, n - 1)) if n >= 2 else math.nan


def t_interval(differences: Sequence[float] | np.ndarray, level: float = 0.95) -> Interval:
    """Mean of paired differences with a Student-t interval.

    >>> t_interval([1.0, 1.0, 1.0])
    Interval(estimate=1.0, lo=1.0, hi=1.0)
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    mean = float(d.mean())
    if np.all(d == d[0]):  # no spread: the interval is the point, exactly
        return Interval(mean, mean, mean) if n >= 2 else Interval(mean, math.nan, math.nan)
    if n < 2:
        return Interval(mean, math.nan, math.nan)
    half = _t_quantile(n, level) * float(d.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half)


def _finite_pairs(numerator: Any, denominator: Any) -> tuple[np.ndarray, np.ndarray]:
    """The pairs where both values are finite (a failed or missing run drops its whole pair)."""
    x = np.asarray(numerator, dtype=float)
    y = np.asarray(denominator, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def delta_ratio(numerator: Sequence[float] | np.ndarray, denominator: Sequence[float] | np.ndarray,
                level: float = 0.95) -> Interval:
    """Ratio of paired means ``R = mean(x) / mean(y)`` with a delta-method t interval.

    The standard error is ``sd(x_i - R y_i) / (sqrt(n) |mean(y)|)`` (the linearised ratio
    estimator), so it uses the pairing; identical columns give exactly ``[1, 1]``. For positive
    means the interval is built on log R (``R · exp(±t · se / R)``), so a percent change never
    falls below −100 %.

    >>> delta_ratio([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    Interval(estimate=2.0, lo=2.0, hi=2.0)
    """
    x, y = _finite_pairs(numerator, denominator)
    n = x.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    my = float(y.mean())
    if my == 0:
        return Interval(math.nan, math.nan, math.nan)
    ratio = float(x.mean()) / my
    resid = x - ratio * y
    if n < 2:
        return Interval(ratio, math.nan, math.nan)
    if np.all(resid == resid[0]):
        return Interval(ratio, ratio, ratio)
    se = float(resid.std(ddof=1)) / (math.sqrt(n) * abs(my))
    tq = _t_quantile(n, level)
    if ratio > 0 and my > 0:  # on the log scale: a ratio of positive means stays positive
        f = math.exp(tq * se / ratio)
        return Interval(ratio, ratio / f, ratio * f)
    return Interval(ratio, ratio - tq * se, ratio + tq * se)


def fieller_ratio(numerator: Sequence[float] | np.ndarray, denominator: Sequence[float] | np.ndarray,
                  level: float = 0.95) -> Interval:
    """Ratio of paired means ``mean(numerator) / mean(denominator)`` with Fieller's interval.

    The interval is the set of ratios R for which ``mean(x) - R mean(y)`` is not significantly
    different from zero (t test with the paired covariance). When the denominator's mean is not
    clearly away from zero the set is unbounded and ``hi`` is ``inf`` (``lo`` is the finite end on
    the side of the estimate, or NaN).

    >>> r = fieller_ratio([100.0, 100.0, 100.0], [1.0, 2.0, 3.0]); (r.estimate, round(r.lo, 1), r.hi)
    (50.0, 22.3, inf)
    >>> r = fieller_ratio([100.0, 100.0, 100.0], [9.0, 10.0, 11.0]); (r.estimate, round(r.lo, 2), round(r.hi, 2))
    (10.0, 8.01, 13.31)
    """
    x, y = _finite_pairs(numerator, denominator)
    n = x.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    mx, my = float(x.mean()), float(y.mean())
    estimate = mx / my if my != 0 else math.nan
    if n < 2 or my == 0:
        return Interval(estimate, math.nan, math.nan)
    t2 = _t_quantile(n, level) ** 2
    vx = float(x.var(ddof=1)) / n
    vy = float(y.var(ddof=1)) / n
    cxy = float(np.cov(x, y, ddof=1)[0, 1]) / n
    a = my * my - t2 * vy
    b = mx * my - t2 * cxy
    c = mx * mx - t2 * vx
    disc = b * b - a * c
    if a > 0:
        root = math.sqrt(max(disc, 0.0))
        lo, hi = (b - root) / a, (b + root) / a
        return Interval(estimate, min(lo, hi), max(lo, hi))
    # denominator not distinguishable from zero: the confidence set reaches infinity
    if disc > 0 and a < 0:
        r1, r2 = sorted(((b - math.sqrt(disc)) / a, (b + math.sqrt(disc)) / a))
        if estimate >= r2:
            return Interval(estimate, r2, math.inf)
    return Interval(estimate, math.nan, math.inf)


# ---- shaping the tables ----------------------------------------------------------------------------

def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with a ``point`` column (0 when absent or missing) and a string pair key."""
    out = df.copy()
    if "point" not in out.columns:
        out["point"] = 0
    out["point"] = out["point"].astype(object).where(out["point"].notna(), 0)
    out["_pair"] = out["point"].astype(str) + "|" + out["seed"].astype(str)
    return out


def baseline_of(table: pd.DataFrame, baseline: str | None = None) -> str:
    """The baseline scenario's name: ``baseline`` if given, else one called "baseline", else the first."""
    names = list(dict.fromkeys(table["scenario"].tolist()))
    if baseline is not None:
        if baseline not in names:
            raise ValueError(f"baseline scenario '{baseline}' not in the results (found {', '.join(names)})")
        return baseline
    if "baseline" in names:
        return "baseline"
    if not names:
        raise ValueError("no runs in the results")
    return names[0]


def _direction(name: str) -> bool:
    try:
        return outcome(name).lower_is_better
    except KeyError:
        return True


def _with_crimes(summary: pd.DataFrame) -> pd.DataFrame:
    """Add a ``crimes`` outcome (sum of the four true crimes) if the table lacks one."""
    if (summary["outcome"] == "crimes").any():
        return summary
    parts = summary[summary["outcome"].isin(CRIME_PARTS)]
    if parts.empty:
        return summary
    keys = [c for c in ("run_id", "scenario", "rep", "seed", "point") if c in summary.columns]
    total = parts.groupby(keys, dropna=False, as_index=False)["value"].sum()
    total["outcome"] = "crimes"
    return pd.concat([summary, total], ignore_index=True)


def paired_differences(summary: pd.DataFrame, baseline: str | None = None,
                       outcomes: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per scenario, outcome and pair (point, seed): baseline value, scenario value, difference.

    Pairs where either run is missing are dropped; only scenarios other than the baseline appear.
    """
    base = baseline_of(summary, baseline)
    s = _normalise(_with_crimes(summary))
    if outcomes is not None:
        s = s[s["outcome"].isin(list(outcomes))]
    b = s[s["scenario"] == base][["outcome", "_pair", "point", "seed", "value"]].rename(columns={"value": "baseline"})
    b = b.groupby(["outcome", "_pair"], as_index=False).agg(point=("point", "first"), seed=("seed", "first"),
                                                            baseline=("baseline", "mean"))
    other = s[s["scenario"] != base][["scenario", "outcome", "_pair", "value"]]
    other = other.groupby(["scenario", "outcome", "_pair"], as_index=False, sort=False)["value"].mean()
    merged = other.merge(b, on=["outcome", "_pair"], how="inner").rename(columns={"value": "scenario_value"})
    merged = merged.dropna(subset=["baseline", "scenario_value"])
    merged["diff"] = merged["scenario_value"] - merged["baseline"]
    return merged[["scenario", "outcome", "point", "seed", "baseline", "scenario_value", "diff"]]


def per_replication(pairs: pd.DataFrame) -> pd.DataFrame:
    """:func:`paired_differences` averaged over the points of each replication (``point`` becomes -1).

    Replication *r* uses the same seed at every point (common random numbers), so the pairs of one
    replication at different points are not independent; replications are. An effect pooled over
    the points of a sweep is therefore the mean over replications of each replication's mean over
    points, and its interval comes from the spread between replications (n = replications), not
    from treating every point as another replication. With one point this changes nothing.
    """
    means = pairs.groupby(["scenario", "outcome", "seed"], as_index=False, sort=False)[
        ["baseline", "scenario_value", "diff"]].mean()
    return means.assign(point=-1)[["scenario", "outcome", "point", "seed", "baseline", "scenario_value", "diff"]]


# ---- effects ---------------------------------------------------------------------------------------

def effects(summary: pd.DataFrame, baseline: str | None = None, outcomes: Iterable[str] | None = None,
            level: float = 0.95, by_point: bool = False) -> pd.DataFrame:
    """Paired effect of each scenario against the baseline, per outcome.

    ``summary`` is the store's tidy summary (scenario, seed, point, outcome, value). Returns one row
    per scenario and outcome (and point when ``by_point``) with: ``n`` pairs, ``baseline_mean``,
    ``scenario_mean``, ``diff`` (paired mean difference) with ``diff_lo``/``diff_hi`` (t interval),
    ``pct_change`` with ``pct_lo``/``pct_hi`` (delta method), ``lower_is_better``, ``significant`` (the
    difference interval excludes 0) and ``verdict`` ("better", "worse" or "no clear change").
    Without ``by_point``, a sweep's points are pooled per replication (:func:`per_replication`): ``n``
    counts replications.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"scenario": ["baseline"] * 3 + ["same"] * 3, "seed": [1, 2, 3] * 2,
    ...                   "outcome": "fear", "value": [0.3, 0.4, 0.5] * 2})
    >>> effects(s)[["diff", "diff_lo", "diff_hi", "pct_change"]].to_dict("records")
    [{'diff': 0.0, 'diff_lo': 0.0, 'diff_hi': 0.0, 'pct_change': 0.0}]
    """
    pairs = paired_differences(summary, baseline, outcomes)
    if not by_point:
        pairs = per_replication(pairs)
    keys = ["scenario", "point", "outcome"] if by_point else ["scenario", "outcome"]
    order = list(dict.fromkeys(outcomes)) if outcomes is not None else list(dict.fromkeys(pairs["outcome"]))
    rows = []
    for key, g in pairs.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key, strict=True))
        name = row["outcome"]
        d = t_interval(g["diff"].to_numpy(), level)
        r = delta_ratio(g["scenario_value"].to_numpy(), g["baseline"].to_numpy(), level)
        lower = _direction(name)
        significant = bool(np.isfinite(d.lo) and (d.lo > 0 or d.hi < 0))
        verdict = ("better" if (d.estimate < 0) == lower else "worse") if significant else "no clear change"
        o = OUTCOMES.get(name)
        row.update(
            label=o.label if o else name, unit=o.unit if o else "", kind=o.kind if o else "",
            n=len(g), baseline_mean=float(g["baseline"].mean()), scenario_mean=float(g["scenario_value"].mean()),
            diff=d.estimate, diff_lo=d.lo, diff_hi=d.hi,
            pct_change=100.0 * (r.estimate - 1.0), pct_lo=100.0 * (r.lo - 1.0), pct_hi=100.0 * (r.hi - 1.0),
            lower_is_better=lower, significant=significant, verdict=verdict,
        )
        rows.append(row)
    cols = keys + ["label", "unit", "kind", "n", "baseline_mean", "scenario_mean", "diff", "diff_lo", "diff_hi",
                   "pct_change", "pct_lo", "pct_hi", "lower_is_better", "significant", "verdict"]
    out = pd.DataFrame(rows, columns=cols)
    if not out.empty:
        out["_o"] = out["outcome"].map({n: i for i, n in enumerate(order)})
        out = out.sort_values([*keys[:-1], "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    return out


def cost_effectiveness(summary: pd.DataFrame, baseline: str | None = None, level: float = 0.95,
                       by_point: bool = False) -> pd.DataFrame:
    """Cost per homicide averted and per crime averted, per scenario, with Fieller intervals.

    Values are per year (the summary's ``value`` for counts is the annual average), so the ratio is
    extra USD per year ÷ homicides (crimes) averted per year. One row per scenario (and point) and
    measure (``homicides``, ``crimes``): ``extra_cost``, ``averted`` with ``averted_lo``/``averted_hi``
    (t interval), ``cost_per_averted`` with ``lo``/``hi``, and ``status``: ``ok``; ``not averted``
    (the scenario does not reduce it on average; no ratio is given); ``no extra cost`` (the scenario
    costs no more than the baseline). Without ``by_point``, a sweep's points are pooled per
    replication (:func:`per_replication`): ``n`` counts replications.

    >>> import pandas as pd
    >>> rows = [("baseline", 1, "homicides", 10.0), ("baseline", 2, "homicides", 12.0),
    ...         ("baseline", 1, "cost_usd", 0.0), ("baseline", 2, "cost_usd", 0.0),
    ...         ("p", 1, "homicides", 8.0), ("p", 2, "homicides", 9.0),
    ...         ("p", 1, "cost_usd", 1000.0), ("p", 2, "cost_usd", 1000.0)]
    >>> s = pd.DataFrame(rows, columns=["scenario", "seed", "outcome", "value"])
    >>> row = cost_effectiveness(s).iloc[0]
    >>> (row["measure"], float(row["averted"]), float(row["cost_per_averted"]), row["status"])
    ('homicides', 2.5, 400.0, 'ok')
    """
    s = _with_crimes(summary)
    base = baseline_of(s, baseline)
    pairs = paired_differences(s, base, ["cost_usd", "homicides", "crimes"])
    if not by_point:  # a sweep's points pooled per replication, as in effects()
        pairs = per_replication(pairs)
    keys = ["scenario", "point"] if by_point else ["scenario"]
    rows = []
    for key, g in pairs.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        cost = g[g["outcome"] == "cost_usd"].set_index(["point", "seed"])["diff"]
        for measure in ("homicides", "crimes"):
            row = dict(zip(keys, key, strict=True))
            row["measure"] = measure
            h = g[g["outcome"] == measure].set_index(["point", "seed"])
            averted_by_pair = -h["diff"]
            common = averted_by_pair.index.intersection(cost.index)
            a = averted_by_pair.loc[common].to_numpy()
            c = cost.loc[common].to_numpy()
            av = t_interval(a, level)
            extra = float(c.mean()) if c.size else math.nan
            row.update(n=int(common.size), extra_cost=extra, averted=av.estimate, averted_lo=av.lo, averted_hi=av.hi,
                       cost_per_averted=math.nan, lo=math.nan, hi=math.nan)
            if not common.size:
                row["status"] = "no data"
            elif not extra > 0:
                row["status"] = "no extra cost"
            elif not av.estimate > 0:
                row["status"] = "not averted"
            else:
                r = fieller_ratio(c, a, level)
                row.update(cost_per_averted=r.estimate, lo=r.lo, hi=r.hi, status="ok")
            rows.append(row)
    cols = keys + ["measure", "n", "extra_cost", "averted", "averted_lo", "averted_hi", "cost_per_averted",
                   "lo", "hi", "status"]
    return pd.DataFrame(rows, columns=cols)


# ---- time series ---------------------------------------------------------------------------------

def _monthly(ts: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Per run and month: sums of counts, means of levels."""
    t = ts.copy()
    t["month"] = np.floor(t["year"].astype(float) * 12.0 + 1e-9).astype(int)
    keys = [c for c in ("run_id", "scenario", "point", "seed", "rep") if c in t.columns]
    agg = {n: ("sum" if _is_count(n) else "mean") for n in names}
    m = t.groupby([*keys, "month"], dropna=False, as_index=False).agg(agg)
    m["year"] = m["month"] / 12.0
    return m


def _is_count(name: str) -> bool:
    try:
        return outcome(name).is_count
    except KeyError:
        return False


def timeseries_bands(timeseries: pd.DataFrame, outcomes: Iterable[str], by: str = "month", level: float = 0.95,
                     band: str = "mean") -> pd.DataFrame:
    """Mean over replications per step (``by="step"``) or month, with a 95 % band, per scenario and point.

    ``band="mean"`` (default) is the t interval of the mean across replications — where the
    expected path lies; ``band="spread"`` is the central ``level`` range of the replications
    themselves — where a single run falls. Monthly values are sums of counts and means of levels.
    Returns tidy rows: scenario, point, outcome, time (``step`` or ``month``), year, mean, lo, hi, n.
    """
    names = [n for n in outcomes if n in timeseries.columns]
    ts = _normalise(timeseries)
    if by == "month":
        data, tcol = _monthly(ts, names), "month"
    elif by == "step":
        data, tcol = ts, "step"
    else:
        raise ValueError(f"by must be 'month' or 'step', found '{by}'")
    long = data.melt(id_vars=[c for c in ("scenario", "point", "seed", tcol, "year") if c in data.columns],
                     value_vars=names, var_name="outcome", value_name="value")
    g = long.groupby(["scenario", "point", "outcome", tcol], sort=False)
    out = g.agg(year=("year", "first"), mean=("value", "mean"), sd=("value", "std"), n=("value", "count"),
                q_lo=("value", lambda v: v.quantile((1 - level) / 2)),
                q_hi=("value", lambda v: v.quantile(1 - (1 - level) / 2))).reset_index()
    if band == "mean":
        tq = out["n"].map(lambda k: _t_quantile(int(k), level))
        half = (tq * out["sd"].fillna(0.0) / np.sqrt(out["n"])).where(out["n"] >= 2)
        out["lo"], out["hi"] = out["mean"] - half, out["mean"] + half
    elif band == "spread":
        out["lo"], out["hi"] = out["q_lo"], out["q_hi"]
    else:
        raise ValueError(f"band must be 'mean' or 'spread', found '{band}'")
    return out[["scenario", "point", "outcome", tcol, "year", "mean", "lo", "hi", "n"]]


# ---- places --------------------------------------------------------------------------------------

def world_for(scenario: Scenario, seed: int) -> World:
    """The city a run with ``seed`` drew: the same graph, positions and sizes (``world`` stream)."""
    from model.rng import Streams
    from model.world import build_world

    return build_world(scenario, Streams(int(seed)).get("world"))


def scenario_from_manifest(manifest: Mapping[str, Any], name: str | None = None) -> Scenario | None:
    """The resolved scenario ``name`` (default: the baseline) recorded in a results manifest, or None.

    Used to redraw each seed's city (:func:`world_for`) for maps and displacement.
    """
    from model.scenario import parse_scenario

    name = name or manifest.get("baseline")
    for entry in manifest.get("scenarios", []) or []:
        if isinstance(entry, Mapping) and (name is None or entry.get("name") == name) and entry.get("resolved"):
            try:
                return parse_scenario(dict(entry["resolved"]), source="manifest.json")
            except Exception:  # noqa: BLE001 - a manifest from another version: callers skip the map
                return None
    return None


def _hood_totals(neighbourhoods: pd.DataFrame, name: str) -> pd.DataFrame:
    nb = _normalise(neighbourhoods)
    agg = "sum" if _is_count(name) else "mean"
    out = nb.groupby(["scenario", "_pair", "point", "seed", "neighbourhood"], as_index=False, sort=False).agg(
        value=(name, agg), residents=("residents", "first"))
    return out


def neighbourhood_change(neighbourhoods: pd.DataFrame, baseline: str | None = None, outcome_name: str = "crimes",
                         per_year: bool = True) -> pd.DataFrame:
    """Paired change by neighbourhood, ranked within each replication.

    One row per scenario, point, seed and neighbourhood: ``baseline`` and ``scenario_value`` (per
    year for counts when ``per_year``; the mean for levels), ``diff``, ``pct_change``, ``diff_per_1000``
    (per 1,000 residents) and ``rank`` (1 = most improved, using the outcome's direction).
    Neighbourhood ids refer to the city drawn from that seed; they are not the same place across seeds.
    """
    nb = neighbourhoods
    if outcome_name == "crimes" and "crimes" not in nb.columns:
        nb = nb.assign(crimes=nb[list(CRIME_PARTS)].sum(axis=1))
    base = baseline_of(nb, baseline)
    tot = _hood_totals(nb, outcome_name)
    if per_year and _is_count(outcome_name):
        months = _normalise(nb).groupby(["scenario", "_pair"])["month"].nunique().rename("months").reset_index()
        tot = tot.merge(months, on=["scenario", "_pair"])
        tot["value"] = tot["value"] * 12.0 / tot["months"]
        tot = tot.drop(columns="months")
    b = tot[tot["scenario"] == base][["_pair", "neighbourhood", "value"]].rename(columns={"value": "baseline"})
    s = tot[tot["scenario"] != base].rename(columns={"value": "scenario_value"})
    m = s.merge(b, on=["_pair", "neighbourhood"], how="inner")
    m["diff"] = m["scenario_value"] - m["baseline"]
    m["pct_change"] = 100.0 * m["diff"] / m["baseline"].where(m["baseline"] != 0)
    m["diff_per_1000"] = 1000.0 * m["diff"] / m["residents"]
    sign = 1.0 if _direction(outcome_name) else -1.0
    m["_score"] = sign * m["diff_per_1000"]
    m["rank"] = m.groupby(["scenario", "_pair"])["_score"].rank(method="first").astype(int)
    m["outcome"] = outcome_name
    m = m.sort_values(["scenario", "point", "seed", "rank"], kind="stable").reset_index(drop=True)
    return m[["scenario", "point", "seed", "neighbourhood", "outcome", "residents", "baseline", "scenario_value",
              "diff", "pct_change", "diff_per_1000", "rank"]]


def treated_neighbourhoods(neighbourhoods: pd.DataFrame, scenario: str, baseline: str | None = None,
                           rel_tol: float = 1e-6) -> pd.DataFrame:
    """Which neighbourhoods the scenario's *targeted* programmes reach, per replication.

    Programme cost is shared among the neighbourhoods a programme is delivered to, in proportion to
    residents, so a city-wide programme adds the same cost per resident everywhere. A neighbourhood
    is treated when its extra cost per resident (scenario minus baseline, whole run) is above the
    city-wide floor (the smallest extra cost per resident) by more than ``rel_tol`` of the largest.
    If every neighbourhood gets the same (all city-wide) or nothing, none is marked treated.
    Returns rows (point, seed, neighbourhood, extra_cost_per_resident, treated).
    """
    base = baseline_of(neighbourhoods, baseline)
    nb = _normalise(neighbourhoods)
    cost = nb.groupby(["scenario", "_pair", "point", "seed", "neighbourhood"], as_index=False, sort=False).agg(
        cost=("cost_usd", "sum"), residents=("residents", "first"))
    s = cost[cost["scenario"] == scenario]
    b = cost[cost["scenario"] == base][["_pair", "neighbourhood", "cost"]].rename(columns={"cost": "base_cost"})
    m = s.merge(b, on=["_pair", "neighbourhood"], how="left").fillna({"base_cost": 0.0})
    m["extra_cost_per_resident"] = (m["cost"] - m["base_cost"]) / m["residents"]
    floor = m.groupby("_pair")["extra_cost_per_resident"].transform("min")
    top = m.groupby("_pair")["extra_cost_per_resident"].transform("max")
    m["treated"] = (m["extra_cost_per_resident"] - floor) > rel_tol * top.abs().where(top != 0, 1.0)
    return m[["point", "seed", "neighbourhood", "extra_cost_per_resident", "treated"]].reset_index(drop=True)


GraphSource = Mapping[int, "nx.Graph"] | Callable[[int], "nx.Graph"]


def displacement(neighbourhoods: pd.DataFrame, graphs: GraphSource, baseline: str | None = None,
                 outcome_name: str = "crimes", level: float = 0.95,
                 treated: pd.DataFrame | None = None) -> pd.DataFrame:
    """Change in the treated neighbourhoods, in their neighbours, and elsewhere, per scenario.

    Per replication (pair), neighbourhoods split into ``treated`` (see :func:`treated_neighbourhoods`,
    or pass ``treated`` with columns scenario, seed, neighbourhood, treated), ``neighbours`` (adjacent
    to a treated one in that seed's city graph, not treated) and ``elsewhere``. Per group: baseline and
    scenario totals per year, paired mean difference with t interval, the difference per 1,000
    residents, and percent change with a delta-method interval. Crime falling in treated places but rising
    in their neighbours is displacement; falling in both is diffusion of benefits.

    ``graphs`` maps a seed to its city graph (networkx), e.g. ``lambda seed: world_for(sc, seed).graph``.
    Scenarios with no targeted delivery get one row with group "all" and a note.
    """
    nb = neighbourhoods
    if outcome_name == "crimes" and "crimes" not in nb.columns:
        nb = nb.assign(crimes=nb[list(CRIME_PARTS)].sum(axis=1))
    base = baseline_of(nb, baseline)
    change = neighbourhood_change(nb, base, outcome_name)
    get_graph = graphs if callable(graphs) else graphs.__getitem__
    rows = []
    for scen, sc_change in change.groupby("scenario", sort=False):
        if treated is None:
            tr = treated_neighbourhoods(nb, scen, base)
        else:
            tr = treated[treated["scenario"] == scen] if "scenario" in treated.columns else treated
        tr = _normalise(tr)
        groups_by_pair: list[pd.DataFrame] = []
        any_treated = False
        for (point, seed), g in sc_change.groupby(["point", "seed"], sort=False):
            t_ids = set(tr[(tr["seed"] == seed) & (tr["point"].astype(str) == str(point)) & tr["treated"]]
                        ["neighbourhood"].astype(int))
            graph = get_graph(int(seed))
            near = {int(j) for i in t_ids for j in graph.neighbors(i)} - t_ids
            any_treated |= bool(t_ids)
            grp = np.where(g["neighbourhood"].isin(t_ids), "treated",
                           np.where(g["neighbourhood"].isin(near), "neighbours", "elsewhere"))
            groups_by_pair.append(g.assign(group=grp))
        allg = pd.concat(groups_by_pair, ignore_index=True)
        if not any_treated:
            allg["group"] = "all"
        sums = allg.groupby(["group", "point", "seed"], as_index=False).agg(
            baseline=("baseline", "sum"), scenario_value=("scenario_value", "sum"), residents=("residents", "sum"),
            hoods=("neighbourhood", "count"))
        for group in ("treated", "neighbours", "elsewhere", "all"):
            g = sums[sums["group"] == group]
            if g.empty:
                continue
            d = t_interval((g["scenario_value"] - g["baseline"]).to_numpy(), level)
            per1000 = t_interval((1000.0 * (g["scenario_value"] - g["baseline"]) / g["residents"]).to_numpy(), level)
            r = delta_ratio(g["scenario_value"].to_numpy(), g["baseline"].to_numpy(), level)
            rows.append(dict(
                scenario=scen, group=group, outcome=outcome_name, n=len(g), neighbourhoods=float(g["hoods"].mean()),
                residents=float(g["residents"].mean()), baseline=float(g["baseline"].mean()),
                scenario_value=float(g["scenario_value"].mean()), diff=d.estimate, diff_lo=d.lo, diff_hi=d.hi,
                diff_per_1000=per1000.estimate, per_1000_lo=per1000.lo, per_1000_hi=per1000.hi,
                pct_change=100 * (r.estimate - 1), pct_lo=100 * (r.lo - 1), pct_hi=100 * (r.hi - 1),
                note="" if any_treated else "no targeted delivery: programmes reach every neighbourhood alike",
            ))
    return pd.DataFrame(rows)


# ---- sensitivity -----------------------------------------------------------------------------------

def point_means(summary: pd.DataFrame, outcome_name: str, scenario: str | None = None) -> pd.Series:
    """The outcome averaged over replications at each sample point, indexed by point in order."""
    s = summary[summary["outcome"] == outcome_name]
    if scenario is not None:
        s = s[s["scenario"] == scenario]
    if s.empty:
        raise ValueError(f"no values for outcome '{outcome_name}' in the summary")
    means = s.groupby("point")["value"].mean()
    return means.sort_index()


def _check_points(y: pd.Series, block: int, what: str, rows: int | None = None) -> None:
    """Points must be numbered 0..N-1 in sample order, N a multiple of the sampler's block size."""
    idx = [int(i) for i in y.index]
    if idx != list(range(len(idx))):
        raise ValueError(f"{what}: expected sample points numbered 0..{len(idx) - 1} in sample order, "
                         f"found {idx[:5]}...")
    if len(idx) == 0 or len(idx) % block:
        raise ValueError(f"{what}: expected a multiple of {block} sample points, found {len(idx)}")
    if rows is not None and rows != len(idx):
        raise ValueError(f"{what}: expected {len(idx)} sample rows (one per point), found {rows}")


def sobol_indices(problem: Mapping[str, Any], summary: pd.DataFrame, outcome_name: str,
                  scenario: str | None = None, calc_second_order: bool | None = None, level: float = 0.95,
                  seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices of one outcome (SALib.analyze.sobol).

    ``problem`` is SALib's definition (num_vars, names, bounds); the sweep's points must be the
    Saltelli/Sobol sample of that problem, numbered in sample order (``point`` 0..N-1). The outcome
    is averaged over replications at each point. ``calc_second_order`` is inferred from the number
    of points when not given. Returns rows: parameter, S1, S1_conf, ST, ST_conf (conf = half-width).
    """
    from SALib.analyze import sobol

    y = point_means(summary, outcome_name, scenario)
    d = int(problem["num_vars"])
    n_pts = len(y)
    if calc_second_order is None:
        calc_second_order = n_pts % (2 * d + 2) == 0
    block = 2 * d + 2 if calc_second_order else d + 2
    _check_points(y, block, "sobol")
    res = sobol.analyze(dict(problem), y.to_numpy(dtype=float), calc_second_order=calc_second_order,
                        conf_level=level, seed=seed)
    return pd.DataFrame({"parameter": list(problem["names"]), "S1": res["S1"], "S1_conf": res["S1_conf"],
                         "ST": res["ST"], "ST_conf": res["ST_conf"], "outcome": outcome_name})


def morris_indices(problem: Mapping[str, Any], summary: pd.DataFrame, outcome_name: str,
                   X: np.ndarray | pd.DataFrame, scenario: str | None = None, num_levels: int = 4,
                   level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Morris elementary-effect indices of one outcome (SALib.analyze.morris).

    ``X`` is the Morris sample (one row per point, in point order): an array, or the store's runs
    table (one row per run with ``point`` and a column per parameter name). The outcome is averaged
    over replications at each point. Returns rows: parameter, mu, mu_star, sigma, mu_star_conf.
    """
    from SALib.analyze import morris

    names = list(problem["names"])
    if isinstance(X, pd.DataFrame):
        missing = [n for n in names if n not in X.columns]
        if missing:
            raise ValueError(f"morris: expected parameter columns {names} in the runs table, missing {missing}")
        X = X.groupby("point")[names].first().sort_index().to_numpy(dtype=float)
    X = np.asarray(X, dtype=float)
    y = point_means(summary, outcome_name, scenario)
    _check_points(y, int(problem["num_vars"]) + 1, "morris", rows=X.shape[0])
    res = morris.analyze(dict(problem), X, y.to_numpy(dtype=float), num_levels=num_levels, conf_level=level,
                         seed=seed)
    return pd.DataFrame({"parameter": names, "mu": res["mu"], "mu_star": res["mu_star"], "sigma": res["sigma"],
                         "mu_star_conf": res["mu_star_conf"], "outcome": outcome_name})


# ---- tables from in-memory runs -----------------------------------------------------------------

@dataclass
class TableResults:
    """In-memory tables with the interface of :class:`model.store.Results` (for notebooks and tests)."""

    summary: pd.DataFrame
    runs: pd.DataFrame
    manifest: dict[str, Any]
    timeseries_table: pd.DataFrame
    neighbourhoods_table: pd.DataFrame
    baseline: str | None = None
    path: Any = None

    @staticmethod
    def _select(df: pd.DataFrame, scenarios: Sequence[str] | str | None, outcomes: Sequence[str] | None,
                points: Iterable[int] | None, lead: Sequence[str]) -> pd.DataFrame:
        if scenarios is not None:
            df = df[df["scenario"].isin([scenarios] if isinstance(scenarios, str) else list(scenarios))]
        if points is not None:
            df = df[df["point"].isin(list(points))]
        if outcomes is not None:
            df = df[[*lead, *[o for o in outcomes if o in df.columns]]]
        return df.reset_index(drop=True)

    def timeseries(self, scenarios: Sequence[str] | str | None = None, outcomes: Sequence[str] | None = None,
                   points: Iterable[int] | None = None) -> pd.DataFrame:
        """The city per step (same columns as the store's)."""
        lead = ["run_id", "scenario", "rep", "seed", "point", "step", "year"]
        return self._select(self.timeseries_table, scenarios, outcomes, points, lead)

    def neighbourhoods(self, scenarios: Sequence[str] | str | None = None, outcomes: Sequence[str] | None = None,
                       points: Iterable[int] | None = None) -> pd.DataFrame:
        """Neighbourhoods per month (same columns as the store's)."""
        lead = ["run_id", "scenario", "rep", "seed", "point", "month", "neighbourhood"]
        df = self._select(self.neighbourhoods_table, scenarios, None, points, lead)
        if outcomes is not None:
            df = df[[*lead, *[o for o in outcomes if o in df.columns], "residents", "disadvantage"]]
        return df


def tables_from_runs(runs: Iterable[tuple[Any, ...]], baseline: str | None = None) -> TableResults:
    """Store-shaped tables from ``model.api.run`` results, for notebooks and tests.

    ``runs`` yields ``(scenario_name, rep, RunResult)`` or ``(scenario_name, rep, RunResult, point)``.
    Returns a :class:`TableResults` whose ``summary`` (tidy; value = ``per_year``), ``runs``,
    ``timeseries()`` and ``neighbourhoods()`` have the columns of the results store, and whose
    ``manifest`` carries the seeds, versions, git commit and resolved scenarios.
    """
    summaries, series, hoods, meta = [], [], [], []
    scenarios: dict[str, dict[str, Any]] = {}
    first_manifest: dict[str, Any] = {}
    for item in runs:
        name, rep, result = str(item[0]), int(item[1]), item[2]
        pt = int(item[3]) if len(item) > 3 else 0
        ids = {"run_id": f"{name}-p{pt}-r{rep}", "scenario": name, "rep": rep, "seed": int(result.seed), "point": pt}
        s = result.summary[["outcome", "kind", "per_year", "all_years"]].rename(
            columns={"per_year": "value", "all_years": "total"})
        summaries.append(s.assign(**ids))
        series.append(result.timeseries.drop(columns=["scenario", "seed", "day"], errors="ignore").assign(**ids))
        hoods.append(result.neighbourhoods.drop(columns=["scenario", "seed"]).assign(**ids))
        meta.append({**ids, "status": "ok", "error": "", "seconds": math.nan, "same_as": ""})
        first_manifest = first_manifest or dict(result.manifest)
        scenarios.setdefault(name, {"name": name, "file": "", "scenario_hash": result.manifest.get("scenario_hash", ""),
                                    "overrides": [], "resolved": result.scenario.model_dump(mode="json")})
    first = ["run_id", "scenario", "rep", "seed", "point"]

    def order(df: pd.DataFrame) -> pd.DataFrame:
        return df[first + [c for c in df.columns if c not in first]].reset_index(drop=True)

    summary = order(pd.concat(summaries, ignore_index=True))
    base = baseline_of(summary, baseline)
    manifest = {"experiment": "in-memory", "baseline": base, "scenarios": list(scenarios.values()),
                "replications": int(summary["rep"].nunique()),
                "seeds": sorted({int(x) for x in summary["seed"]}), "years": first_manifest.get("years"),
                "versions": first_manifest.get("versions", {}), "git_commit": first_manifest.get("git_commit")}
    return TableResults(summary=summary, runs=pd.DataFrame(meta), manifest=manifest,
                        timeseries_table=order(pd.concat(series, ignore_index=True)),
                        neighbourhoods_table=order(pd.concat(hoods, ignore_index=True)), baseline=base)
