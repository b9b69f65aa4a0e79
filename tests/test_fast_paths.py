"""Fast paths give the bits of the plain code they stand in for.

Where a step works something out in a cheaper form (a grid instead of one type at a time, Python
numbers for a handful of events instead of arrays), the results must be exactly those of the plain
form: the same numbers and, where random numbers are drawn, the same draws. The fingerprints of
``benchmarks/fingerprint.py`` proved it when each path was written; these tests keep it so.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.model import SecurityModel
from model.processes import reporting
from model.scenario import Scenario


def _model(seed: int, steps: int, **extra) -> SecurityModel:
    scenario = Scenario(city={"residents": 6000, "neighbourhoods": 12}, years=0.2, spin_up_years=0, **extra)
    return SecurityModel(scenario, seed=seed).run(steps)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reporting_grid_is_report_probability_type_by_type(seed: int) -> None:
    m = _model(seed, 20 * seed + 5, interventions=[{"type": "community_policing"}])
    mix, _, base, intimidated = m._crime_types()
    trust = m.trust()
    grid = reporting.report_probability_grid(m, base, intimidated, trust)
    types = np.flatnonzero(np.asarray(m.cal.crime_mix) != 0)
    hoods = np.arange(m.world.n_neighbourhoods)
    assert grid.shape == (types.size, hoods.size)
    for row, c in enumerate(types):
        plain = reporting.report_probability(m, np.full(hoods.size, c), hoods, trust)
        assert np.array_equal(grid[row], plain)
