"""A self-contained HTML report of a batch comparison, for planners.

:func:`write_report` reads a results folder (or a loaded :class:`model.store.Results`) and writes
one ``report.html``: every plot is embedded as a base64 PNG, the style sheet is inline, and nothing
is fetched from the network, so the file can be e-mailed or opened offline. Figures come from
``model.plots``; numbers from ``model.analysis``. Sections: what was compared; how to read it; the
headline table (effects with 95 % intervals and cost-effectiveness); outcomes over time with
uncertainty bands; effect sizes (forest plot); change by neighbourhood (a map and a ranked view of
one replication's city); displacement to neighbours of treated neighbourhoods; and the facts needed
to reproduce the runs (seeds, scenario files and hashes, package versions, git commit).

>>> from model.report import write_report
>>> write_report("results/compare_baseline_vs_carsi_package")  # doctest: +SKIP
PosixPath('results/compare_baseline_vs_carsi_package/report.html')
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from model import analysis
from model.metrics import OUTCOMES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from model.scenario import Scenario

__all__ = ["build_report", "write_report", "REPORT_OUTCOMES", "SERIES_OUTCOMES"]

#: rows of the headline table
REPORT_OUTCOMES = ("homicides", "homicide_rate", "robberies", "extortions", "assaults", "crimes",
                   "crimes_reported", "fear", "trust", "gang_members", "recruits", "economic_activity",
                   "extortion_paid_usd", "cost_usd")
#: panels of the time-series figure (reported series are drawn with the true ones)
SERIES_OUTCOMES = ("homicides", "robberies", "extortions", "fear", "trust", "gang_members")

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #1f4e79;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{padding:.3em .6em;border-bottom:1px solid #ddd;
text-align:right}th{background:#f0f4f8}td.l,th.l{text-align:left}.better{color:#2e7d32;font-weight:600}
.worse{color:#c62828;font-weight:600}.muted{color:#666}.note{background:#f7f7f2;border-left:4px solid #bf9000;
padding:.6em 1em;margin:1em 0}img{max-width:100%;height:auto}code{background:#f3f3f3;padding:0 .2em}
"""


# ---- formatting --------------------------------------------------------------------------------------

