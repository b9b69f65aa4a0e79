"""Each programme moves its own mechanism in the expected direction, over paired replications.

Every test runs a city of 30,000 (40,000 for violence) for one year, with and without one
programme, with the same seeds (common random numbers), and asserts that the mean paired
difference of the programme's own outcome lies more than two standard errors from zero in the
expected direction. The tests state directions, not calibrated levels: the levels move whenever
the model is re-calibrated, the directions must not. Where a mechanism is rare in a small city
(gang recruitment, gang killings), the scenario raises it (more members, more violence), or the
programme's dose, so that eight replications can see it; the docstring says so.

No spin-up: programmes are off during a spin-up, so it would add the same time to both arms
and nothing to the comparison. ``pytest -s`` prints the measured effect sizes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import simkit

from model.model import SecurityModel
from model.population import Status
from model.processes import rivalry
from model.scenario import Scenario

SEEDS = tuple(range(1, 9))
RESIDENTS, HOODS, YEARS = 30_000, 30, 1.0
STREET = ("robberies", "assaults", "extortions")


def scenario(*interventions: dict, residents: int = RESIDENTS, **fields) -> Scenario:
    return simkit.scenario(residents, HOODS, years=YEARS, interventions=list(interventions), **fields)


@pytest.fixture(scope="module")
def cache() -> dict:
    """Finished baseline runs shared by the tests that use the plain baseline city."""
    return {}


def show(programme: str, outcome: str, p: simkit.Paired) -> None:
    print(f"\n{programme:24s} {outcome:34s} {p}")


def lower(p: simkit.Paired) -> bool:
    """Mean paired difference below zero by more than two standard errors."""
    return p.mean + 2.0 * p.se < 0


def higher(p: simkit.Paired) -> bool:
    return p.mean - 2.0 * p.se > 0


def total(name: str) -> Callable[[SecurityModel, SecurityModel], float]:
    return lambda run, prog: float(np.nansum(simkit.city(run, name)))


def mean(name: str) -> Callable[[SecurityModel, SecurityModel], float]:
    return lambda run, prog: float(np.nanmean(simkit.city(run, name)))


def in_target(*names: str) -> Callable[[SecurityModel, SecurityModel], float]:
    """Total of neighbourhood counts over the programme's (fixed) target, in either arm."""
    def f(run: SecurityModel, prog: SecurityModel) -> float:
        mask = prog.programmes[0].mask
        return float(sum(simkit.hood_total(run, n)[mask].sum() for n in names))
    return f


# ------------------------------------------------------------------------------ youth programmes
def _joins_among_enrolled(seed: int) -> tuple[float, float]:
    """Gang joins, over a year, of the youth the programme enrolled on day one: without it, with it."""
    gangs = {"members_per_100k": 1200, "exit_per_year": 0.3}
    spec = {"type": "youth_programs", "target": {"top_k": 10, "by": "gang_members"}, "coverage": 0.6,
            "duration_years": 3.0, "job_placement": 0.0}
    arms = [SecurityModel(scenario(gangs=gangs), seed=seed), SecurityModel(scenario(spec, gangs=gangs), seed=seed)]
    for m in arms:
        m.step()
    people = arms[1].people
    enrolled = np.flatnonzero(people.has(np.arange(people.size), Status.ENROLLED))
    assert enrolled.size > 300
    joins = []
    for m in arms:
        count, before = 0, m.people.gang[enrolled].copy()
        while m.t < m.scenario.steps:
            m.step()
            now = m.people.gang[enrolled]
            count += int(((before < 0) & (now >= 0)).sum())
            before = now.copy()
        joins.append(float(count))
    return joins[0], joins[1]


def test_youth_programmes_lower_recruitment_of_the_enrolled():
    """The same youth (those enrolled on day one) join gangs less often with the programme than
    without it. Gangs are four times the default size and turn over faster, so a small city has
    enough joins to count; enrolment lasts the whole year. Job placement is off, so the effect is
    the programme's own hazard ratio (placement is checked in test_processes)."""
    pairs = [_joins_among_enrolled(seed) for seed in SEEDS]
    p = simkit.Paired(np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]))
    show("youth_programs", "gang joins among the enrolled", p)
    assert lower(p), p


# ------------------------------------------------------------------------------ policing and justice
def test_community_policing_raises_trust_and_the_reported_share(cache):
    r = simkit.paired(scenario(), scenario({"type": "community_policing"}), SEEDS,
                      {"trust": mean("trust"), "reported_share": mean("reported_share")}, cache)
    show("community_policing", "trust (mean)", r["trust"])
    show("community_policing", "reported share (mean)", r["reported_share"])
    assert higher(r["trust"]), r["trust"]
    assert higher(r["reported_share"]), r["reported_share"]


