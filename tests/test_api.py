"""The notebook API: ``run`` returns pandas tables without touching disk; ``save`` writes a run.

The column names are the project's contract with notebooks, the runner and the report, so the
required outcome columns are named here explicitly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from model import RunResult, load_scenario, run
from model.cli import main
from model.metrics import CITY_OUTCOMES
from model.scenario import scenario_hash

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["city.residents=4000", "city.neighbourhoods=10"]
REQUIRED = ("homicides", "homicides_reported", "robberies", "extortions", "trust", "fear", "gang_members",
            "recruits", "contraband_inflow", "seizures", "cost_usd")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def result() -> RunResult:
    """A small CARSI-package run of about two months."""
    sc = load_scenario(ROOT / "scenarios" / "carsi_package.yaml", overrides=SMALL)
    return run(sc, seed=7, years=0.17)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_run_returns_dataframes_and_writes_nothing(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    before = listing(tmp_path)
    calls: list[tuple[int, int]] = []
    r = run(ROOT / "scenarios" / "baseline.yaml", seed=2, years=0.05, overrides=SMALL,
            progress=lambda done, total: calls.append((done, total)))
    assert listing(tmp_path) == before
    assert isinstance(r.timeseries, pd.DataFrame)
    assert isinstance(r.neighbourhoods, pd.DataFrame)
    assert isinstance(r.summary, pd.DataFrame)
    steps = int(round(0.05 * 365))
    assert len(r.timeseries) == steps
    assert calls[-1] == (steps, steps) and len(calls) == steps
    assert r.seed == 2 and (r.timeseries["seed"] == 2).all()


def test_timeseries_columns_are_snake_case_and_include_the_main_outcomes(result: RunResult):
    ts = result.timeseries
    for column in ts.columns:
        assert SNAKE.match(column), column
    for name in REQUIRED:
        assert name in ts.columns, name
        assert pd.api.types.is_float_dtype(ts[name]) or pd.api.types.is_integer_dtype(ts[name])
    assert set(CITY_OUTCOMES) <= set(ts.columns)
    assert (ts["step"].diff().dropna() == 1).all()
    assert ts["cost_usd"].sum() > 0  # the package's programmes are paid for
    assert (ts["homicides_reported"] <= ts["homicides"]).all()


def test_neighbourhood_table_has_one_row_per_neighbourhood_per_month(result: RunResult):
    nb = result.neighbourhoods
    for column in nb.columns:
        assert SNAKE.match(column), column
    months = nb["month"].nunique()
    assert months == 3  # 0.17 years of days spans three calendar months of the run
    assert len(nb) == months * 10
    assert set(nb["neighbourhood"]) == set(range(10))
    for name in ("homicides", "robberies", "extortions", "trust", "fear", "gang_members", "recruits", "cost_usd"):
        assert name in nb.columns, name
    # neighbourhood counts add up to the city's
    for name in ("homicides", "robberies", "recruits"):
        assert nb[name].sum() == pytest.approx(result.timeseries[name].sum())


def test_summary_has_one_row_per_outcome_with_years_and_total(result: RunResult):
    s = result.summary.set_index("outcome")
    assert set(REQUIRED) <= set(s.index)
    assert {"label", "unit", "kind", "per_year", "all_years", "year_1"} <= set(s.columns)
    assert s.loc["homicides", "all_years"] == pytest.approx(result.timeseries["homicides"].sum())
    assert s.loc["trust", "all_years"] == pytest.approx(result.timeseries["trust"].mean())


def test_save_writes_the_tables_manifest_and_plot(result: RunResult, tmp_path: Path):
    out = result.save(tmp_path / "run")
    names = set(listing(out))
    assert {"timeseries.parquet", "neighbourhoods.parquet", "summary.csv", "manifest.json"} <= names
    assert any(n.endswith(".png") for n in names)
    png = next(out.glob("*.png")).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pd.testing.assert_frame_equal(pd.read_parquet(out / "timeseries.parquet"), result.timeseries)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "neighbourhoods.parquet"), result.neighbourhoods)
    assert len(pd.read_csv(out / "summary.csv")) == len(result.summary)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario_hash"] == scenario_hash(result.scenario)
    assert manifest["seed"] == 7
    assert "git_commit" in manifest
    assert {"numpy", "mesa", "pandas"} <= set(manifest["versions"])
    assert manifest["resolved_scenario"]["city"]["residents"] == 4000
    # no temporary folders left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_save_replaces_an_earlier_run_in_the_same_folder(result: RunResult, tmp_path: Path):
    out = tmp_path / "run"
    result.save(out, plot=False)
    (out / "stale.txt").write_text("left over", encoding="utf-8")
    result.save(out, plot=False)
    assert not (out / "stale.txt").exists()
    assert not any(out.glob("*.png"))


def test_run_with_a_path_overrides_and_years_matches_loading_first():
    a = run(ROOT / "scenarios" / "baseline.yaml", seed=3, years=0.05, overrides=SMALL)
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml", overrides=SMALL, years=0.05)
    b = run(sc, seed=3)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)


def test_cli_run_writes_one_folder_named_by_scenario_seed_and_hash(tmp_path: Path, capsys):
    code = main(["run", str(ROOT / "scenarios" / "baseline.yaml"), "--years", "0.05", "--seed", "4",
                 "--quiet", "--no-plot", "--out", str(tmp_path), *[a for s in SMALL for a in ("--set", s)]])
    out, err = capsys.readouterr()
    assert code == 0, err
    folders = [p for p in (tmp_path / "baseline").iterdir()]
    assert len(folders) == 1 and folders[0].name.startswith("seed-4-")
    assert (folders[0] / "timeseries.parquet").exists()
    assert "Homicides" in out
