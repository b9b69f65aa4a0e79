"""The batch commands: compare, sweep, analyze — output tables, exit codes, one-line input errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main
from model.store import load_results

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios"
EXP = ROOT / "experiments"
SMALL = ["--set", "city.residents=5000", "city.neighbourhoods=10"]


def _exp(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text.replace("SCEN", str(SCEN)), encoding="utf-8")
    return path


GOOD = """name: fine
scenarios: [SCEN/baseline.yaml, SCEN/youth_programs.yaml]
replications: 2
years: 0.1
parameters:
  interventions.0.coverage: {low: 0.1, high: 0.5, scenarios: [youth_programs]}
sampler: {method: lhs, samples: 2, seed: 3}
"""

BAD = [
    ("replications: 2", "replicatoins: 2", "replicatoins: expected", "did you mean 'replications'"),
    ("sampler: {method: lhs, samples: 2, seed: 3}", "sampler: {metod: lhs}", "sampler.metod",
     "did you mean 'method'"),
    ("sampler: {method: lhs, samples: 2, seed: 3}", "sampler: {method: sobol, samples: 6}", "sampler:",
     "power of 2"),
    ("interventions.0.coverage: {low: 0.1, high: 0.5, scenarios: [youth_programs]}",
     "police.oficers_per_100k: {low: 100, high: 200}", "parameters.police.oficers_per_100k",
     "did you mean 'officers_per_100k'"),
    ("interventions.0.coverage: {low: 0.1, high: 0.5, scenarios: [youth_programs]}",
     "interventions.0.coverage: {low: 0.1, high: 1.5, scenarios: [youth_programs]}",
     "interventions[0].coverage", "less than or equal to 1"),
    ("interventions.0.coverage: {low: 0.1, high: 0.5, scenarios: [youth_programs]}",
     "interventions.0.coverage: {low: 0.1, high: 0.5, scenarios: [youth_program]}",
     "parameters.interventions.0.coverage.scenarios", "did you mean 'youth_programs'"),
    ("interventions.0.coverage: {low: 0.1, high: 0.5, scenarios: [youth_programs]}",
     "interventions.0.coverage: {low: 0.5, high: 0.1}", "parameters.interventions.0.coverage", "low < high"),
    ("replications: 2", "replications: two", "replications", "valid integer"),
    ("years: 0.1", "years: [0.1", "line", "valid YAML"),
    ("SCEN/youth_programs.yaml", "SCEN/youth.yaml", "scenarios[1]", "no file"),
]


@pytest.mark.parametrize(("old", "new", "field", "expected"), BAD)
def test_a_malformed_experiment_file_gets_one_line_exit_2_and_nothing_written(tmp_path, capsys, old, new, field,
                                                                             expected):
    assert old in GOOD
    path = _exp(tmp_path, GOOD.replace(old, new))
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith(str(path)) and field in err and expected in err and "expected" in err
    assert not out.exists()


def test_the_command_itself_exits_2_without_a_traceback(tmp_path):
    path = _exp(tmp_path, GOOD.replace("replications: 2", "replicatoins: 2"))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "model", "sweep", str(path), "--out", str(out)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "did you mean 'replications'" in proc.stderr
    assert not out.exists()


def test_compare_with_a_bad_override_or_missing_file_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["compare", str(SCEN / "baseline.yaml"), str(SCEN / "carsi_package.yaml"), "--out", str(out),
                 "--set", "city.residents=lots"])
    assert code == 2 and "city.residents" in capsys.readouterr().err
    code = main(["compare", str(SCEN / "baseline.yaml"), str(tmp_path / "nope.yaml"), "--out", str(out)])
    assert code == 2 and "nope.yaml" in capsys.readouterr().err
    assert not out.exists()


def test_compare_prints_paired_effects_and_cost_and_writes_tables(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["compare", str(SCEN / "baseline.yaml"), str(SCEN / "carsi_package.yaml"), "--reps", "3",
                 "--years", "0.25", "--workers", "2", "--out", str(out), "--quiet", *SMALL])
    text = capsys.readouterr().out
    assert code == 0
    folder = out / "compare_baseline_vs_carsi_package"
    assert "carsi_package vs baseline: 3 paired replications" in text
    for word in ("Homicides", "95% CI", "change", "cost per homicide averted", "cost per crime averted"):
        assert word in text
    effects = pd.read_csv(folder / "effects.csv")
    assert set(effects["scenario"]) == {"carsi_package"} and (effects["n"] == 3).all()
    homicides = effects.set_index("outcome").loc["homicides"]
    res = load_results(folder)
    h = res.summary.query("outcome == 'homicides'").pivot(index="rep", columns="scenario", values="value")
    assert homicides["diff"] == pytest.approx((h["carsi_package"] - h["baseline"]).mean())
    cost = pd.read_csv(folder / "cost_effectiveness.csv")
    assert set(cost["measure"]) == {"homicides", "crimes"}
    assert cost["extra_cost"].gt(0).all()  # the package costs money; the baseline costs nothing
    if (ROOT / "model" / "report.py").exists():
        assert (folder / "report.html").stat().st_size > 1000


def test_a_failed_run_is_recorded_and_the_command_exits_1(tmp_path, capsys, monkeypatch):
    import model.runner

    real = model.runner._run_tables

    def fail_seed_1(spec):
        if spec.seed == 1:
            raise RuntimeError("numerical trouble")
        return real(spec)

    monkeypatch.setattr(model.runner, "_run_tables", fail_seed_1)
    out = tmp_path / "out"
    argv = ["compare", str(SCEN / "baseline.yaml"), str(SCEN / "youth_programs.yaml"), "--reps", "3", "--years",
            "0.1", "--executor", "serial", "--out", str(out), "--quiet", *SMALL]
    assert main(argv) == 1
    text = capsys.readouterr().out
    assert "2 failed" in text and "numerical trouble" in text
    folder = out / "compare_baseline_vs_youth_programs"
    failed = pd.read_csv(folder / "failed_runs.csv")
    assert sorted(failed["scenario"]) == ["baseline", "youth_programs"] and set(failed["seed"]) == {1}
    assert failed["error"].str.contains("RuntimeError: numerical trouble").all()
    assert main(["analyze", str(folder), "--no-report"]) == 1  # still failed until run again
    monkeypatch.setattr(model.runner, "_run_tables", real)
    assert main(argv) == 0
    assert "2 runs done, 0 failed, 4 already stored" in capsys.readouterr().out


def test_sweep_youth_vs_police_runs_every_scenario_at_every_grid_point(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["sweep", str(EXP / "youth_vs_police.yaml"), "--reps", "1", "--years", "0.1", "--out", str(out),
                 "--quiet", *SMALL])
    assert code == 0
    res = load_results(out / "youth_vs_police")
    assert len(res.runs) == 2 * 9
    grid = res.runs.query("scenario == 'youth_programs'")
    assert sorted(set(zip(grid["interventions.0.coverage"], grid["police.officers_per_100k"], strict=True))) == \
        [(c, p) for c in (0.1, 0.35, 0.6) for p in (150.0, 275.0, 400.0)]
    effects = pd.read_csv(out / "youth_vs_police" / "effects.csv")
    assert set(effects["point"]) == set(range(9))
    assert "youth_programs vs baseline" in capsys.readouterr().out


def test_sweep_with_sobol_samples_gives_sensitivity_indices(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["sweep", str(EXP / "youth_vs_police_sobol.yaml"), "--reps", "1", "--years", "0.1", "--out",
                 str(out), "--quiet", *SMALL])
    assert code == 0
    res = load_results(out / "youth_vs_police_sobol")
    m = res.manifest
    assert m["sampler"] == "sobol" and len(m["points"]) == 8 * (3 + 2) == len(res.runs)
    from SALib.sample import sobol

    X = sobol.sample(m["problem"], 8, calc_second_order=False, scramble=True, seed=1)
    stored = [[p[n] for n in m["problem"]["names"]] for p in m["points"]]
    assert stored == X.tolist()
    indices = pd.read_csv(out / "youth_vs_police_sobol" / "sensitivity_sobol.csv")
    assert set(indices["parameter"]) == set(m["problem"]["names"])
    assert {"S1", "ST", "outcome"} <= set(indices.columns)


def test_compare_on_a_dask_scheduler_address_matches_the_serial_run(tmp_path, capsys):
    from distributed import LocalCluster

    argv = ["compare", str(SCEN / "baseline.yaml"), str(SCEN / "youth_programs.yaml"), "--reps", "2", "--years",
            "0.1", "--quiet", *SMALL]
    assert main([*argv, "--executor", "serial", "--out", str(tmp_path / "serial")]) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main([*argv, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask")]) == 0
    assert "on dask (tcp://" in capsys.readouterr().out
    name = "compare_baseline_vs_youth_programs"
    a, b = load_results(tmp_path / "serial" / name), load_results(tmp_path / "dask" / name)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.neighbourhoods(outcomes=["crimes"]), b.neighbourhoods(outcomes=["crimes"]))


@pytest.mark.parametrize("path", sorted(EXP.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_experiment_file_resolves(path):
    from model.experiment import load_experiment, resolve

    resolved = resolve(load_experiment(path), str(path), path.parent)
    assert resolved.n_runs == len(resolved.entries) * len(resolved.points) * resolved.experiment.replications
    assert resolved.baseline in [e.name for e in resolved.entries]


def test_the_notebook_api_is_exported_from_the_package():
    import model
    from model.runner import compare, sweep
    from model.store import load_results as loader

    assert (model.compare, model.sweep, model.load_results) == (compare, sweep, loader)
    assert {"compare", "sweep", "load_results"} <= set(model.__all__)