def test_hotspot_patrol_lowers_street_crime_where_it_patrols(cache):
    spec = {"type": "hotspot_patrol", "target": {"top_k": 6, "by": "crimes_reported"}, "retarget_days": 0}
    r = simkit.paired(scenario(), scenario(spec), SEEDS, {"street": in_target(*STREET)}, cache)
    show("hotspot_patrol", "street crime in the hot spots", r["street"])
    assert lower(r["street"]), r["street"]


def test_rule_of_law_raises_convictions(cache):
    """At full effect from the first day (no ramp), so that a year holds enough verdicts."""
    spec = {"type": "rule_of_law", "ramp_years": 0.0}
    r = simkit.paired(scenario(), scenario(spec), SEEDS, {"convictions": total("convictions")}, cache)
    show("rule_of_law", "convictions", r["convictions"])
    assert higher(r["convictions"]), r["convictions"]


def test_police_vetting_lowers_the_corrupt_share(cache):
    r = simkit.paired(scenario(), scenario({"type": "police_vetting"}), SEEDS,
                      {"corrupt": mean("police_corrupt_share")}, cache)
    show("police_vetting", "corrupt share of police (mean)", r["corrupt"])
    assert lower(r["corrupt"]), r["corrupt"]


def test_situational_prevention_lowers_robbery_where_applied(cache):
    spec = {"type": "situational_prevention", "target": {"top_k": 10, "by": "robberies"}}
    r = simkit.paired(scenario(), scenario(spec), SEEDS, {"robberies": in_target("robberies")}, cache)
    show("situational_prevention", "robberies where applied", r["robberies"])
    assert lower(r["robberies"]), r["robberies"]


# ------------------------------------------------------------------------------ trafficking
def test_border_interdiction_at_the_city_crossings_cuts_inflow_and_shifts_routes(cache):
    spec = {"type": "border_interdiction", "target": {"ids": ["crossing_0", "crossing_1"]}}
    r = simkit.paired(scenario(), scenario(spec), SEEDS,
                      {"inflow": total("contraband_inflow"), "route": mean("route_share_city")}, cache)
    show("border_interdiction", "contraband reaching gangs (kg)", r["inflow"])
    show("border_interdiction", "share of shipments via the city", r["route"])
    assert lower(r["inflow"]), r["inflow"]
    assert lower(r["route"]), r["route"]


def test_info_sharing_raises_seizures(cache):
    r = simkit.paired(scenario(), scenario({"type": "info_sharing"}), SEEDS, {"seizures": total("seizures")}, cache)
    show("info_sharing", "drugs seized (kg)", r["seizures"])
    assert higher(r["seizures"]), r["seizures"]


# ------------------------------------------------------------------------------ gang violence
def test_focused_deterrence_lowers_gang_violence_where_targeted(monkeypatch):
    """Rivalry attacks (every gang attack, lethal or not) in the targeted neighbourhoods. The city
    is violent (150 homicides per 100k, 80% from rivalry) and the dose strong (violence -60%), so
    a year of a 40,000 city holds enough attacks to compare."""
    original = rivalry.step

    def counting(model: SecurityModel, rng: np.random.Generator) -> None:
        before = len(model.incidents._parts)
        original(model, rng)
        counts = model.__dict__.setdefault("_test_attacks", np.zeros(model.world.n_neighbourhoods))
        for part in model.incidents._parts[before:]:
            np.add.at(counts, part[1], 1.0)

    monkeypatch.setattr(rivalry, "step", counting)
    violent = {"residents": 40_000, "crime": {"homicide_rate": 150, "rivalry_share": 0.8, "escalation_share": 0.1}}
    spec = {"type": "focused_deterrence", "target": {"top_k": 10, "by": "homicides"}, "retarget_days": 0,
            "violence_reduction": 0.6}
    base, prog = [], []
    for seed in SEEDS:
        b = simkit.run_model(scenario(**violent), seed)
        p = simkit.run_model(scenario(spec, **violent), seed)
        mask = p.programmes[0].mask
        base.append(b.__dict__.get("_test_attacks", np.zeros(HOODS))[mask].sum())
        prog.append(p.__dict__.get("_test_attacks", np.zeros(HOODS))[mask].sum())
    r = simkit.Paired(np.array(base), np.array(prog))
    show("focused_deterrence", "gang attacks where targeted", r)
    assert r.baseline.mean() > 10  # there is violence to deter
    assert lower(r), r