def _num(v: Any, digits: int = 3) -> str:
    """A readable number: thousands separators for large values, 3 significant digits for small."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v))
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "no limit" if x > 0 else "−no limit"
    a = abs(x)
    if a >= 1000:
        s = f"{x:,.0f}"
    elif a >= 100:
        s = f"{x:.0f}"
    elif a >= 1 or a == 0:
        s = f"{x:.{max(digits - 1, 0) if a < 10 else max(digits - 2, 0)}f}"
    else:
        s = f"{x:.{digits}g}"
    return s.replace("-", "−")


def _usd(v: Any) -> str:
    x = float(v)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "no upper limit"
    return "$" + _num(x)


def _ci(lo: Any, hi: Any, fmt=_num) -> str:  # noqa: ANN001 - a formatter
    lo, hi = float(lo), float(hi)
    if math.isnan(lo) and math.isnan(hi):
        return "<span class='muted'>(no interval)</span>"
    return f"<span class='muted'>({fmt(lo)} to {fmt(hi)})</span>"


def _pct(v: Any) -> str:
    x = float(v)
    return "–" if math.isnan(x) else f"{x:+.1f}%".replace("-", "−")


def _png(fig: Figure, dpi: int = 100) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"<img alt='figure' src='data:image/png;base64,{data}'>"


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    th = "".join(f"<th class='{'l' if i < left else ''}'>{h}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td class='{'l' if i < left else ''}'>{c}</td>" for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


# ---- sections ---------------------------------------------------------------------------------------

def _headline(eff: pd.DataFrame, scen: str) -> str:
    e = eff[eff["scenario"] == scen]
    rows = []
    for r in e.itertuples():
        o = OUTCOMES.get(r.outcome)
        unit = r.unit + (" a year" if o is not None and o.is_count else "")
        cls = {"better": "better", "worse": "worse"}.get(r.verdict, "muted")
        rows.append([html.escape(r.label), html.escape(unit), _num(r.baseline_mean), _num(r.scenario_mean),
                     f"{_num(r.diff)} {_ci(r.diff_lo, r.diff_hi)}",
                     f"{_pct(r.pct_change)} {_ci(r.pct_lo, r.pct_hi, _pct)}",
                     f"<span class='{cls}'>{html.escape(r.verdict)}</span>"])
    return _table(["Outcome", "Unit", "Baseline", html.escape(scen), "Change (95% CI)", "% change (95% CI)",
                   "Verdict"], rows, left=2)


def _cost_table(ce: pd.DataFrame, scen: str) -> str:
    rows = []
    for r in ce[ce["scenario"] == scen].itertuples():
        what = "homicide" if r.measure == "homicides" else "crime"
        if r.status == "ok":
            ratio = f"{_usd(r.cost_per_averted)} {_ci(r.lo, r.hi, _usd)}"
        else:
            ratio = f"<span class='muted'>{html.escape(r.status)}</span>"
        rows.append([f"per {what} averted", _usd(r.extra_cost), f"{_num(r.averted)} {_ci(r.averted_lo, r.averted_hi)}",
                     ratio])
    return _table(["", "Extra programme cost a year", "Averted a year (95% CI)", "Cost per one averted (95% CI)"],
                  rows)


def _places(neighbourhoods: pd.DataFrame, base: str, scenario: Scenario | None) -> str:
    from model import plots

    if neighbourhoods.empty:
        return "<p class='muted'>No neighbourhood tables were stored.</p>"
    if scenario is None:
        return ("<p class='muted'>The city cannot be redrawn (no resolved baseline scenario in the manifest), "
                "so the map and the displacement analysis are left out.</p>")
    nb = neighbourhoods
    first_point = sorted(nb["point"].unique())[0] if "point" in nb.columns else 0
    if "point" in nb.columns:
        nb = nb[nb["point"] == first_point]
    change = analysis.neighbourhood_change(nb, base, "crimes")
    if change.empty:
        return "<p class='muted'>No paired neighbourhood tables to map.</p>"
    worlds: dict[int, Any] = {}

    def graph(seed: int):  # noqa: ANN202 - networkx graph
        if seed not in worlds:
            worlds[seed] = analysis.world_for(scenario, seed)
        return worlds[seed].graph

    parts = []
    seed0 = int(change["seed"].iloc[0]) if len(change) else None
    for scen in list(dict.fromkeys(change["scenario"]))[:4]:
        c = change[(change["scenario"] == scen) & (change["seed"] == seed0)]
        tr = analysis.treated_neighbourhoods(nb, scen, base)
        tr = tr[tr["seed"] == seed0].set_index("neighbourhood")["treated"]
        world = analysis.world_for(scenario, seed0)
        worlds[seed0] = world
        mask = tr.reindex(range(world.n_neighbourhoods)).fillna(False).to_numpy(dtype=bool)
        fig_map = plots.neighbourhood_map_figure(
            c, world.position, list(world.graph.edges), mask,
            title=f"{scen}: change in crimes per 1,000 residents a year (replication seed {seed0})")
        fig_rank = plots.neighbourhood_rank_figure(c, title=f"{scen}: neighbourhoods ranked (seed {seed0})")
        parts.append(f"<h3>{html.escape(scen)}</h3>" + _png(fig_map) + _png(fig_rank))
    disp = analysis.displacement(nb, graph, base, "crimes")
    section = ["<h2>Change by neighbourhood</h2>",
               "<p>Each replication draws its own city from its seed, so neighbourhood numbers mean different "
               "places in different replications. The map and ranking below show the first replication's city: "
               "each dot is a neighbourhood (area ∝ residents), coloured by the change in all true crimes "
               "(homicides, robberies, extortions, assaults) per 1,000 residents a year against the same city "
               "and seed without the programmes; blue is fewer crimes, red more. A black outline marks "
               "neighbourhoods that a targeted programme reached.</p>", *parts]
    section += ["<h2>Displacement to neighbouring areas</h2>",
                "<p>Crime pushed out of treated neighbourhoods may reappear next door (displacement), or the benefit "
                "may spread (diffusion). Below, per replication, neighbourhoods are split into those a targeted "
                "programme reached, their direct neighbours, and the rest of the city; the change is averaged "
                "over replications.</p>"]
    if disp.empty:
        section.append("<p class='muted'>No scenario to compare.</p>")
    else:
        if (disp["note"] != "").any():
            section.append(f"<p class='note'>{html.escape(disp['note'].iloc[0])}: displacement cannot be "
                           "separated from the city-wide effect.</p>")
        rows = [[html.escape(r.scenario), html.escape(r.group), str(r.n), _num(r.neighbourhoods), _num(r.residents),
                 _num(r.baseline), _num(r.scenario_value),
                 f"{_num(r.diff_per_1000)} {_ci(r.per_1000_lo, r.per_1000_hi)}",
                 f"{_pct(r.pct_change)} {_ci(r.pct_lo, r.pct_hi, _pct)}"] for r in disp.itertuples()]
        section.append(_table(["Scenario", "Area", "Replications", "Neighbourhoods (mean)", "Residents (mean)",
                               "Crimes a year (baseline)",
                               "Crimes a year (scenario)", "Change per 1,000 residents (95% CI)",
                               "% change (95% CI)"], rows, left=2))
        section.append(_png(plots.displacement_figure(disp)))
    return "\n".join(section)


def _sensitivity(summary: pd.DataFrame, manifest: dict[str, Any]) -> str:
    """Sobol or Morris indices of the main outcomes when the experiment sampled for them."""
    from model import plots

    sampler = manifest.get("sampler", "none")
    problem = manifest.get("problem")
    if sampler not in ("sobol", "morris") or not problem or not problem.get("num_vars"):
        return ""
    options = manifest.get("sampler_options") or {}
    out = ["<h2>Sensitivity</h2>",
           "<p>How much of the variation of each outcome across the parameter sample is due to each parameter. "
           + ("Sobol indices (SALib): S1 is the share explained by the parameter alone, ST the share including "
              "its interactions with the others; whiskers are 95% confidence half-widths."
              if sampler == "sobol" else
              "Morris elementary effects (SALib): μ* is the mean absolute change in the outcome when the parameter "
              "moves one step across its range, σ how much that change depends on the other parameters.")
           + " Outcomes are averaged over replications at each sample point.</p>"]
    for scen in list(dict.fromkeys(summary["scenario"])):
        for name in ("homicides", "crimes", "fear", "trust"):
            try:
                if sampler == "sobol":
                    df = analysis.sobol_indices(problem, summary, name, scenario=scen,
                                                calc_second_order=options.get("calc_second_order"))
                else:
                    X = [[p[n] for n in problem["names"]] for p in manifest["points"]]
                    df = analysis.morris_indices(problem, summary, name, X, scenario=scen,
                                                 num_levels=options.get("levels") or 4)
            except (ValueError, KeyError, ZeroDivisionError) as exc:
                out.append(f"<p class='muted'>{html.escape(scen)}, {html.escape(name)}: not computed "
                           f"({html.escape(str(exc))}).</p>")
                continue
            out.append(f"<h3>{html.escape(scen)}: {html.escape(OUTCOMES[name].label.lower())}</h3>")
            out.append(_png(plots.sensitivity_figure(df)))
    return "\n".join(out)


def _facts(manifest: dict[str, Any], runs: pd.DataFrame | None, seeds: list[int]) -> str:
    rows = [["Experiment", html.escape(str(manifest.get("experiment", "–")))],
            ["Created", html.escape(str(manifest.get("created", "–")))],
            ["Seeds (replication r uses the r-th seed in every scenario)", html.escape(", ".join(map(str, seeds)))],
            ["Git commit", f"<code>{html.escape(str(manifest.get('git_commit') or 'unknown'))}</code>"]]
    versions = manifest.get("versions") or {}
    if versions:
        rows.append(["Package versions", html.escape(", ".join(f"{k} {v}" for k, v in versions.items()))])
    if manifest.get("set"):
        rows.append(["Settings for every scenario", html.escape(" ".join(manifest["set"]))])
    out = [_table(["", ""], rows)]
    sc_rows = []
    for e in manifest.get("scenarios", []) or []:
        if isinstance(e, dict):
            sc_rows.append([html.escape(str(e.get("name", ""))), html.escape(str(e.get("file", ""))),
                            f"<code>{html.escape(str(e.get('file_sha256', ''))[:16])}</code>",
                            f"<code>{html.escape(str(e.get('scenario_hash', ''))[:16])}</code>",
                            html.escape(" ".join(e.get("overrides", []) or []))])
    if sc_rows:
        out.append(_table(["Scenario", "File", "File SHA-256 (start)", "Scenario hash (start)", "Overrides"], sc_rows,
                          left=5))
    if runs is not None and len(runs) and "status" in runs.columns:
        failed = runs[runs["status"] != "ok"]
        if len(failed):
            fr = [[html.escape(str(r.scenario)), str(r.rep), str(r.seed), html.escape(str(r.error))[:200]]
                  for r in failed.itertuples()]
            out.append("<p>These runs failed and are left out of every number above:</p>"
                       + _table(["Scenario", "Replication", "Seed", "Error"], fr, left=4))
    return "\n".join(out)


# ---- the report ------------------------------------------------------------------------------------

def build_report(summary: pd.DataFrame, timeseries: pd.DataFrame, neighbourhoods: pd.DataFrame, *,
                 manifest: dict[str, Any] | None = None, runs: pd.DataFrame | None = None,
                 baseline: str | None = None, scenario: Scenario | None = None, title: str | None = None) -> str:
    """The report as one HTML string, from the store's tables (see ``model.store``).

    ``scenario`` is the baseline :class:`~model.scenario.Scenario` used to redraw each seed's city
    for the map and the displacement analysis (taken from the manifest's resolved scenarios when
    not given; those sections are left out if neither is available).
    """
    from model import plots

    manifest = dict(manifest or {})
    base = analysis.baseline_of(summary, baseline or manifest.get("baseline"))
    scenarios = list(dict.fromkeys(summary["scenario"]))
    others = [s for s in scenarios if s != base]
    seeds = sorted({int(s) for s in summary["seed"]})
    points = sorted(summary["point"].unique()) if "point" in summary.columns else [0]
    if scenario is None:
        scenario = analysis.scenario_from_manifest(manifest, base)
    ok_runs = summary.groupby("scenario")["seed"].nunique()
    years = manifest.get("years")
    if years is None and len(timeseries):
        years = round(float(timeseries["year"].max()) + float(timeseries["year"].diff().abs().replace(0, np.nan).min()
                                                               or 0), 2)
    title = title or (f"Safe Streets: {', '.join(others)} compared with {base}" if others
                      else f"Safe Streets: {base}")
    residents = None
    if len(neighbourhoods) and "residents" in neighbourhoods.columns:
        first = neighbourhoods[neighbourhoods["month"] == neighbourhoods["month"].min()]
        keys = [k for k in ("scenario", "point", "seed") if k in first.columns]
        residents = int(first.groupby(keys)["residents"].sum().iloc[0])
    n_hoods = int(neighbourhoods["neighbourhood"].nunique()) if len(neighbourhoods) else None

    eff = analysis.effects(summary, base, [o for o in REPORT_OUTCOMES if o in set(summary["outcome"])],
                           by_point=len(points) > 1)
    ce = analysis.cost_effectiveness(summary, base, by_point=len(points) > 1)
    if len(points) > 1:
        eff = eff[eff["point"] == points[0]]
        ce = ce[ce["point"] == points[0]]

    h: list[str] = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                    f"<style>{_CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>"]
    city = (f"a city of {residents:,} residents in {n_hoods} neighbourhoods" if residents and n_hoods else "the city")
    h.append(
        f"<p>Scenarios: <b>{html.escape(base)}</b> (the baseline) and "
        f"{', '.join(f'<b>{html.escape(s)}</b>' for s in others) or 'no other'}; {city}; "
        f"{_num(years) if years else '?'} years simulated; <b>{len(seeds)} replications</b> per scenario "
        f"(runs finished: {', '.join(f'{html.escape(k)} {v}' for k, v in ok_runs.items())}), "
        f"seeds {html.escape(', '.join(map(str, seeds[:12])))}{' …' if len(seeds) > 12 else ''}.</p>")
    if len(points) > 1:
        h.append(f"<p class='note'>This experiment has {len(points)} parameter points; the tables and plots show "
                 f"point {points[0]} only. Use <code>model.analysis</code> for the others.</p>")
    h.append(
        "<h2>How to read this report</h2><ul>"
        "<li>Each replication runs every scenario with the same random seed, so the cities, people and chance events "
        "are the same and only the programmes differ; every change below is averaged over these matched pairs.</li>"
        "<li><b>95% CI</b> (confidence interval): if the whole experiment were repeated many times with new seeds, "
        "95 out of 100 such intervals would contain the true average change — a wide interval means the model's "
        "chance variation leaves the answer uncertain.</li>"
        "<li>Counts (homicides, robberies, costs …) are <b>per year</b>, averaged over the years simulated; "
        "levels (fear, trust, 0 to 1) are averages over the whole period.</li>"
        "<li>Crimes are <b>true</b> crimes; <i>reported</i> crimes are those known to police. A programme that builds "
        "trust can raise reported crime while true crime falls.</li>"
        "<li><b>Verdict</b>: <span class='better'>better</span> or <span class='worse'>worse</span> when the interval "
        "of the change excludes zero; otherwise <span class='muted'>no clear change</span>. The interval of the "
        "percent change is computed on the ratio of the averages, so when a programme's effect is proportional to "
        "the baseline level it can be narrower than the interval of the change (and, rarely, exclude zero when "
        "that one does not); the verdict follows the change.</li></ul>")

    h.append("<h2>Headline results</h2>")
    if not others:
        h.append("<p>Only one scenario was run, so there is nothing to compare with a baseline; the plots show "
                 "its outcomes over time.</p>")
    for scen in others:
        h.append(f"<h3>{html.escape(scen)} against {html.escape(base)}</h3>")
        h.append(_headline(eff, scen))
        h.append("<p><b>Cost-effectiveness.</b> Extra programme cost divided by the number averted (true "
                 "homicides; or all true crimes: homicides, robberies, extortions and assaults). Where the scenario "
                 "does not reduce them on average, no cost per crime averted is given (\"not averted\"). "
                 "The interval (Fieller's method) has no upper limit when the number averted could be zero.</p>")
        h.append(_cost_table(ce, scen))

    h.append("<h2>Outcomes over time</h2><p>Lines are the average over replications each month; the shaded band is "
             "its 95% confidence interval. Dashed lines are what police record (reported crime).</p>")
    ts = timeseries
    if len(points) > 1 and "point" in ts.columns:
        ts = ts[ts["point"] == points[0]]
    wanted = [n for s in SERIES_OUTCOMES for n in (s, f"{s}_reported") if n in ts.columns]
    if len(ts) and wanted:
        bands = analysis.timeseries_bands(ts, wanted, by="month")
        h.append(_png(plots.band_figure(bands, SERIES_OUTCOMES)))
    else:
        h.append("<p class='muted'>No time series were stored.</p>")

    forest = eff[eff["outcome"] != "cost_usd"]
    if len(forest):
        h.append("<h2>Effect sizes</h2><p>Percent change against the baseline with its 95% confidence interval. "
                 "Green: a clear improvement; red: a clear worsening; grey: the interval includes no change.</p>")
        h.append(_png(plots.forest_figure(forest)))

    if others:
        h.append(_places(neighbourhoods, base, scenario))
    h.append(_sensitivity(summary, manifest))

    h.append("<h2>Reproducing these results</h2>")
    h.append(_facts(manifest, runs, seeds))
    h.append(f"<p class='muted'>Report written {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by "
             "model.report.</p></body></html>")
    return "\n".join(h)


def write_report(results: Any, out: str | Path | None = None, *, baseline: str | None = None,
                 scenario: Scenario | None = None, title: str | None = None) -> Path:
    """Write ``report.html`` for a results folder or a loaded Results; return its path.

    ``results`` is a path to ``results/<experiment>/`` or an object with ``summary``, ``runs``,
    ``manifest``, ``timeseries()`` and ``neighbourhoods()`` (``model.store.Results``). ``out``
    defaults to ``<results folder>/report.html``. The file is written atomically.
    """
    if isinstance(results, str | Path):
        from model.store import load_results

        results = load_results(results)
    summary = results.summary
    ts = results.timeseries(outcomes=[n for s in SERIES_OUTCOMES for n in (s, f"{s}_reported")
                                      if n in OUTCOMES])
    nb = results.neighbourhoods()
    text = build_report(summary, ts, nb, manifest=getattr(results, "manifest", None),
                        runs=getattr(results, "runs", None), baseline=baseline or getattr(results, "baseline", None),
                        scenario=scenario, title=title)
    if out is None:
        folder = getattr(results, "path", None)
        if folder is None:
            raise ValueError("write_report: give out=... for results that are not in a folder")
        out = Path(folder) / "report.html"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
