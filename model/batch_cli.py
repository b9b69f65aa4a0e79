"""Batch sub-commands of ``safestreets``: ``compare``, ``sweep`` and ``analyze``.

``model.cli`` calls :func:`register` when building its parser. Runs go through
:mod:`model.runner` (paired seeds, bounded streaming to the store, resume); the tables and the
report come from :mod:`model.analysis` and :mod:`model.report`. Exit codes: 0 all runs ok,
1 some runs failed (recorded in the store), 2 bad input (one line, nothing written).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from model.cli import years_argument
from model.errors import InputError

__all__ = ["register", "cmd_compare", "cmd_sweep", "cmd_analyze", "format_effects", "format_sensitivity",
           "analyse_folder"]

DEFAULT_REPS = 20


def _positive_int(what: str, high: int = 1_000_000):  # noqa: ANN202 - an argparse type
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what}, found '{text}'") from None
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} in 1..{high}, found {text}")
        return value

    return parse


def _scheduler(text: str) -> str:
    if "://" not in text or not text.split("://", 1)[1]:
        raise argparse.ArgumentTypeError(f"expected a scheduler address like tcp://host:8786, found '{text}'")
    return text


def _execution_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--years", type=years_argument, help="horizon in years for every scenario (default: theirs)")
    p.add_argument("--workers", type=_positive_int("workers", 4096), help="parallel workers (default: all cores)")
    p.add_argument("--executor", choices=("serial", "processes", "dask"), default="processes",
                   help="where runs execute (default: processes, a local pool; dask starts a LocalCluster)")
    p.add_argument("--scheduler", type=_scheduler, metavar="ADDRESS",
                   help="a Dask scheduler, e.g. tcp://host:8786 (implies --executor dask)")
    p.add_argument("--out", type=Path, default=Path("results"), help="base folder (default: results)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE", nargs="+",
                   help="override a scenario field by dotted path in every scenario, e.g. city.residents=20000")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``compare``, ``sweep`` and ``analyze`` to the ``safestreets`` parser."""
    p = sub.add_parser("compare", help="run scenarios on paired seeds and compare them with the first")
    p.add_argument("baseline", type=Path, help="the baseline scenario file")
    p.add_argument("others", type=Path, nargs="+", help="scenario files to compare with it")
    p.add_argument("--reps", type=_positive_int("replications"), default=DEFAULT_REPS,
                   help=f"replications per scenario; replication r uses seed r in every scenario "
                        f"(default: {DEFAULT_REPS})")
    p.add_argument("--name", help="experiment name, the results folder (default: compare_<baseline>_vs_<others>)")
    _execution_options(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("sweep", help="run an experiment file: scenarios x parameter points x replications")
    p.add_argument("experiment", type=Path, help="experiment file (YAML), e.g. experiments/youth_vs_police.yaml")
    p.add_argument("--reps", type=_positive_int("replications"), help="replications (default: the file's)")
    _execution_options(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("analyze", help="tables and report.html from a results folder")
    p.add_argument("results", type=Path, help="a results folder, e.g. results/compare_carsi")
    p.add_argument("--baseline", help="scenario to compare with (default: the experiment's)")
    p.add_argument("--no-report", action="store_true", help="tables only, no report.html")
    p.set_defaults(func=cmd_analyze)


def _flat(overrides: list[Any]) -> list[str]:
    out: list[str] = []
    for item in overrides:
        out.extend(item if isinstance(item, list) else [item])
    return out


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_compare(args: argparse.Namespace) -> int:
    from model.experiment import resolve
    from model.runner import comparison_experiment

    missing = next((p for p in [args.baseline, *args.others] if not p.exists()), None)
    if missing is not None:
        raise InputError(str(missing), "", "an existing scenario file", "no such file")
    exp = comparison_experiment(args.baseline, args.others, replications=args.reps, years=args.years,
                                name=args.name)
    resolved = resolve(exp, "compare", Path("."), _flat(args.overrides))  # every InputError before anything is written
    return _execute_and_analyse(resolved, args)


def cmd_sweep(args: argparse.Namespace) -> int:
    from model.experiment import load_experiment, resolve

    exp = load_experiment(args.experiment, {"replications": args.reps, "years": args.years})
    resolved = resolve(exp, str(args.experiment), args.experiment.parent, _flat(args.overrides))
    return _execute_and_analyse(resolved, args)


def _execute_and_analyse(resolved: Any, args: argparse.Namespace) -> int:
    """Run (or resume) the experiment, print what happened, then write tables and the report."""
    from model.runner import execute

    report = execute(resolved, args.out, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                     progress=not args.quiet)
    _print_batch(report)
    analyse_folder(report.path, write_report=True)
    return report.exit_code


def cmd_analyze(args: argparse.Namespace) -> int:
    if not (args.results / "manifest.json").exists():
        raise InputError(str(args.results), "", "a results folder with manifest.json", "none")
    results = analyse_folder(args.results, baseline=args.baseline, write_report=not args.no_report)
    return 1 if len(results.failed) else 0


def _print_batch(report: Any) -> None:
    shared = f" ({report.shared} of them copied from an identical run)" if report.shared else ""
    print(f"{report.path}: {report.done} runs done{shared}, {report.failed} failed, {report.skipped} already stored "
          f"({report.total} in the experiment) in {report.seconds:.0f} s on {report.executor}")


# ---------------------------------------------------------------------------------------------
# Analysis of a results folder


def analyse_folder(path: Path, baseline: str | None = None, write_report: bool = True) -> Any:
    """Print the paired comparison tables of a results folder and write CSVs (and report.html)."""
    import pandas as pd

    from model import analysis
    from model.store import load_results

    results = load_results(path)
    if len(results.failed):
        print(f"{len(results.failed)} runs failed (see {path}/failed_runs.csv); first: "
              f"{results.failed.iloc[0]['scenario']} rep {results.failed.iloc[0]['rep']} seed "
              f"{results.failed.iloc[0]['seed']} point {results.failed.iloc[0]['point']}: "
              f"{results.failed.iloc[0]['error']}")
    if len(results.code_versions) > 1:
        print(f"note: the runs in {path} were made by {len(results.code_versions)} versions of the simulation code; "
              f"run the experiment again to bring them all to this one")
    summary = results.summary
    if summary.empty:
        print("no finished runs to analyse")
        return results
    base = baseline or results.baseline
    scenarios = list(dict.fromkeys(results.ok["scenario"]))
    if base not in scenarios:
        raise InputError(str(path), "baseline", f"a scenario with finished runs ({', '.join(scenarios)})", f"'{base}'")
    tables: dict[str, pd.DataFrame] = {}
    if len(scenarios) > 1:
        by_point = bool(results.parameters)
        tables["effects"] = analysis.effects(summary, baseline=base, by_point=by_point)
        tables["cost_effectiveness"] = analysis.cost_effectiveness(summary, baseline=base, by_point=by_point)
        if by_point:  # the pooled view over every point as well
            tables["effects_pooled"] = analysis.effects(summary, baseline=base)
            tables["cost_effectiveness_pooled"] = analysis.cost_effectiveness(summary, baseline=base)
            print(f"pooled over {len(results.manifest.get('points', []))} parameter points, per replication "
                  f"(effects.csv and cost_effectiveness.csv give each point)")
        print(format_effects(tables["effects_pooled" if by_point else "effects"],
                             tables["cost_effectiveness_pooled" if by_point else "cost_effectiveness"], base,
                             results))
    sensitivity = _sensitivity(results, scenarios, base)
    for name, df in sensitivity.items():
        print(format_sensitivity(name, df))
    tables.update(sensitivity)
    tables["runs"] = results.runs
    if len(results.failed):
        tables["failed_runs"] = results.failed
    tables["scenario_means"] = _scenario_means(results)
    written = []
    for name, df in tables.items():
        df.to_csv(path / f"{name}.csv", index=False)
        written.append(f"{name}.csv")
    if write_report:
        html = _write_report(results, path, base, tables)
        if html is not None:
            written.append(html.name)
    print(f"wrote {path}/ ({', '.join(written)})")
    return results


def _scenario_means(results: Any) -> Any:
    s = results.summary
    keys = ["scenario", "point", "outcome"] if results.parameters else ["scenario", "outcome"]
    g = s.groupby(keys, sort=False)["value"]
    out = g.agg(["count", "mean", "std"]).reset_index().rename(columns={"count": "runs"})
    return out


def _sensitivity(results: Any, scenarios: list[str], base: str) -> dict[str, Any]:
    """Sobol or Morris indices of the headline outcomes, per scenario, when the sampler allows."""
    import pandas as pd

    from model import analysis

    sampler = results.manifest.get("sampler", "none")
    problem = results.manifest.get("problem")
    if sampler not in ("sobol", "morris") or not problem or not problem.get("num_vars"):
        return {}
    options = results.manifest.get("sampler_options", {})
    frames = []
    for scenario in scenarios:
        for name in ("homicides", "crimes", "fear", "trust", "cost_usd"):
            try:
                if sampler == "sobol":
                    df = analysis.sobol_indices(problem, results.summary, name, scenario=scenario,
                                                calc_second_order=options.get("calc_second_order", False))
                else:
                    X = [[p[n] for n in problem["names"]] for p in results.manifest["points"]]
                    df = analysis.morris_indices(problem, results.summary, name, X, scenario=scenario,
                                                 num_levels=options.get("levels", 4))
            except (ValueError, KeyError, ZeroDivisionError) as exc:
                print(f"sensitivity of {name} in {scenario} skipped: {exc}")
                continue
            frames.append(df.assign(scenario=scenario))
    if not frames:
        return {}
    return {f"sensitivity_{sampler}": pd.concat(frames, ignore_index=True)}


def _write_report(results: Any, path: Path, base: str, tables: dict[str, Any]) -> Path | None:
    try:
        from model import report
    except ImportError:
        print("report.html skipped: model.report is not available")
        return None
    fn = getattr(report, "write_report", None)
    if fn is None:
        print("report.html skipped: model.report has no write_report")
        return None
    return Path(fn(results, path / "report.html", baseline=base))


# ---------------------------------------------------------------------------------------------
# Printing


def _num(v: float, kind: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    a = abs(v)
    if v == 0:
        return "0"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1 or kind == "count":
        return f"{v:.2f}"
    return f"{v:.3f}"


def _usd(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if math.isinf(v):
        return "unbounded"
    return f"${v:,.0f}"


def format_sensitivity(name: str, df: Any) -> str:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices, one line per scenario, outcome and parameter."""
    lines = ["", f"{'Sobol' if name.endswith('sobol') else 'Morris'} sensitivity (outcome averaged over "
                 "replications at each point; conf = 95% half-width)"]
    sobol = "S1" in df.columns
    header = f"{'scenario':<20}{'outcome':<14}{'parameter':<32}" + (
        f"{'S1':>8}{'conf':>8}{'ST':>8}{'conf':>8}" if sobol else f"{'mu*':>12}{'conf':>12}{'sigma':>12}")
    lines += [header, "-" * len(header)]
    for _, r in df.iterrows():
        cells = (f"{r['S1']:>8.2f}{r['S1_conf']:>8.2f}{r['ST']:>8.2f}{r['ST_conf']:>8.2f}" if sobol else
                 f"{_num(r['mu_star']):>12}{_num(r['mu_star_conf']):>12}{_num(r['sigma']):>12}")
        lines.append(f"{str(r['scenario'])[:19]:<20}{str(r['outcome'])[:13]:<14}{str(r['parameter'])[:31]:<32}{cells}")
    return "\n".join(lines)


def format_effects(effects: Any, cost: Any | None, baseline: str, results: Any) -> str:
    """The compare table: per scenario and outcome, the baseline and scenario means, the paired
    difference with its 95 % CI, the percent change with its CI; then cost per homicide and per
    crime averted with intervals. Counts are per year; levels are means over the horizon."""
    from model.analysis import HEADLINE_OUTCOMES

    lines: list[str] = []
    reps = results.manifest.get("replications")
    years = results.manifest.get("years") or (results.manifest.get("scenarios") or [{}])[0].get("years")
    for scenario, g in effects.groupby("scenario", sort=False):
        g = g.set_index("outcome")
        n = int(g["n"].max()) if len(g) else 0
        lines.append("")
        points = len(results.manifest.get("points") or [0])
        pairs = (f"{n} pairs ({points} parameter points x {reps} replications)" if points > 1 else
                 f"{n} paired replications{f' of {reps}' if reps and reps != n else ''}")
        lines.append(f"{scenario} vs {baseline}: {pairs}"
                     f"{f', {years:g} years' if years else ''} (counts per year; levels averaged over the run)")
        header = (f"{'outcome':<26}{'unit':<16}{'baseline':>12}{'scenario':>12}{'difference':>12}"
                  f"{'95% CI':>26}{'change':>9}{'95% CI':>21}")
        lines.append(header)
        lines.append("-" * len(header))
        order = [o for o in HEADLINE_OUTCOMES if o in g.index]
        for name in order:
            r = g.loc[name]
            kind = r.get("kind", "")
            unit = r["unit"] + (" a year" if kind == "count" and "per" not in r["unit"] else "")
            ci = f"[{_num(r['diff_lo'], kind)}, {_num(r['diff_hi'], kind)}]"
            pct = "-" if math.isnan(r["pct_change"]) else f"{r['pct_change']:+.1f}%"
            pci = "-" if math.isnan(r["pct_lo"]) else f"[{r['pct_lo']:+.1f}%, {r['pct_hi']:+.1f}%]"
            mark = " *" if r["significant"] else ""
            lines.append(f"{str(r['label'])[:25]:<26}{unit[:15]:<16}{_num(r['baseline_mean'], kind):>12}"
                         f"{_num(r['scenario_mean'], kind):>12}{_num(r['diff'], kind):>12}{ci:>26}{pct:>9}"
                         f"{pci:>21}{mark}")
        if cost is not None and len(cost):
            c = cost[cost["scenario"] == scenario]
            for _, row in c.iterrows():
                what = "homicide" if row["measure"] == "homicides" else "crime"
                if row["status"] == "ok":
                    lines.append(f"cost per {what} averted: {_usd(row['cost_per_averted'])} "
                                 f"(95% CI {_usd(row['lo'])} to {_usd(row['hi'])}); extra cost "
                                 f"{_usd(row['extra_cost'])} a year, {_num(row['averted'])} {what}s averted a year "
                                 f"[{_num(row['averted_lo'])}, {_num(row['averted_hi'])}]")
                else:
                    lines.append(f"cost per {what} averted: {row['status']} (extra cost {_usd(row['extra_cost'])} "
                                 f"a year, {_num(row['averted'])} {what}s averted a year "
                                 f"[{_num(row['averted_lo'])}, {_num(row['averted_hi'])}])")
    lines.append("* the 95% interval of the paired difference excludes zero")
    return "\n".join(lines)

