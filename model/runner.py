"""Batch runs: expand an experiment into runs, execute them, stream them into the results store.

Each run is a pure function ``simulate(spec) -> tables`` of a :class:`~model.experiment.RunSpec`
(the scenario as resolved, the seed, the point): it builds the model in the worker, runs it and
returns only compact tables, never the model. Replication *r* uses the same seed in every scenario
and at every point, so differences between scenarios are paired (common random numbers).

The parent submits runs in a bounded window (see :mod:`model.executors`), writes each finished
run at once and atomically (:class:`~model.store.Store`), and skips runs already stored, so an
experiment killed at any moment resumes where it stopped with no run lost or duplicated.

>>> from model.runner import sweep
>>> res = sweep("experiments/compare_carsi.yaml", replications=2, executor="serial",
...             overrides=["city.residents=5000", "city.neighbourhoods=10"], years=0.25)  # doctest: +SKIP
>>> res.summary.head()  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import InputError
from model.executors import Executor, make_executor
from model.experiment import (
    Experiment,
    ResolvedExperiment,
    RunSpec,
    load_experiment,
    parse_experiment,
    resolve,
    simulation_key,
)
from model.store import RunRecord, Store, load_results

__all__ = ["simulate", "execute", "sweep", "compare", "RunOutcome", "BatchReport", "comparison_experiment",
           "results_folder"]


@dataclass
class RunOutcome:
    """What a worker sends back: the run's record and (when it finished) its compact tables."""

    record: RunRecord
    tables: dict[str, Any] | None


def simulate(spec: RunSpec) -> RunOutcome:
    """Run one scenario at one seed and return compact tables; exceptions become a failed record.

    A module-level pure function, so every executor can ship it to a worker.
    """
    start = time.perf_counter()
    record = _record_of(spec)
    try:
        tables = _run_tables(spec)
    except Exception as exc:  # recorded with its seed and point; the batch goes on
        record.status = "failed"
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        record.error = f"{type(exc).__name__}: {exc}{where}"
        tables = None
    record.seconds = round(time.perf_counter() - start, 3)
    return RunOutcome(record, tables)


def _run_tables(spec: RunSpec) -> dict[str, Any]:
    from model.model import SecurityModel
    from model.results import collect
    from model.scenario import parse_scenario
    from model.store import compact_tables

    scenario = parse_scenario(spec.scenario, source=spec.scenario_name)
    model = SecurityModel(scenario, seed=spec.seed)
    for _ in range(scenario.steps):
        model.step()
    result = collect(model)
    model.release()
    ids = {"run_id": spec.run_id, "scenario": spec.scenario_name, "rep": spec.rep, "seed": spec.seed,
           "point": spec.point}
    return compact_tables(result.timeseries, result.neighbourhoods, result.summary, ids)


@dataclass
class BatchReport:
    """What one call of :func:`execute` did."""

    path: Path
    total: int
    skipped: int
    done: int
    failed: int
    seconds: float
    executor: str
    shared: int = 0  # runs stored as copies of an identical run instead of simulated again

    @property
    def exit_code(self) -> int:
        """0 when every run of the experiment is stored ok, 1 when some failed."""
        return 1 if self.failed else 0


