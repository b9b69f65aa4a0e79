"""Every shipped scenario file loads, validates and runs (on a small city, for a few weeks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from model import load_scenario
from model.cli import main
from model.metrics import CITY_OUTCOMES
from model.model import SecurityModel
from model.scenario import Scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
SMALL = ["city.residents=4000", "city.neighbourhoods=12"]


def test_scenarios_are_shipped():
    names = {f.stem for f in FILES}
    assert {"baseline", "carsi_package"} <= names
    assert len(FILES) >= 11  # the baseline, one per programme, and the package


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_shipped_scenario_loads_and_runs_a_few_weeks(path: Path):
    sc = load_scenario(path, overrides=SMALL)
    assert isinstance(sc, Scenario)
    assert sc.name  # set by the file, or its stem
    assert sc.city.residents == 4000
    # the resolved scenario round-trips through its own YAML
    assert parse_scenario(yaml.safe_load(sc.to_yaml())).model_dump() == sc.model_dump()
    m = SecurityModel(sc, seed=1)
    m.run(30)
    assert m.recorder.steps_recorded == 30
    assert m.people.size == 4000
    assert len(m.programmes) == len(sc.interventions)
    # a programme that has started by now is being paid for
    started = [p for p in sc.interventions if p.start_year * sc.steps_per_year < 30]
    total_cost = np.nansum(m.recorder.city[:30, CITY_OUTCOMES.index("cost_usd")])
    assert (total_cost > 0) == bool(started)


def test_validate_accepts_every_shipped_scenario(capsys):
    code = main(["validate", *map(str, FILES)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    assert out.count(": ok (") == len(FILES)
