"""The baseline is stationary: "what happens if nothing changes" must not trend on its own.

Calibration puts the city at the model's own steady state (ODD.md §5): each cohort that comes of
age carries the youth activity mix, and the custody stocks are filled from the arrests the
processes actually make. Before these fixes the baseline's robberies and assaults fell by 5-6%
over three recorded years (every cohort entering the youth ages was in school) and the prisons
drained while membership crept up; and resident-weighted gang control crept up ~1% a year because
the builder's members sat off the spread their own flows keep (too few where many young people
live), so recruitment moved them over years and territory followed. The test runs the baseline
city, smaller (50,000 residents), over 16 paired seeds with the default spin-up, and compares each
recorded year with the first.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.api import run
from model.population import YOUTH_AGES, Status
from model.scenario import load_scenario

SEEDS = range(16)
OVERRIDES = ["city.residents=50000", "city.neighbourhoods=30"]


@pytest.fixture(scope="module")
def yearly(scenarios_dir) -> dict[str, np.ndarray]:
    """Per seed (rows) and recorded year (columns): yearly totals of counts, yearly means of levels."""
    scenario = load_scenario(scenarios_dir / "baseline.yaml", overrides=OVERRIDES)
    sums = ["robberies", "assaults", "extortions", "homicides"]
    means = ["incarcerated", "gang_members", "gang_control", "fear", "trust"]
    rows: dict[str, list] = {name: [] for name in sums + means}
    for seed in SEEDS:
        ts = run(scenario, seed=seed).timeseries
        year = ts["step"] // 365
        for name in sums:
            rows[name].append(ts.groupby(year)[name].sum().to_numpy())
        for name in means:
            rows[name].append(ts.groupby(year)[name].mean().to_numpy())
    return {name: np.array(values, dtype=float) for name, values in rows.items()}


def drift(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each year's mean relative to year 1's, minus 1, and its paired standard error over seeds."""
    change = (values - values[:, :1]) / values[:, :1].mean()
    return change.mean(axis=0), change.std(axis=0, ddof=1) / np.sqrt(values.shape[0])


# outcome: largest drift allowed in any recorded year, as a fraction of year 1 (and in standard errors)
TOLERANCE = {
    "robberies": 0.03,  # was -5.5% by year 3
    "assaults": 0.03,  # was -6%
    "incarcerated": 0.03,  # was -6% (custody stocks filled above their steady state)
    "trust": 0.02,
    "fear": 0.03,
    "gang_members": 0.04,
    "gang_control": 0.015,  # was +1.6% in year 2 and +2.2% in year 3 (members started off their stationary spread)
}


@pytest.mark.parametrize("name", sorted(TOLERANCE))
def test_baseline_levels_hold_year_after_year(yearly, name: str):
    mean, se = drift(yearly[name])
    assert np.all(np.abs(mean) <= TOLERANCE[name]), (name, mean.round(4), se.round(4))


@pytest.mark.parametrize("name", ["extortions", "homicides"])
def test_noisier_counts_stay_within_noise_of_year_one(yearly, name: str):
    mean, se = drift(yearly[name])
    assert np.all(np.abs(mean) <= np.maximum(0.03, 2.5 * se)), (name, mean.round(4), se.round(4))


def test_children_come_of_age_with_the_youth_activity_mix(scenarios_dir):
    """Every cohort turning 12 has the youth mix of school, work and neither (not all in school)."""
    from model.model import SecurityModel

    scenario = load_scenario(scenarios_dir / "baseline.yaml", overrides=["city.residents=40000",
                                                                        "city.neighbourhoods=20",
                                                                        "spin_up_years=0"])
    m = SecurityModel(scenario, seed=3)
    people = m.people
    age = people.age(np.arange(people.size), 0)
    youth = (age >= YOUTH_AGES[0]) & (age <= YOUTH_AGES[1])
    children = (age >= 6) & (age < YOUTH_AGES[0])
    for flag in (Status.SCHOOL, Status.EMPLOYED):
        share_youth = float(((people.status[youth] & flag) != 0).mean())
        share_children = float(((people.status[children] & flag) != 0).mean())
        assert abs(share_children - share_youth) < 0.02, (flag, share_children, share_youth)


@pytest.mark.parametrize("seed", [0, 1])
def test_rivalry_starts_on_its_share_of_the_homicide_target(scenarios_dir, seed: int):
    """The killings rivalry expects on the first recorded day are its share of the homicide target.

    Rivalry makes ~55% of homicides; the re-calibration after the spin-up scaled its attacks while
    the gangs' drug-supply memories still held the spun-up scarcity (which raises attacks), then
    restarted those memories, and it counted each killing's retaliation without the day's decay
    of the memory that rivalry reads after ``begin_step``: rivalry started 1-4% below its share (by
    seed) and year-1 homicides below 50 per 100k. Expected killings as ``rivalry.step`` draws them:
    attacks (structural and retaliation) x their lethality, after the day's decay.
    """
    from model.model import SecurityModel
    from model.processes import rivalry

    scenario = load_scenario(scenarios_dir / "baseline.yaml", overrides=OVERRIDES)
    m = SecurityModel(scenario, seed=seed)
    target = scenario.crime.rivalry_share * scenario.crime.homicide_rate * m.people.size / 1e5 * m.dt_years
    m.begin_step()
    kill_p = np.clip(rivalry.ATTACK_LETHALITY * m.lethality(), 0.0, 1.0)
    expected = float((rivalry.attack_rate(m) * kill_p).sum())
    # left: one day's decay of the supply memory (scarcity ~1%, x scarcity_violence 0.5, on ~80% of attacks)
    assert expected == pytest.approx(target, rel=0.006), expected / target