def results_folder(base: str | Path, name: str) -> Path:
    """``<base>/<name>``; the name is checked so output cannot escape ``base``."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}", name) or ".." in name:
        raise InputError("experiment", "name", "a plain folder name (letters, digits, _ . -)", f"'{name}'")
    return Path(base) / name


def execute(resolved: ResolvedExperiment, out: str | Path = "results", *, executor: str | Executor = "processes",
            workers: int | None = None, scheduler: str | None = None, progress: bool = True,
            run_fn: Callable[[RunSpec], RunOutcome] = simulate) -> BatchReport:
    """Run every run of ``resolved`` not yet stored under ``out/<experiment>/``; return counts.

    ``executor`` is ``serial``, ``processes`` (default, all cores) or ``dask`` (a LocalCluster, or
    the cluster at ``scheduler``), or an :class:`~model.executors.Executor` already made.

    Runs that would simulate the same thing — the same scenario, resolved alike, at the same seed,
    differing only in the point they are labelled with — are simulated once: the others are stored
    as copies of its tables under their own ids and points (``same_as`` in ``run.json`` names the
    run simulated). In a sweep of programme parameters the baseline, which none of them applies to,
    thus runs once per replication instead of once per point and replication. Their tables are
    identical to what simulating each would give (a run is a pure function of scenario and seed).
    """
    start = time.perf_counter()
    folder = results_folder(out, resolved.experiment.name)
    ids: list[str] = []
    groups: dict[str, list[RunRecord]] = {}  # simulation key -> the runs with it, in run order
    for spec in resolved.runs():
        ids.append(spec.run_id)
        groups.setdefault(simulation_key(spec), []).append(_record_of(spec))
    dup = len(ids) - len(set(ids))
    if dup:  # two scenarios resolving to the same data under the same name cannot happen; be sure
        raise InputError(resolved.source, "scenarios", "distinct runs", f"{dup} duplicate run ids")
    manifest = resolved.manifest()
    from model.results import code_version, environment, git_commit

    commit = git_commit()
    manifest.update(run_ids=ids, versions=environment(), git_commit=commit, code=code_version())
    store = Store(folder)
    store.git_commit = commit
    store.code = code_version()
    store.open(manifest)
    try:
        done_ids = store.finished()
        skipped = sum(1 for i in ids if i in done_ids)
        stale = sum(1 for i in ids if i in store.stale)
        if stale and progress:
            print(f"note: {stale} runs stored in {folder} were made by other code (the simulation's source, numpy "
                  f"or Mesa have changed since); they are run again", file=sys.stderr)
        del ids
        shared = done = failed = 0
        copies: dict[str, list[RunRecord]] = {}  # run to simulate -> runs stored as copies of it
        from_store: list[tuple[str, list[RunRecord]]] = []  # a run stored earlier -> runs to copy from it
        copied: set[str] = set()  # every run stored as a copy
        for members in groups.values():
            waiting = [r for r in members if r.run_id not in done_ids]
            if not waiting or len(members) == 1:
                continue
            stored = next((r.run_id for r in members if r.run_id in done_ids), None)
            if stored is not None:
                from_store.append((stored, waiting))
                copied.update(twin.run_id for twin in waiting)
            else:  # simulate the first, copy the others from it
                copies[waiting[0].run_id] = waiting[1:]
                copied.update(twin.run_id for twin in waiting[1:])
        del groups
        todo = (spec for spec in resolved.runs() if spec.run_id not in done_ids and spec.run_id not in copied)
        n_todo = resolved.n_runs - skipped
        n_simulate = n_todo - len(copied)
        ex = executor if isinstance(executor, Executor) else make_executor(executor, workers, scheduler)
        bar = None
        if progress:
            from tqdm import tqdm

            sharing = f" ({len(copied)} of them copies of an identical run)" if copied else ""
            print(f"{resolved.experiment.name}: {resolved.n_runs} runs ({len(resolved.entries)} scenarios x "
                  f"{len(resolved.points)} points x {len(resolved.seeds)} replications), {skipped} already "
                  f"stored, {n_todo} to run{sharing} on {ex.describe()}", file=sys.stderr)
            bar = tqdm(total=n_todo, desc=resolved.experiment.name, unit="run", file=sys.stderr,
                       dynamic_ncols=True, smoothing=0.1)
            bar.set_postfix(failed=0)

        def store_one(outcome: RunOutcome) -> None:
            nonlocal done, failed
            store.write(outcome.record, outcome.tables)
            if outcome.record.status == "ok":
                done += 1
            else:
                failed += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=failed)

        try:
            for source, waiting in from_store:
                tables = store.read_tables(source)
                for twin in waiting:
                    store_one(_copy_of(source, "ok", "", tables, twin))
                    shared += 1
            if n_simulate:
                with ex:
                    for spec, outcome in ex.imap_unordered(run_fn, todo):
                        if isinstance(outcome, BaseException):
                            outcome = RunOutcome(_record_of(spec, "failed", f"{type(outcome).__name__}: {outcome}"),
                                                 None)
                        store_one(outcome)
                        for twin in copies.get(spec.run_id, ()):
                            rec = outcome.record
                            store_one(_copy_of(rec.run_id, rec.status, rec.error, outcome.tables, twin))
                            shared += 1
        finally:
            if bar is not None:
                bar.close()
    finally:
        store.close()
    return BatchReport(folder, resolved.n_runs, skipped, done, failed, time.perf_counter() - start,
                       ex.describe() if n_simulate else "none", shared)


def _record_of(spec: RunSpec, status: str = "ok", error: str = "") -> RunRecord:
    """The record run ``spec`` is stored with."""
    return RunRecord(spec.run_id, spec.scenario_name, spec.rep, spec.seed, spec.point, dict(spec.values), status,
                     error)


def _copy_of(source: str, status: str, error: str, tables: dict[str, Any] | None, twin: RunRecord) -> RunOutcome:
    """The outcome of run ``source`` (which simulated the same scenario at the same seed) relabelled as ``twin``."""
    record = dataclasses.replace(twin, status=status, error=error, seconds=0.0, same_as=source)
    if tables is None:
        return RunOutcome(record, None)
    return RunOutcome(record, {name: table.assign(run_id=twin.run_id, rep=np.int64(twin.rep),
                                                  point=np.full(len(table), twin.point, dtype=np.int64))
                               for name, table in tables.items()})



def _experiment(experiment: str | Path | Experiment | dict,
                overrides_top: dict[str, Any]) -> tuple[Experiment, str, Path]:
    if isinstance(experiment, Experiment):
        exp = experiment
        if any(v is not None for v in overrides_top.values()):
            exp = parse_experiment({**exp.model_dump(exclude_unset=True),
                                    **{k: v for k, v in overrides_top.items() if v is not None}})
        return exp, "<experiment>", Path(".")
    if isinstance(experiment, dict):
        data = {**experiment, **{k: v for k, v in overrides_top.items() if v is not None}}
        return parse_experiment(data), "<experiment>", Path(".")
    path = Path(experiment)
    return load_experiment(path, overrides_top), str(path), path.parent


def sweep(experiment: str | Path | Experiment | dict, *, replications: int | None = None, years: float | None = None,
          overrides: Sequence[str] | None = None, out: str | Path = "results", executor: str | Executor = "processes",
          workers: int | None = None, scheduler: str | None = None, progress: bool = True):  # noqa: ANN201
    """Run an experiment file (or an :class:`Experiment`) and return its :class:`~model.store.Results`.

    >>> res = sweep("experiments/youth_vs_police.yaml", replications=2,
    ...             overrides=["city.residents=5000", "city.neighbourhoods=10"], years=0.5)  # doctest: +SKIP
    >>> res.wide().groupby(["scenario", "police.officers_per_100k"])["homicides"].mean()  # doctest: +SKIP

    Runs already stored under ``out/<name>/`` are not run again. ``res.runs`` lists failed runs too.
    """
    exp, source, base = _experiment(experiment, {"replications": replications, "years": years})
    resolved = resolve(exp, source, base, list(overrides or []))
    report = execute(resolved, out, executor=executor, workers=workers, scheduler=scheduler, progress=progress)
    results = load_results(report.path)
    results.report = report
    return results


def comparison_experiment(baseline: str | Path, others: Sequence[str | Path], *, replications: int = 20,
                          years: float | None = None, base_seed: int = 0, name: str | None = None) -> Experiment:
    """The experiment behind ``safestreets compare``: the baseline and the others on shared seeds."""
    files = [str(baseline), *(str(o) for o in others)]
    if name is None:
        stems = [Path(f).stem for f in files]
        name = f"compare_{stems[0]}_vs_{'_'.join(stems[1:])}"[:80]
    return parse_experiment({"name": name, "scenarios": files, "replications": replications, "years": years,
                             "base_seed": base_seed}, source="compare")


def compare(baseline: str | Path, *others: str | Path, reps: int = 20, years: float | None = None,
            overrides: Sequence[str] | None = None, out: str | Path = "results", executor: str | Executor = "processes",
            workers: int | None = None, scheduler: str | None = None, name: str | None = None,
            base_seed: int = 0, progress: bool = True):  # noqa: ANN201
    """Run the baseline and every other scenario on the same ``reps`` seeds; return the Results.

    >>> res = compare("scenarios/baseline.yaml", "scenarios/carsi_package.yaml", reps=4, years=1,
    ...               overrides=["city.residents=20000", "city.neighbourhoods=20"])  # doctest: +SKIP
    >>> h = res.summary.query("outcome == 'homicides'")  # doctest: +SKIP
    >>> h.pivot(index="rep", columns="scenario", values="value")  # doctest: +SKIP
    """
    if not others:
        raise InputError("compare", "scenarios", "a baseline and at least one other scenario", "only one")
    exp = comparison_experiment(baseline, others, replications=reps, years=years, base_seed=base_seed, name=name)
    resolved = resolve(exp, "compare", Path("."), list(overrides or []))
    report = execute(resolved, out, executor=executor, workers=workers, scheduler=scheduler, progress=progress)
    results = load_results(report.path)
    results.report = report
    return results
