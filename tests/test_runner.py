"""Batch runs: paired seeds, exact zero for a no-op programme, executors agree, resume, failures.

Small cities (5,000 residents in 10 neighbourhoods) and horizons of a few weeks keep this file fast;
each assertion is about behaviour (which seed a run used, what is stored, what survives a kill).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from model.experiment import parse_experiment, resolve
from model.runner import RunOutcome, compare, execute, simulate
from model.store import TMP_PREFIX, load_results

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios"
SMALL = ["city.residents=5000", "city.neighbourhoods=10"]
YEARS = 0.1  # 36 daily steps


def _noop_file(tmp_path: Path) -> Path:
    """A youth programme at intensity 0: must be identical to the baseline, run for run."""
    path = tmp_path / "noop.yaml"
    path.write_text(f"extends: {SCEN / 'baseline.yaml'}\nname: noop\ninterventions:\n"
                    "  - type: youth_programs\n    target: {top_k: 5, by: gang_members}\n    intensity: 0\n",
                    encoding="utf-8")
    return path


def _small_experiment(name: str, reps: int = 3, **extra) -> dict:
    return {"name": name, "scenarios": [str(SCEN / "baseline.yaml"), str(SCEN / "youth_programs.yaml")],
            "replications": reps, "years": YEARS, "set": SMALL, "base_seed": 7, **extra}


# ---------------------------------------------------------------------------------------------
# Pairing


def test_replication_r_uses_the_same_seed_in_every_scenario_and_point():
    exp = parse_experiment(_small_experiment("pairs", reps=4, parameters={
        "police.officers_per_100k": {"values": [150, 300]},
        "interventions.0.coverage": {"values": [0.2, 0.5], "scenarios": ["youth_programs"]}}))
    resolved = resolve(exp)
    runs = list(resolved.runs())
    assert len(runs) == 2 * 4 * 4 == resolved.n_runs
    assert len({r.run_id for r in runs}) == len(runs)
    for rep in range(4):
        assert {r.seed for r in runs if r.rep == rep} == {7 + rep}
    # the coverage applies only where asked; police capacity everywhere
    base = [r for r in runs if r.scenario_name == "baseline"]
    youth = [r for r in runs if r.scenario_name == "youth_programs"]
    assert all("interventions.0.coverage" not in r.values for r in base)
    assert {r.scenario["interventions"][0]["coverage"] for r in youth} == {0.2, 0.5}
    assert {r.scenario["police"]["officers_per_100k"] for r in base} == {150.0, 300.0}


def test_stored_runs_equal_single_runs_with_the_shared_seed(tmp_path):
    """The stored summary of replication r is exactly model.api.run at seed base_seed + r."""
    from model import load_scenario, run

    res = compare(SCEN / "baseline.yaml", SCEN / "youth_programs.yaml", reps=2, years=YEARS, overrides=SMALL,
                  executor="serial", out=tmp_path, progress=False, base_seed=5)
    assert sorted(res.runs["seed"].tolist()) == [5, 5, 6, 6]
    for name, file in (("baseline", "baseline.yaml"), ("youth_programs", "youth_programs.yaml")):
        single = run(load_scenario(SCEN / file, overrides=SMALL, years=YEARS), seed=6)
        stored = res.summary[(res.summary["scenario"] == name) & (res.summary["rep"] == 1)]
        stored = stored.set_index("outcome")["value"]
        expected = single.summary.set_index("outcome")["per_year"]
        pd.testing.assert_series_equal(stored.sort_index(), expected.sort_index(), check_names=False)
    # the two scenarios differ (the programme does something), so pairing is not trivially equal
    wide = res.wide().set_index(["scenario", "rep"])
    assert (wide.loc["baseline", "enrolments"] != wide.loc["youth_programs", "enrolments"]).all()


def test_noop_programme_gives_exactly_zero_difference(tmp_path):
    from model.analysis import effects

    res = compare(SCEN / "baseline.yaml", _noop_file(tmp_path), reps=3, years=YEARS, overrides=SMALL,
                  executor="serial", out=tmp_path / "out", progress=False)
    eff = effects(res.summary, baseline="baseline")
    finite = eff[np.isfinite(eff["diff"])]
    assert len(finite) >= 40
    assert (finite["diff"] == 0).all() and (finite["diff_lo"] == 0).all() and (finite["diff_hi"] == 0).all()
    a = res.timeseries("baseline").drop(columns=["run_id", "scenario"])
    b = res.timeseries("noop").drop(columns=["run_id", "scenario"])
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Executors


def _run_all(tmp_path: Path, executor, name: str):
    exp = parse_experiment(_small_experiment("exec", reps=2, parameters={
        "police.officers_per_100k": {"values": [150, 350]}}))
    report = execute(resolve(exp), tmp_path / name, executor=executor, progress=False)
    assert report.done == 8 and report.failed == 0
    return load_results(report.path)


def test_serial_processes_and_dask_give_identical_results(tmp_path):
    serial = _run_all(tmp_path, SerialExecutor(), "serial")
    pool = _run_all(tmp_path, ProcessExecutor(workers=2), "pool")
    dask = _run_all(tmp_path, DaskExecutor(workers=2, processes=False), "dask")  # threads; processes in test_batch_cli
    for other in (pool, dask):
        cols = ["run_id", "scenario", "rep", "seed", "point", "police.officers_per_100k", "status"]
        pd.testing.assert_frame_equal(serial.runs[cols], other.runs[cols])
        pd.testing.assert_frame_equal(serial.summary, other.summary)
        pd.testing.assert_frame_equal(serial.timeseries(), other.timeseries())
        pd.testing.assert_frame_equal(serial.neighbourhoods(), other.neighbourhoods())
    # the police level really changed the runs (so equality is not of empty or constant tables)
    w = serial.wide()
    assert w.groupby("police.officers_per_100k")["police_effective"].mean().diff().iloc[-1] > 0


def test_process_pool_keeps_a_bounded_window_in_flight():
    pulled = []

    def tasks():
        for i in range(40):
            pulled.append(i)
            yield i

    with ProcessExecutor(workers=2, window=3) as ex:
        got = []
        for task, result in ex.imap_unordered(abs, tasks()):
            assert abs(task) == result
            assert len(pulled) - len(got) <= 3
            got.append(result)
    assert sorted(got) == list(range(40))


def _boom_on_odd(spec):
    """A run function that raises for odd seeds (module level, so worker processes can import it)."""
    if spec.seed % 2:
        raise ValueError(f"boom at seed {spec.seed}")
    return simulate(spec)


def _die_on_seed_1(spec):
    if spec.seed == 1:
        os._exit(3)  # a worker process that dies outright
    return simulate(spec)


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_a_failing_run_is_recorded_and_the_rest_go_on(tmp_path, executor):
    exp = parse_experiment({**_small_experiment("fails", reps=4), "base_seed": 0})
    report = execute(resolve(exp), tmp_path, executor=executor, workers=2, progress=False, run_fn=_boom_on_odd)
    assert (report.done, report.failed, report.exit_code) == (4, 4, 1)
    res = load_results(report.path)
    failed = res.failed
    assert sorted(failed["seed"].tolist()) == [1, 1, 3, 3]
    assert failed["error"].str.contains("ValueError: boom at seed").all()
    assert set(res.ok["seed"]) == {0, 2}
    # started again (without the fault), only the failed runs run, and nothing is duplicated
    again = execute(resolve(exp), tmp_path, executor="serial", progress=False)
    assert (again.skipped, again.done, again.failed, again.exit_code) == (4, 4, 0, 0)
    res = load_results(report.path)
    assert len(res.runs) == 8 and res.runs[["scenario", "rep"]].duplicated().sum() == 0
    assert (res.runs["status"] == "ok").all()


def test_a_worker_that_dies_is_recorded_as_failed(tmp_path):
    exp = parse_experiment({**_small_experiment("dies", reps=3), "base_seed": 0})
    report = execute(resolve(exp), tmp_path, executor=ProcessExecutor(workers=2, window=2), progress=False,
                     run_fn=_die_on_seed_1)
    res = load_results(report.path)
    assert len(res.runs) == 6 and report.exit_code == 1
    # only the two runs that kill their worker fail; runs in flight beside them are run again
    assert sorted(res.failed["seed"]) == [1, 1]
    assert res.failed["error"].str.contains("worker process died").all()
    assert sorted(res.ok["seed"]) == [0, 0, 2, 2]


# ---------------------------------------------------------------------------------------------
# Store: atomic, resumable


def test_a_crash_while_writing_leaves_no_run_and_no_temporary_files(tmp_path, monkeypatch):
    exp = parse_experiment(_small_experiment("crash", reps=1))
    calls = {"n": 0}
    real = pd.DataFrame.to_parquet

    def flaky(self, path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # the second run's second table
            raise OSError("disk full")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", flaky)
    with pytest.raises(OSError, match="disk full"):
        execute(resolve(exp), tmp_path, executor="serial", progress=False)
    runs_dir = tmp_path / "crash" / "runs"
    folders = [p.name for p in runs_dir.iterdir()]
    assert len(folders) == 1 and not any(f.startswith(TMP_PREFIX) for f in folders)
    assert {p.name for p in (runs_dir / folders[0]).iterdir()} == {
        "run.json", "summary.parquet", "timeseries.parquet", "neighbourhoods.parquet"}


def _sweep_command(exp_file: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "model", "sweep", str(exp_file), "--out", str(out), "--executor", "processes",
            "--workers", "2", "--quiet"]


def test_a_sweep_killed_with_sigkill_resumes_with_no_run_lost_or_duplicated(tmp_path):
    reps = 15  # 30 runs: killed once 3 are stored, the sweep cannot have stored them all in the 50 ms before
    exp_file = tmp_path / "resume.yaml"
    exp_file.write_text(json.dumps({**_small_experiment("resume", reps=reps), "years": 0.15}), encoding="utf-8")
    out = tmp_path / "out"
    runs_dir = out / "resume" / "runs"
    proc = subprocess.Popen(_sweep_command(exp_file, out), cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            stored = [p for p in runs_dir.glob("*") if not p.name.startswith(TMP_PREFIX)] if runs_dir.exists() else []
            if len(stored) >= 3:
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes, all at once
        proc.wait()
    stored_before = {p.name for p in runs_dir.iterdir() if not p.name.startswith(TMP_PREFIX)}
    assert 3 <= len(stored_before) < 2 * reps, "the sweep should be killed part-way"

    again = subprocess.run(_sweep_command(exp_file, out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{len(stored_before)} already stored" in again.stdout
    res = load_results(out / "resume")
    assert len(res.runs) == 2 * reps and (res.runs["status"] == "ok").all()
    assert not res.runs[["scenario", "point", "rep"]].duplicated().any()
    assert not [p for p in runs_dir.iterdir() if p.name.startswith(TMP_PREFIX)]
    assert stored_before <= set(res.runs["run_id"])
    assert sorted(res.summary.groupby("run_id").size().unique()) == [len(res.summary["outcome"].unique())]
    # what was stored before and after the kill equals an uninterrupted serial run
    fresh = execute(resolve(parse_experiment({**_small_experiment("resume", reps=reps), "years": 0.15})),
                    tmp_path / "fresh", executor="serial", progress=False)
    pd.testing.assert_frame_equal(res.summary, load_results(fresh.path).summary)
    pd.testing.assert_frame_equal(res.timeseries(outcomes=["homicides", "fear"]),
                                  load_results(fresh.path).timeseries(outcomes=["homicides", "fear"]))


def test_running_again_skips_everything_and_load_results_follows_the_contract(tmp_path):
    exp = parse_experiment(_small_experiment("contract", reps=2, parameters={
        "interventions.0.coverage": {"values": [0.2, 0.4], "scenarios": ["youth_programs"]}}))
    first = execute(resolve(exp), tmp_path, executor="serial", progress=False)
    second = execute(resolve(exp), tmp_path, executor="serial", progress=False)
    assert (first.done, second.done, second.skipped) == (8, 0, 8)
    res = load_results(first.path)
    assert list(res.runs.columns) == ["run_id", "scenario", "rep", "seed", "point", "interventions.0.coverage",
                                      "status", "error", "seconds", "same_as"]
    assert res.runs.query("scenario == 'baseline'")["interventions.0.coverage"].isna().all()
    assert list(res.summary.columns) == ["run_id", "scenario", "rep", "seed", "point", "outcome", "kind", "value",
                                         "total"]
    assert "cost_usd" in set(res.summary["outcome"])
    ts = res.timeseries(scenarios=["youth_programs"], outcomes=["homicides", "trust"], points=[1])
    assert list(ts.columns) == ["run_id", "scenario", "rep", "seed", "point", "step", "year", "homicides", "trust"]
    assert set(ts["scenario"]) == {"youth_programs"} and set(ts["point"]) == {1}
    assert ts["homicides"].dtype == np.float32 and len(ts) == 2 * round(YEARS * 365)  # 2 reps x steps
    nb = res.neighbourhoods(outcomes=["crimes"])
    assert list(nb.columns[:7]) == ["run_id", "scenario", "rep", "seed", "point", "month", "neighbourhood"]
    assert nb.groupby("run_id")["residents"].sum().div(nb.groupby("run_id")["month"].nunique()).eq(5000).all()
    m = res.manifest
    assert m["seeds"] == [7, 8] and m["baseline"] == "baseline" and len(m["points"]) == 2
    assert m["git_commit"] is None or len(m["git_commit"]) >= 40
    assert all(len(s["file_sha256"]) == 64 for s in m["scenarios"])
    with pytest.raises(KeyError, match="did you mean 'homicides'"):
        res.timeseries(outcomes=["homicide"])


# ---------------------------------------------------------------------------------------------
# Runs that simulate the same city are simulated once


def _counting(calls: list[str]):
    def run_fn(spec):
        calls.append(spec.run_id)
        return simulate(spec)
    return run_fn


def _stored_tables(res, run_id: str) -> dict[str, pd.DataFrame]:
    return {"summary": res.summary[res.summary["run_id"] == run_id].reset_index(drop=True),
            "timeseries": res.timeseries().query("run_id == @run_id").reset_index(drop=True),
            "neighbourhoods": res.neighbourhoods().query("run_id == @run_id").reset_index(drop=True)}


def test_a_baseline_no_swept_parameter_applies_to_runs_once_per_replication(tmp_path):
    exp = parse_experiment(_small_experiment("shared", reps=2, parameters={
        "interventions.0.coverage": {"values": [0.2, 0.4, 0.6], "scenarios": ["youth_programs"]}}))
    resolved = resolve(exp)
    calls: list[str] = []
    report = execute(resolved, tmp_path, executor="serial", progress=False, run_fn=_counting(calls))
    # 3 points x 2 reps of the programme, but the baseline only once per replication
    assert (len(calls), len(set(calls))) == (3 * 2 + 2, 8)
    assert (report.done, report.shared, report.failed) == (12, 4, 0)
    res = load_results(report.path)
    assert len(res.runs) == 12 and not res.runs[["scenario", "point", "rep"]].duplicated().any()
    base = res.runs[res.runs["scenario"] == "baseline"].set_index(["point", "rep"])
    for rep in (0, 1):
        simulated = base.loc[(0, rep), "run_id"]
        assert simulated in calls and base.loc[(0, rep), "same_as"] == ""
        for point in (1, 2):
            assert base.loc[(point, rep), "same_as"] == simulated and base.loc[(point, rep), "run_id"] not in calls
            assert base.loc[(point, rep), "seconds"] == 0.0
    assert (res.runs.loc[res.runs["scenario"] == "youth_programs", "same_as"] == "").all()
    # each copy holds exactly the tables simulating it would give, under its own id and point
    specs = {spec.run_id: spec for spec in resolved.runs()}
    copies = base[base["same_as"] != ""]["run_id"].tolist()
    assert len(copies) == 4
    for run_id in copies:
        spec = specs[run_id]
        fresh = simulate(spec).tables
        stored = _stored_tables(res, run_id)
        assert (stored["summary"]["point"] == spec.point).all() and len(stored["timeseries"]) > 0
        keys = {"summary": ["outcome"], "timeseries": ["step"], "neighbourhoods": ["month", "neighbourhood"]}
        for name, by in keys.items():
            pd.testing.assert_frame_equal(stored[name].sort_values(by, ignore_index=True),
                                          fresh[name].sort_values(by, ignore_index=True))
    # pairing by point still finds a baseline at every point
    wide = res.wide()
    assert wide.groupby("point")["scenario"].nunique().eq(2).all()


def test_copies_lost_from_the_store_are_restored_from_the_run_stored_without_simulating(tmp_path):
    import shutil

    exp = parse_experiment(_small_experiment("restore", reps=1, parameters={
        "interventions.0.coverage": {"values": [0.2, 0.5], "scenarios": ["youth_programs"]}}))
    first = execute(resolve(exp), tmp_path, executor="serial", progress=False)
    res = load_results(first.path)
    copy = res.runs.loc[res.runs["same_as"] != "", "run_id"].item()
    before = _stored_tables(res, copy)
    shutil.rmtree(first.path / "runs" / copy)
    calls: list[str] = []
    again = execute(resolve(exp), tmp_path, executor="serial", progress=False, run_fn=_counting(calls))
    assert calls == [] and (again.skipped, again.done, again.shared) == (3, 1, 1)
    after = _stored_tables(load_results(first.path), copy)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


# ---------------------------------------------------------------------------------------------
# Stored runs made by other code are not reused


def test_runs_stored_by_other_code_are_run_again_and_the_rest_reused(tmp_path, capsys):
    from model.results import code_version

    exp = parse_experiment(_small_experiment("recode", reps=2))
    first = execute(resolve(exp), tmp_path, executor="serial", progress=False)
    records = sorted((first.path / "runs").glob("*/run.json"))
    assert len(records) == 4
    assert {json.loads(r.read_text())["code"] for r in records} == {code_version()}
    old = records[0]
    data = json.loads(old.read_text())
    old.write_text(json.dumps({**data, "code": "0123456789abcdef"}))  # as if made before a change to the model
    calls: list[str] = []
    again = execute(resolve(exp), tmp_path, executor="serial", progress=True, run_fn=_counting(calls))
    assert calls == [data["run_id"]] and (again.skipped, again.done) == (3, 1)
    assert "1 runs stored" in capsys.readouterr().err
    assert json.loads(old.read_text())["code"] == code_version()
    # a folder whose runs span two versions of the code says so when analysed
    old.write_text(json.dumps({**json.loads(old.read_text()), "code": "0123456789abcdef"}))
    assert len(load_results(first.path).code_versions) == 2


def test_the_code_version_follows_the_simulation_source_only(tmp_path):
    import shutil

    from model.results import source_fingerprint

    tree = tmp_path / "model"
    shutil.copytree(ROOT / "model", tree, ignore=shutil.ignore_patterns("__pycache__"))
    versions = {"numpy": "2.0", "mesa": "3.3"}
    before = source_fingerprint(tree, versions)
    assert len(before) == 16 and before == source_fingerprint(tree, dict(versions))
    (tree / "report.py").write_text((tree / "report.py").read_text() + "\n# a presentation change\n")
    (tree / "dashboard" / "app.py").write_text((tree / "dashboard" / "app.py").read_text() + "\n# too\n")
    assert source_fingerprint(tree, versions) == before
    assert source_fingerprint(tree, {**versions, "numpy": "2.1"}) != before
    crime = tree / "processes" / "crime.py"
    crime.write_text(crime.read_text().replace("MEMBER_WEIGHT = 3.0", "MEMBER_WEIGHT = 3.5"))
    assert source_fingerprint(tree, versions) != before


def test_outcome_pairs_for_workers_are_plain_data():
    """RunOutcome and RunSpec cross process boundaries: they must pickle without the model."""
    import pickle

    exp = parse_experiment(_small_experiment("pickle", reps=1))
    spec = next(resolve(exp).runs())
    out = simulate(spec)
    assert isinstance(out, RunOutcome) and out.record.status == "ok"
    blob = pickle.dumps(out)
    assert b"SecurityModel" not in blob and len(blob) < 2_000_000
