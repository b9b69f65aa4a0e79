"""Invariants that hold for any scenario: checked on random small cities with hypothesis.

Each example draws a city (size, neighbourhoods, gangs, police strategy, custody rule, time step)
and a few programmes at random intensities, runs it for a short horizon and checks, every few
steps, the accounting identities no valid model may break: nobody appears or vanishes, no count
goes negative, shares stay shares, reported crime never exceeds true crime, every gang id is a
real gang, and the people held in custody are exactly those with a case or a sentence.
"""

from __future__ import annotations

import numpy as np
import simkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.interventions import REGISTRY
from model.metrics import CITY_OUTCOMES, OUTCOMES
from model.model import SecurityModel
from model.population import Status
from model.scenario import Scenario

PAIRS = (("homicides", "homicides_reported"), ("robberies", "robberies_reported"),
         ("extortions", "extortions_reported"), ("assaults", "assaults_reported"),
         ("drug_sales", "drug_sales_detected"), ("crimes", "crimes_reported"))
SHARES = ("reported_share", "fear", "trust", "gang_control", "police_corrupt_share", "route_share_city",
          "economic_activity")


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A small random city with up to three programmes; horizon of a few dozen steps."""
    residents = draw(st.integers(500, 4000))
    k = draw(st.integers(1, min(12, residents // 20)))
    steps_per_year = draw(st.sampled_from([365, 52, 12]))
    steps = {365: 60, 52: 20, 12: 8}[steps_per_year]
    years = steps / steps_per_year
    names = draw(st.lists(st.sampled_from(sorted(REGISTRY)), max_size=3, unique=True))
    programmes = [
        {"type": name, "intensity": draw(st.sampled_from([0.0, 0.5, 1.0, 4.0])),
         "start_year": draw(st.sampled_from([0.0, years / 2]))}
        for name in names
    ]
    crossings = draw(st.integers(1, 5))
    return simkit.scenario(
        residents, k, years=years, steps_per_year=steps_per_year,
        spin_up_years=draw(st.sampled_from([0.0, 0.05])),
        city={"layout": draw(st.sampled_from(["geometric", "grid"])),
              "disadvantage_spread": draw(st.sampled_from([0.0, 0.2, 0.5]))},
        gangs={"count": draw(st.integers(0, 3)), "members_per_100k": draw(st.sampled_from([0, 300, 3000]))},
        police={"strategy": draw(st.sampled_from(["uniform", "reported_crime", "hotspot", "community"])),
                "corrupt_share": draw(st.sampled_from([0.0, 0.2, 1.0]))},
        justice={"detain_pending": draw(st.booleans())},
        trafficking={"crossings": crossings, "city_crossings": draw(st.integers(1, crossings))},
        interventions=programmes,
    )


def check(m: SecurityModel, residents: int) -> None:
    """Every invariant, as the model stands after a step."""
    people = m.people
    ids = np.arange(people.size)
    # population conserved, blocks intact
    assert people.size == residents == int(m.world.residents.sum())
    assert (np.bincount(people.home, minlength=m.world.n_neighbourhoods) == m.world.residents).all()
    # gang ids are real gangs; active counts agree with the person arrays and are never negative
    g = m.scenario.gangs.count
    assert ((people.gang >= -1) & (people.gang < g)).all()
    assert (m.gang_members >= 0).all()
    assert (m.gang_members == simkit.recount_members(m)).all()
    # custody: the detained are exactly the people with a sentence or (if held pending) a case
    detained = set(np.flatnonzero(people.has(ids, Status.DETAINED)).tolist())
    held = set(m.justice.prison_person.tolist())
    if m.scenario.justice.detain_pending:
        held |= set(m.justice.case_person.tolist())
    assert detained == held
    assert np.unique(m.justice.prison_person).size == m.justice.prison_person.size
    # moods and territory stay within [0, 1]
    for values in (m.fear(), m.trust(), m.presence(), m.control.ravel(), m.police.corrupt_share):
        assert ((values >= 0) & (values <= 1)).all()
    # today's tallies and stocks are never negative
    for name, values in m.tally.hood.items():
        assert (values >= 0).all(), name
    for name, value in m.tally.city.items():
        assert value >= 0, name
    for gang in m.gang_list:
        assert gang.cash >= 0 and gang.weapons >= 0 and gang.drug_stock_kg >= -1e-9
    assert (m.police.unit_officers >= 0).all() and (m.police.effective >= -1e-9).all()
    for name, values in m.tally.hood.items():
        if name.endswith("_reported"):
            assert (values <= m.tally.hood[name.removesuffix("_reported")]).all(), name


def check_recorded(m: SecurityModel) -> None:
    """The recorded city series: counts >= 0, shares in [0, 1], reported <= true."""
    table = m.recorder.city[: m.recorder.steps_recorded]
    col = {name: table[:, i] for i, name in enumerate(CITY_OUTCOMES)}
    for name, o in OUTCOMES.items():
        if o.is_count:
            assert (col[name] >= 0).all(), name
    for name in SHARES:
        values = col[name][~np.isnan(col[name])]
        assert ((values >= 0) & (values <= 1)).all(), name
    for true, reported in PAIRS:
        assert (col[reported] <= col[true]).all(), reported
    assert not np.isnan(col["homicides"]).any()


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_random_small_cities_keep_every_invariant(sc: Scenario, seed: int):
    m = SecurityModel(sc, seed=seed)
    check(m, sc.city.residents)
    every = max(1, sc.steps // 6)
    while m.t < sc.steps:
        m.run(min(every, sc.steps - m.t))
        check(m, sc.city.residents)
    check_recorded(m)


def test_a_violent_city_with_the_whole_package_keeps_every_invariant():
    """One denser example than the random ones: many gangs, every programme, a full year."""
    sc = simkit.scenario(6000, 12, years=1.0, gangs={"count": 4, "members_per_100k": 2000},
                         crime={"homicide_rate": 150},
                         interventions=[{"type": name} for name in sorted(REGISTRY)])
    m = SecurityModel(sc, seed=21)
    while m.t < sc.steps:
        m.run(73)
        check(m, 6000)
    check_recorded(m)
    nb = m.recorder.hood_table()
    assert (nb >= 0).all()


def test_people_awaiting_trial_at_home_can_be_sentenced_twice_without_breaking_custody():
    """With ``detain_pending: false`` a suspect at home can be arrested and convicted again; the
    sentences must merge (one prison row, the later release), or the first release would free
    someone still serving and count a member back twice."""
    sc = simkit.scenario(5000, 8, years=1.0, gangs={"members_per_100k": 3000}, crime={"homicide_rate": 150},
                         justice={"detain_pending": False, "case_days": 20, "prosecution_probability": 1.0,
                                  "conviction_probability": 1.0},
                         police={"proactive_arrests_per_officer_year": 20})
    m = SecurityModel(sc, seed=2)
    while m.t < sc.steps:
        m.run(30)
        check(m, 5000)
    assert m.justice.prison_person.size > 50


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 80), layout=st.sampled_from(["geometric", "grid"]), columns=st.integers(0, 3),
       seed=st.integers(0, 2**16))
def test_spread_is_the_sparse_product_bit_for_bit(k: int, layout: str, columns: int, seed: int) -> None:
    """World.spread's padded tables give exactly adjacency.T @ values (isolated nodes, any degree)."""
    from model.rng import Streams
    from model.world import build_world

    scenario = simkit.scenario(max(20 * k, 500), k, city={"layout": layout})
    world = build_world(scenario, Streams(seed).get("world"))
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1e3, (k, columns) if columns else k)
    expected = world.adjacency.T.tocsr() @ values
    got = world.spread(values)
    assert got.shape == expected.shape
    assert np.array_equal(got.view(np.int64), np.asarray(expected).view(np.int64))
