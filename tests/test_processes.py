"""Single rules on tiny hand-built worlds: each process does what its docstring says and no more.

Every test builds a city of a few thousand people, puts the model into a known state by direct
manipulation (a calibrated constant raised, a lever turned, a control share set), runs one
process and checks the result against what the rule implies, usually exactly.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import simkit

from model.levers import _ADDITIONS, _MULTIPLIERS, Levers
from model.model import SecurityModel
from model.population import Status
from model.processes import census, common, crime, enforcement, justice, perception, policing, recruitment, reporting
from model.processes import trafficking as traffic
from model.state import ASSAULT, EXTORTION, HOMICIDE, ROBBERY

GANGLAND = {"members_per_100k": 2500}  # enough members in a small city to see every rule act


def everyone(m) -> np.ndarray:
    return np.arange(m.people.size)


# ------------------------------------------------------------------------------ recruitment
def test_recruitment_takes_only_free_youth_outside_gangs_and_counts_them_where_they_live():
    m = simkit.build(4000, 4, seed=2, gangs={**GANGLAND, "exit_per_year": 0.0})
    m.begin_step()
    people = m.people
    ids = everyone(m)
    youth = people.is_youth(ids, m.day)
    # hold half of the free non-member youth in custody: they must not be recruited
    candidates = np.flatnonzero(youth & (people.gang < 0) & people.free(ids))
    held = candidates[::2]
    people.set_flag(held, Status.DETAINED)
    m.cal.recruitment_per_year = 400.0  # many joiners in a single step
    gang_before, members_before = people.gang.copy(), m.gang_members.copy()

    recruitment.step(m, m.streams.get("recruitment"))

    joined = np.flatnonzero((gang_before < 0) & (people.gang >= 0))
    assert joined.size > 30
    assert people.is_youth(joined, m.day).all()
    assert people.free(joined).all()
    assert not np.isin(joined, held).any()
    assert ((gang_before >= 0) == (people.gang >= 0))[np.setdiff1d(ids, joined)].all()  # nobody left
    expected = np.zeros_like(members_before)
    np.add.at(expected, (people.gang[joined].astype(np.int64), people.home[joined]), 1)
    assert (m.gang_members - members_before == expected).all()
    assert (m.tally.hood["recruits"] == np.bincount(people.home[joined], minlength=4)).all()


def test_recruits_join_only_where_gangs_are_present_and_the_gang_that_is():
    m = simkit.build(4000, 4, seed=3, gangs={**GANGLAND, "exit_per_year": 0.0})
    m.begin_step()
    m.control[:, 0] = 0.0  # no gang in neighbourhood 0
    m.control[:, 1] = [0.9, 0.0]  # only gang 0 in neighbourhood 1
    m.cal.recruitment_per_year = 400.0
    before = m.people.gang.copy()
    recruitment.step(m, m.streams.get("recruitment"))
    joined = np.flatnonzero((before < 0) & (m.people.gang >= 0))
    homes = m.people.home[joined]
    assert (homes != 0).all()
    assert (homes == 1).sum() > 5
    assert (m.people.gang[joined[homes == 1]] == 0).all()


def test_enrolled_youth_have_a_lower_joining_hazard_by_the_programme_lever():
    m = simkit.build(3000, 4, seed=4, gangs=GANGLAND)
    ids = np.flatnonzero(m.people.is_youth(everyone(m), m.day) & (m.people.gang < 0))[:50]
    before = recruitment.person_hazard(m, ids)
    m.people.set_flag(ids, Status.ENROLLED)
    m.levers.enrolled_recruitment = 0.5
    after = recruitment.person_hazard(m, ids)
    assert np.allclose(after, 0.5 * before)
    assert (before > 0).all()
    # members and adults have no joining hazard at all
    adults = np.flatnonzero(m.people.age(everyone(m), m.day) > 30)[:20]
    assert (recruitment.person_hazard(m, adults) == 0).all()


def test_exits_remove_free_members_and_decrement_where_they_live():
    m = simkit.build(4000, 4, seed=5, gangs={**GANGLAND, "exit_per_year": 1.0})
    m.begin_step()
    m.cal.recruitment_per_year = 0.0
    m.levers.exit[:] = 1000.0  # the daily exit probability clips to 1: every member is a candidate today
    people = m.people
    gang_before, members_before = people.gang.copy(), m.gang_members.copy()
    free_before = people.free(everyone(m))

    recruitment.step(m, m.streams.get("recruitment"))

    left = np.flatnonzero((gang_before >= 0) & (people.gang < 0))
    assert left.size > 10
    assert free_before[left].all()  # only free members leave (the detained are not drawn)
    assert not ((gang_before < 0) & (people.gang >= 0)).any()
    expected = np.zeros_like(members_before)
    np.add.at(expected, (gang_before[left].astype(np.int64), people.home[left]), 1)
    assert (members_before - m.gang_members == expected).all()
    assert (m.gang_members == simkit.recount_members(m)).all()
    assert m.tally.hood["gang_exits"].sum() == left.size


# ------------------------------------------------------------------------------ arrests and justice
def _free_members(m, n: int) -> np.ndarray:
    ids = np.flatnonzero((m.people.gang >= 0) & m.people.free(everyone(m)))
    assert ids.size >= n
    return ids[:n]


def _free_civilians(m, n: int) -> np.ndarray:
    ids = np.flatnonzero((m.people.gang < 0) & m.people.free(everyone(m)))
    return ids[:n]


def test_arrest_detains_opens_cases_and_takes_members_off_the_active_count():
    m = simkit.build(4000, 4, seed=6, gangs=GANGLAND)
    m.begin_step()
    rng = m.streams.get("enforcement")
    members, civilians = _free_members(m, 8), _free_civilians(m, 5)
    held = _free_civilians(m, 7)[5:]
    m.people.set_flag(held, Status.DETAINED)  # already in custody: skipped
    cases_before = m.justice.case_person.size
    members_before = m.gang_members.copy()
    ids = np.concatenate([members, civilians, members[:3], held, [-1]])  # duplicates and a miss
    kind = np.full(ids.size, ROBBERY, np.int8)
    enforcement.arrest(m, rng, ids, kind, m.people.home[np.maximum(ids, 0)])

    new = np.concatenate([members, civilians])
    assert not m.people.free(new).any()
    assert m.justice.case_person.size == cases_before + new.size
    assert set(m.justice.case_person[cases_before:]) == set(new)
    assert (m.justice.case_due[cases_before:] > m.t).all()
    expected = np.zeros_like(members_before)
    np.add.at(expected, (m.people.gang[members].astype(np.int64), m.people.home[members]), 1)
    assert (members_before - m.gang_members == expected).all()
    assert (m.people.gang[members] >= 0).all()  # still members, just not active
    assert m.tally.hood["arrests"].sum() == new.size
    assert m.tally.hood["gang_arrests"].sum() == members.size


def _arrest_now(m, ids: np.ndarray) -> None:
    """Arrest ``ids`` and make their cases due today."""
    enforcement.arrest(m, m.streams.get("enforcement"), ids, np.full(ids.size, ASSAULT, np.int8), m.people.home[ids])
    m.justice.case_due[np.isin(m.justice.case_person, ids)] = m.t


def test_acquittal_at_verdict_frees_people_and_restores_member_counts():
    m = simkit.build(4000, 4, seed=7, gangs=GANGLAND, justice={"prosecution_probability": 1.0,
                                                               "conviction_probability": 0.0})
    m.begin_step()
    members, civilians = _free_members(m, 20), _free_civilians(m, 10)
    ids = np.concatenate([members, civilians])
    _arrest_now(m, ids)
    justice.step(m, m.streams.get("justice"))
    assert m.people.free(ids).all()
    assert not np.isin(ids, m.justice.case_person).any()
    assert not np.isin(ids, m.justice.prison_person).any()
    assert m.tally.hood["prosecutions"].sum() >= ids.size and m.tally.hood["convictions"].sum() == 0
    still = members[m.people.gang[members] >= 0]
    assert 0 < still.size <= members.size  # most go back to the gang; some quit
    assert (m.gang_members == simkit.recount_members(m)).all()


def test_prison_holds_the_convicted_until_their_release_step_then_restores_counts():
    m = simkit.build(4000, 4, seed=8, gangs=GANGLAND, justice={"prosecution_probability": 1.0,
                                                               "conviction_probability": 1.0})
    m.begin_step()
    rng = m.streams.get("justice")
    members = _free_members(m, 15)
    _arrest_now(m, members)
    justice.step(m, rng)
    inside = np.isin(m.justice.prison_person, members)
    assert inside.sum() == members.size
    assert not m.people.free(members).any()
    assert (m.gang_members == simkit.recount_members(m)).all()

    # the member with the earliest release: still held one step before, free at the step itself
    order = np.argsort(m.justice.prison_release[inside])
    person = m.justice.prison_person[inside][order[0]]
    release = int(m.justice.prison_release[inside][order[0]])
    assert release > m.t
    m.t = release - 1
    justice.step(m, rng)
    assert not m.people.free(np.array([person])).all()
    m.t = release
    justice.step(m, rng)
    assert m.people.free(np.array([person])).all()
    assert person not in m.justice.prison_person
    assert (m.gang_members == simkit.recount_members(m)).all()
    # everyone else in prison is still detained
    assert not m.people.free(m.justice.prison_person).any()


# ------------------------------------------------------------------------------ deaths and moods
def test_kill_keeps_population_and_neighbourhood_sums_exact():
    m = simkit.build(4000, 4, seed=9, gangs=GANGLAND)
    m.run(40)  # personal shocks accumulate from real events
    census.count(m)  # make the sums exact, then check that kill() keeps them exact
    victims = np.concatenate([_free_members(m, 10), _free_civilians(m, 200)[::10]])
    perception.add_shock(m, "fear", victims, 0.4, 0.0, 1.0)
    perception.add_shock(m, "trust", victims, -0.3, -1.0, 1.0)
    size = m.people.size
    common.kill(m, np.concatenate([victims, victims[:3], [-1]]))
    assert m.people.size == size
    assert (m.people.gang[victims] == -1).all()
    assert (m.people.fear_shock[victims] == 0).all() and (m.people.trust_shock[victims] == 0).all()
    assert (m.gang_members == simkit.recount_members(m)).all()
    np.testing.assert_allclose(m.hood.fear_shock_sum, simkit.recount_shocks(m, "fear"), atol=1e-6)
    np.testing.assert_allclose(m.hood.trust_shock_sum, simkit.recount_shocks(m, "trust"), atol=1e-6)


def test_add_shock_moves_the_neighbourhood_mean_by_exactly_the_personal_change():
    m = simkit.build(2000, 4, seed=10, spin_up_years=0.1)  # start with personal shocks in place
    m.begin_step()
    census.count(m)
    ids = np.arange(0, m.people.size, 17)
    before = m.trust().copy()
    perception.add_shock(m, "trust", ids, 0.2, -1.0, 1.0)
    added = np.bincount(m.people.home[ids], minlength=4) * 0.2
    np.testing.assert_allclose(m.trust() - before, added / m.world.residents, atol=1e-9)
    np.testing.assert_allclose(m.hood.trust_shock_sum, simkit.recount_shocks(m, "trust"), atol=1e-6)


# ------------------------------------------------------------------------------ reporting
def test_reporting_probability_rises_with_trust_and_falls_with_gang_control():
    m = simkit.build(2000, 4, seed=11)
    trust = np.linspace(0.0, 1.0, 11)
    for kind in (ROBBERY, EXTORTION, ASSAULT):
        p = reporting.report_probability(m, np.full(11, kind), np.zeros(11, np.int64), trust)
        assert (np.diff(p) >= 0).all() and p[-1] > p[0]
    kinds = np.full(5, EXTORTION)
    hoods = np.zeros(5, np.int64)
    results = []
    for level in (0.0, 0.25, 0.5, 0.75, 1.0):
        m.control[:, 0] = level / m.control.shape[0]
        results.append(reporting.report_probability(m, kinds, hoods, np.full(5, 0.35))[0])
    assert (np.diff(results) < 0).all()
    # homicide is barely suppressed: it stays above extortion under full control
    hom = reporting.report_probability(m, np.array([HOMICIDE]), np.array([0]), np.array([0.35]))[0]
    assert hom > results[-1]


def test_reporting_step_reports_at_the_stated_probability():
    m = simkit.build(2000, 4, seed=12)
    m.begin_step()
    n = 20_000
    hoods = np.repeat(np.arange(4), n // 4)
    victims = m.world.block_start[hoods] + 1
    m.incidents.add(ROBBERY, hoods, victims, np.full(n, -1))
    m.incidents.close()
    p = reporting.report_probability(m, m.incidents.kind, m.incidents.hood,
                                     m.personal_trust(m.incidents.victim, m.incidents.hood))
    reporting.step(m, m.streams.get("reporting"))
    share = m.incidents.reported.mean()
    se = np.sqrt(p.mean() * (1 - p.mean()) / n)
    assert abs(share - p.mean()) < 5 * se
    assert m.tally.hood["robberies_reported"].sum() == m.incidents.reported.sum()


# ------------------------------------------------------------------------------ crime and displacement
def _grid(**fields):
    """A 3x3 grid city: neighbourhood 4 is the centre; 1, 3, 5, 7 its neighbours; corners are not."""
    return simkit.build(2700, 9, seed=13, city={"layout": "grid", "size_spread": 0.0}, **fields)


@pytest.mark.parametrize("shift", [1.0, 0.5, -0.5])
def test_displacement_moves_deterred_crime_to_neighbours_only(shift: float):
    m = _grid()
    m.begin_step()
    free = crime.expected_street_crime(m, with_levers=False)
    m.levers.property_guardianship[4] = 3.0
    m.levers.displacement[4] = shift
    rates = crime.expected_street_crime(m, displace=True)
    neighbours, corners = [1, 3, 5, 7], [0, 2, 6, 8]
    for c in (ROBBERY, EXTORTION):
        deterred = free[c][4] - rates[c][4]
        assert deterred > 0
        moved = rates[c][neighbours] - free[c][neighbours]
        assert np.sign(moved).tolist() == [np.sign(shift)] * 4
        np.testing.assert_allclose(moved.sum(), shift * deterred, rtol=1e-9)
        np.testing.assert_allclose(rates[c][corners], free[c][corners], rtol=1e-12)
    np.testing.assert_allclose(rates[ASSAULT], free[ASSAULT], rtol=1e-12)  # not a property crime


def test_no_displacement_lever_leaves_rates_untouched():
    m = _grid()
    m.begin_step()
    m.levers.property_guardianship[4] = 3.0
    rates = crime.expected_street_crime(m)
    displaced = crime.expected_street_crime(m, displace=True)
    for c in (ROBBERY, EXTORTION, ASSAULT):
        assert displaced[c].tobytes() == rates[c].tobytes()


def test_guardianship_lowers_expected_street_crime_where_it_is_raised():
    m = _grid()
    m.begin_step()
    before = crime.expected_street_crime(m)
    m.levers.guardianship[2] = 2.0
    after = crime.expected_street_crime(m)
    for c in (ROBBERY, EXTORTION, ASSAULT):
        np.testing.assert_allclose(after[c][2], before[c][2] / 2.0)
        np.testing.assert_allclose(np.delete(after[c], 2), np.delete(before[c], 2))


# ------------------------------------------------------------------------------ census bookkeeping
def test_incremental_bookkeeping_matches_a_full_recount_after_many_steps(monkeypatch):
    """With the monthly recount switched off, the counts kept event by event must not drift."""
    sc = simkit.scenario(4000, 6, years=1.0, gangs=GANGLAND, interventions=[
        {"type": "community_policing", "contacts_per_resident_year": 5.0},
        {"type": "youth_programs", "coverage": 0.5},
        {"type": "focused_deterrence", "target": "all"},
    ])
    monkeypatch.setattr(census, "due", lambda model: False)
    m = simkit.run_model(sc, seed=14, steps=150)
    members = m.gang_members.copy()
    fear, trust = m.hood.fear_shock_sum.copy(), m.hood.trust_shock_sum.copy()
    assert np.nansum(m.recorder.city[:150]) > 0
    assert np.abs(trust).sum() > 1.0  # contacts and reports changed trust: there is something to check
    m.t -= 1  # the sums stand as of the last step's perception update (t is advanced after it)
    census.count(m)
    assert (members == m.gang_members).all()
    np.testing.assert_allclose(fear, m.hood.fear_shock_sum, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(trust, m.hood.trust_shock_sum, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------------------ trafficking
def _crossing_share(m, shares: np.ndarray, crossing: int) -> float:
    return float(shares[m.world.network.crossing_of_path == crossing].sum())


def test_route_choice_avoids_a_crossing_believed_risky():
    m = simkit.build(2000, 4, seed=15)
    before = traffic.route_shares(m)
    edge = m.world.network.crossing_edge[1]
    m.traffic.perceived_risk[np.flatnonzero(m.crossing_inbound[1])] = 0.5
    after = traffic.route_shares(m)
    assert _crossing_share(m, after, 1) < 0.5 * _crossing_share(m, before, 1)
    assert np.isclose(after.sum(), 1.0)
    assert edge >= 0


def test_traffickers_learn_a_higher_seizure_risk_and_route_around_it():
    m = simkit.build(2000, 4, seed=16)
    m.begin_step()
    rng = m.streams.get("trafficking")
    start = _crossing_share(m, traffic.route_shares(m), 0)
    m.levers.crossing_seizure[0] = 0.6  # stays set: begin_step is not called below
    for _ in range(200):
        traffic.step(m, rng)
    end = _crossing_share(m, m.traffic.route_share, 0)
    assert end < 0.5 * start
    others = [_crossing_share(m, m.traffic.route_share, c) for c in range(1, m.world.network.crossing_edge.size)]
    assert sum(others) > 1.0 - start
    assert m.tally.city["seizures_kg"] > 0


# ------------------------------------------------------------------------------ policing and levers
def test_vetting_lowers_the_corrupt_share_of_units_it_reaches():
    m = simkit.build(3000, 4, seed=17)
    m.begin_step()
    before = m.police.unit_corrupt.copy()
    m.levers.vetting[:] = 2.0
    for _ in range(30):
        policing.step(m, m.streams.get("policing"))
    assert (m.police.unit_corrupt <= before + 1e-12).all()
    assert m.police.unit_corrupt.mean() < 0.95 * before.mean()


def test_levers_reset_returns_every_field_to_neutral():
    lv = Levers.neutral(5, 3)
    for f in dataclasses.fields(lv):
        value = getattr(lv, f.name)
        if isinstance(value, np.ndarray):
            value[:] = np.arange(value.size) + 7.5
        else:
            setattr(lv, f.name, 0.123)
    lv.reset()
    neutral = Levers.neutral(5, 3)
    for f in dataclasses.fields(lv):
        np.testing.assert_array_equal(getattr(lv, f.name), getattr(neutral, f.name), err_msg=f.name)
    assert all((getattr(lv, name) == 1.0).all() for name in _MULTIPLIERS)
    assert all((getattr(lv, name) == 0.0).all() for name in _ADDITIONS)
    assert (lv.crossing_seizure == 0.0).all()


def test_turning_lever_blocks_equals_turning_each_lever_where_targeted():
    """Programmes turn levers as two whole blocks; bit for bit the same as masked updates lever by lever."""
    rng = np.random.default_rng(4)
    fast, slow = Levers.neutral(9, 2), Levers.neutral(9, 2)
    start = rng.random(fast.multipliers.shape) + 0.5, rng.random(fast.additions.shape) - 0.5
    for lv in (fast, slow):  # start from non-neutral values, as after an earlier programme
        lv.multipliers[:], lv.additions[:] = start
    where = rng.random(9) < 0.5
    effects = {"tips": 1.37, "case_days": 0.71, "displacement": -0.2, "vetting": 0.3}
    fast.turn(*fast.effect_blocks(effects, where))
    slow.tips[where] *= 1.37
    slow.case_days[where] *= 0.71
    slow.displacement[where] += -0.2
    slow.vetting[where] += 0.3
    for name in _MULTIPLIERS + _ADDITIONS:
        assert getattr(fast, name).tobytes() == getattr(slow, name).tobytes(), name
    with pytest.raises(KeyError, match="per-neighbourhood lever"):
        fast.effect_blocks({"intelligence": 2.0}, where)


def test_levers_stay_rows_of_their_blocks_through_a_run():
    """Nothing rebinds a per-neighbourhood lever (the step's reset fills the blocks, not the fields)."""
    everything = [{"type": name} for name in ("community_policing", "hotspot_patrol", "rule_of_law",
                                              "situational_prevention", "focused_deterrence", "info_sharing",
                                              "police_vetting", "youth_programs", "border_interdiction")]
    m = simkit.run_model(simkit.scenario(3000, 4, years=0.1, gangs=GANGLAND, interventions=everything), seed=3)
    lv = m.levers
    for name in _MULTIPLIERS:
        assert np.shares_memory(getattr(lv, name), lv.multipliers), name
    for name in _ADDITIONS:
        assert np.shares_memory(getattr(lv, name), lv.additions), name
    assert (lv.multipliers != 1.0).any() and (lv.additions != 0.0).any()  # the programmes did turn them


def test_youth_programme_enrols_only_eligible_youth_in_its_target():
    sc = simkit.scenario(4000, 4, years=1.0, gangs=GANGLAND, interventions=[
        {"type": "youth_programs", "target": {"ids": [1, 2]}, "coverage": 0.5}])
    m = simkit.run_model(sc, seed=18, steps=1)
    people = m.people
    first = np.flatnonzero(people.has(everyone(m), Status.ENROLLED))
    assert first.size > 0
    assert np.isin(people.home[first], [1, 2]).all()
    assert people.is_youth(first, 0).all()
    assert (people.gang[first] >= 0).sum() <= 2  # enrolled outside gangs; one may have joined since
    # slots are topped up step by step (draws by risk repeat people) until coverage is reached
    m.run(10)
    enrolled = np.flatnonzero(people.has(everyone(m), Status.ENROLLED))
    wanted = 0.5 * m.hood.youth[[1, 2]].sum()
    assert np.isin(people.home[enrolled], [1, 2]).all()
    assert abs(enrolled.size - wanted) <= 0.05 * wanted
    # enrolment is by risk: the enrolled are riskier than the youth left out
    youth = np.flatnonzero(people.is_youth(everyone(m), m.day) & np.isin(people.home, [1, 2]))
    assert people.risk[enrolled].mean() > people.risk[np.setdiff1d(youth, enrolled)].mean()


def test_a_suspect_at_home_convicted_twice_serves_one_merged_sentence():
    """With ``detain_pending: false`` suspects wait at home and can be arrested again; two
    convictions must leave one prison row (the later release), so the first release date does
    not free someone still serving, nor count a member back twice."""
    m = simkit.build(4000, 4, seed=19, gangs=GANGLAND, justice={
        "detain_pending": False, "prosecution_probability": 1.0, "conviction_probability": 1.0})
    m.begin_step()
    rng = m.streams.get("justice")
    member = _free_members(m, 1)
    for kind in (ROBBERY, HOMICIDE):  # a short and a long sentence, on two cases
        enforcement.arrest(m, m.streams.get("enforcement"), member, np.array([kind], np.int8), m.people.home[member])
        assert m.people.free(member).all()  # waits at home, so can be arrested again
    assert (m.justice.case_person == member[0]).sum() == 2
    m.justice.case_due[m.justice.case_person == member[0]] = m.t
    justice.step(m, rng)
    rows = np.flatnonzero(m.justice.prison_person == member[0])
    assert rows.size == 1
    assert not m.people.free(member).any()
    assert (m.gang_members == simkit.recount_members(m)).all()
    release = int(m.justice.prison_release[rows[0]])
    m.t = release - 1
    justice.step(m, rng)
    assert not m.people.free(member).any()
    m.t = release
    justice.step(m, rng)
    assert m.people.free(member).all()
    assert (m.gang_members == simkit.recount_members(m)).all()


def test_add_prisoners_merges_repeat_sentences_and_keeps_order():
    from model.state import JusticeState

    jus = JusticeState()
    jus.add_prisoners(np.array([5, 7, 9]), np.array([100, 50, 70]))
    jus.add_prisoners(np.array([7, 11, 5]), np.array([80, 60, 20]))
    assert jus.prison_person.tolist() == [5, 7, 9, 11]
    assert jus.prison_release.tolist() == [100, 80, 70, 60]


def _unserved_rows(m) -> np.ndarray:
    """Rows of the youth a youth programme could still take, found person by person."""
    people = m.people
    ids = everyone(m)
    return np.flatnonzero(people.is_youth(ids, m.day) & (people.gang < 0) & people.free(ids)
                          & ~people.has(ids, Status.ENROLLED | Status.GRADUATE))


def _unserved(m) -> np.ndarray:
    """Youth a youth programme could still take, per neighbourhood, counted person by person."""
    return np.bincount(m.people.home[_unserved_rows(m)], minlength=m.world.n_neighbourhoods)


def test_census_counts_the_youth_a_programme_has_not_served():
    sc = simkit.scenario(4000, 4, years=1.0, gangs=GANGLAND, interventions=[
        {"type": "youth_programs", "coverage": 0.5, "duration_years": 0.05}])
    m = simkit.run_model(sc, seed=21, steps=40)  # a cohort has graduated and another is enrolled
    people = m.people
    assert people.has(everyone(m), Status.GRADUATE).any() and people.has(everyone(m), Status.ENROLLED).any()
    people.set_flag(np.flatnonzero(people.is_youth(everyone(m), m.day))[:25], Status.DETAINED)
    census.count(m)
    assert m.hood.unserved_rows.tolist() == _unserved_rows(m).tolist()
    # the programme's count per neighbourhood, from the rows (blocks are contiguous)
    per_block = np.diff(np.searchsorted(m.hood.unserved_rows, m.people.block_start))
    assert per_block.tolist() == _unserved(m).tolist()


def test_youth_programme_seeks_no_places_where_every_youth_it_could_take_is_served():
    """Places follow the neighbourhoods' youth, but a young person is enrolled once: once a target's
    unserved youth are used up, its places stay empty until a census finds new ones (youth turning 12,
    released, leaving a gang), and the search for people is not made, step after step, in vain."""
    from model.interventions import youth_programs

    sc = simkit.scenario(6000, 4, years=1.0, gangs=GANGLAND, interventions=[
        {"type": "youth_programs", "target": {"ids": [1, 2]}, "coverage": 1.0, "duration_years": 0.1}])
    m = simkit.run_model(sc, seed=22, steps=150)  # several short cohorts: the target's youth are all served
    assert _unserved(m)[[1, 2]].sum() < 0.05 * m.hood.youth[[1, 2]].sum()
    sought, in_vain = [], []
    at_random, among_listed = youth_programs.sample_in_blocks, youth_programs.sample_among

    def seek(hoods):
        sought.append(hoods.size)
        in_vain.append(int((_unserved(m)[hoods] == 0).sum()))  # entries where nobody could be found

    def watched(rng, block_start, hoods, accept=None, **kw):
        seek(hoods)
        return at_random(rng, block_start, hoods, accept, **kw)

    def watched_among(rng, rows, block_start, entries, accept):
        seek(np.repeat(np.arange(entries.size), entries))
        return among_listed(rng, rows, block_start, entries, accept)

    run, coverage = m.programmes[0].delivery, m.programmes[0].coverage
    places_wanted = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(youth_programs, "sample_in_blocks", watched)
        patch.setattr(youth_programs, "sample_among", watched_among)
        for _ in range(90):  # three censuses
            places_wanted += int(round(coverage * run.youth_total)) - run.ids.size
            m.step()
    assert places_wanted > 2000  # the programme wanted many places it could not fill...
    assert 0 < sum(sought) <= 0.01 * places_wanted  # ...and sought only the few new ones the censuses found
    # a neighbourhood is searched in vain at most a few times between censuses (its count gone stale)
    assert sum(in_vain) <= 2 * 3 * 5


def test_youth_programme_places_a_share_of_idle_participants_in_work():
    sc = simkit.scenario(6000, 4, years=1.0, interventions=[
        {"type": "youth_programs", "coverage": 0.8, "job_placement": 0.5}])
    m = SecurityModel(sc, seed=20)
    idle_before = ~m.people.has(everyone(m), Status.SCHOOL | Status.EMPLOYED)
    m.step()
    enrolled = np.flatnonzero(m.people.has(everyone(m), Status.ENROLLED))
    idle = enrolled[idle_before[enrolled]]
    assert idle.size > 100
    share = m.people.has(idle, Status.EMPLOYED).mean()
    assert abs(share - 0.5) < 5 * np.sqrt(0.25 / idle.size)
    busy = enrolled[~idle_before[enrolled]]
    assert (m.people.status[busy] & (Status.SCHOOL | Status.EMPLOYED) != 0).all()  # nobody loses school or work


@pytest.mark.parametrize(("steps_per_year", "expected_steps"), [(365, 30), (52, 4), (12, 1)])
def test_retarget_and_redeploy_intervals_are_in_days_whatever_the_step(steps_per_year: int,
                                                                       expected_steps: int) -> None:
    """retarget_days and reallocate_days are days: 30 days is 30 daily, 4 weekly or 1 monthly steps."""
    from model.scenario import Scenario

    scenario = Scenario(city={"residents": 3000, "neighbourhoods": 6}, years=0.5, spin_up_years=0,
                        steps_per_year=steps_per_year, police={"reallocate_days": 30},
                        interventions=[{"type": "hotspot_patrol", "target": {"top_k": 2}, "retarget_days": 30}])
    m = SecurityModel(scenario, seed=0)
    m.step()
    programme = m.programmes[0]
    assert programme.delivery.next_retarget == expected_steps  # retargeted at t = 0, next after 30 days
    moves = []
    original = policing.redeploy
    try:
        policing.redeploy = lambda model: moves.append(model.t)
        for _ in range(2 * expected_steps):
            m.step()
    finally:
        policing.redeploy = original
    assert moves == [expected_steps, 2 * expected_steps]
