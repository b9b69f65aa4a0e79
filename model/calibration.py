"""Calibration at construction: scale the processes so the city starts at its stated rates.

The scenario states observable targets (homicides per 100k, robberies per 100k, gang members
per 100k, shares of homicides by source); this module computes the process constants that make
the expected values equal those targets, and fills the custody stocks (pending cases,
prisoners) at their steady-state sizes (Little's law), so the baseline neither drifts nor
starts with empty prisons. :func:`calibrate` runs at construction; after the spin-up (if any)
:func:`recalibrate` scales the rates again, so the recorded run (t = 0) starts on target. Both run
once per run, outside the steps, so O(residents) work is fine here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from model.population import YOUTH_AGES, Status, sample_in_blocks
from model.state import ASSAULT, CRIME_TYPES, DRUG_SALE, EXTORTION, HOMICIDE, ROBBERY

if TYPE_CHECKING:
    from model.model import SecurityModel

__all__ = ["Calibration", "calibrate"]

CUSTODY_FILLS = 2  # fill, then refill from the arrests of the city with its custody filled


@dataclass
class Calibration:
    """Process constants derived from the scenario's targets (recorded in the manifest)."""

    report_base: np.ndarray
    report_sensitivity: np.ndarray
    clearance: np.ndarray
    sentence_years: np.ndarray
    street_scale: dict[int, float] = field(default_factory=dict)
    escalation: float = 0.0
    extortion_killing: float = 0.0
    rivalry_scale: float = 0.0
    recruitment_per_year: float = 0.0
    drug_scale: float = 0.0
    stock_reference_kg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    certainty_reference: float = 0.0
    rivalry_kills: np.ndarray = field(default_factory=lambda: np.zeros(0))
    certainty_start: np.ndarray = field(default_factory=lambda: np.zeros(0))
    crime_mix: np.ndarray = field(default_factory=lambda: np.zeros(5))
    gun_attrition: float = 0.1
    upkeep_per_member_year: float = 0.0
    income_reference: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def as_dict(self) -> dict[str, float]:
        out: dict[str, float] = {f"street_scale_{CRIME_TYPES[c]}": v for c, v in self.street_scale.items()}
        out.update(escalation=self.escalation, extortion_killing=self.extortion_killing,
                   rivalry_scale=self.rivalry_scale, recruitment_per_year=self.recruitment_per_year,
                   drug_scale=self.drug_scale, certainty_reference=self.certainty_reference,
                   gun_attrition=self.gun_attrition, upkeep_per_member_year=self.upkeep_per_member_year)
        return {k: float(v) for k, v in out.items()}


def per_type(values: dict[str, float]) -> np.ndarray:
    return np.array([values[c] for c in CRIME_TYPES], dtype=float)


def calibrate(model: SecurityModel, rng: np.random.Generator) -> None:
    """Set every calibrated constant on ``model.cal`` and fill the custody stocks.

    Children first get the youth activity they will carry (:func:`_youth_pathways`). Rates are
    calibrated to size the custody stocks from the arrests they bring; the stocks are filled, the
    rates calibrated again with those people off the street, and the stocks refilled from the
    arrests of that city (members in custody make fewer member arrests: a fixed point, reached in
    one refill), so custody and membership start at the steady state of the arrests that happen
    and the city is on target when it starts to run (the spin-up, or t = 0 without one).
    """
    _youth_pathways(model, rng)
    sc = model.scenario
    rates = np.array([sc.crime.homicide_rate, sc.crime.robbery_rate, sc.crime.extortion_rate,
                      sc.crime.assault_rate, 0.0])
    model.cal.crime_mix = rates / rates.sum() if rates.sum() else rates
    model.cal.certainty_start = model.instant_certainty()
    model.hood.perceived_certainty = model.cal.certainty_start.copy()
    expected, homicides = _calibrate_rates(model)
    arrests = _annual_arrests(model, expected, homicides)
    for fill in range(CUSTODY_FILLS):
        if fill:  # refill from the arrests of the city with its custody filled (a fixed point)
            _empty_custody(model)
        _fill_custody(model, rng, arrests)
        expected, homicides = _resettle(model)
        _place_members(model, rng, expected, homicides)  # free members where their own flows balance
        expected, homicides = _resettle(model)
        arrests = _annual_arrests(model, expected, homicides)
    recalibrate(model)


def _resettle(model: SecurityModel) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """After people were moved: recount, settle territory, reset the references, calibrate the rates."""
    model.refresh_census()
    model.settle_territory()
    model.set_references()
    return _calibrate_rates(model)


def _youth_pathways(model: SecurityModel, rng: np.random.Generator) -> None:
    """Give each child the activity (school, work, neither) it will have as a young person.

    What a person does (``SCHOOL``, ``EMPLOYED``) never changes as they age, so the cohorts that turn
    12 during a run are the youth of the coming years. The population is drawn with the scenario's
    mix among youth (``school_enrolment``, ``youth_employment``, by disadvantage) but with every child
    of 6-11 in school: left so, each year's entrants would all be in school and the young would
    become ever less idle (fewer street offenders and recruits, a falling baseline). Each child
    instead copies the activity of a young person of its own neighbourhood drawn at random (of the
    city if it has none), so every cohort enters with the neighbourhood's youth mix and that mix, and
    with it youth offending and recruitment, is stationary.
    """
    people = model.people
    everyone = np.arange(people.size)
    age = people.age(everyone, 0)  # ages at t = 0: statuses were drawn by these
    children = np.flatnonzero(age < YOUTH_AGES[0])
    youth = (age >= YOUTH_AGES[0]) & (age <= YOUTH_AGES[1])
    if children.size == 0 or not youth.any():
        return
    donor = sample_in_blocks(rng, people.block_start, people.home[children], lambda ids: youth[ids])
    none = donor < 0
    if none.any():
        pool = np.flatnonzero(youth)
        donor[none] = pool[rng.integers(0, pool.size, int(none.sum()))]
    activity = Status.SCHOOL | Status.EMPLOYED
    people.status[children] = (people.status[children] & ~activity) | (people.status[donor] & activity)


def _calibrate_upkeep(model: SecurityModel, expected: dict[int, np.ndarray]) -> None:
    """What a member costs a year: gangs spend what they keep, so their cash starts stationary."""
    sc = model.scenario
    members = float(model.gang_members.sum())
    model.cal.income_reference = np.zeros(len(model.gang_list))  # gangs with no members have no income yet
    if members <= 0:
        return
    per_year = model.steps_per_year
    extortion = float(expected[EXTORTION].sum()) * per_year * sc.gangs.extortion_payment_usd
    drugs = sc.crime.drug_sale_rate * model.people.size / 1e5 * sc.gangs.drug_margin_usd
    kept = (extortion + drugs) * (1.0 - sc.trafficking.cash_export_share)
    model.cal.upkeep_per_member_year = kept / members
    # each gang's recent net income starts at its expected share (by territory)
    territory = model.control @ model.world.residents.astype(float)
    share = territory / max(territory.sum(), 1e-12)
    for gang in model.gang_list:
        gang.income_memory = kept / per_year * share[gang.gang_id]
    model.cal.income_reference = np.array([g.income_per_member for g in model.gang_list])


def recalibrate(model: SecurityModel) -> None:
    """Scale the rates to the stated targets for the city as it stands, and restart the memories.

    The last step of :func:`calibrate`, and run again after the spin-up. Territory, membership
    and custody keep the state they have; crime scales,
    lethal violence, retaliation memory, perceived certainty, gang upkeep and recruitment are set
    again so the recorded run starts on the scenario's targets and with gang size stationary.
    """
    model.cal.certainty_start = model.instant_certainty()
    model.hood.perceived_certainty = model.cal.certainty_start.copy()
    model.set_references()
    expected, homicides = _calibrate_rates(model)
    _calibrate_certainty(model, expected, homicides)
    _calibrate_upkeep(model, expected)
    _calibrate_recruitment(model, expected, homicides)
    _calibrate_guns(model)


def _calibrate_rates(model: SecurityModel) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Scale street crime, lethal violence and drug retail to the stated rates; start memories."""
    from model.processes import crime, rivalry

    sc = model.scenario
    cal = model.cal
    n_city = model.people.size / 1e5
    per_step = model.dt_years
    target = {ROBBERY: sc.crime.robbery_rate, EXTORTION: sc.crime.extortion_rate,
              ASSAULT: sc.crime.assault_rate}

    # street crime: scale so expected counts at step 0 match the stated rates
    for c in target:
        cal.street_scale[c] = 1.0
    raw = crime.expected_street_crime(model)
    for c, rate in target.items():
        total = raw[c].sum()
        cal.street_scale[c] = rate * n_city * per_step / total if total > 0 else 0.0
    expected = crime.expected_street_crime(model)

    # drug retail: sales at the stated rate with half-full stocks; stock lasts about a month. First, because
    # it restarts the supply memories: rivalry below reads the scarcity they give (calibrated before the
    # restart, it saw the spun-up scarcity and started ~2% below its share)
    gangs = model.gang_list
    if gangs:
        sales_per_step = sc.crime.drug_sale_rate * n_city * per_step
        territory = model.control @ model.world.residents.astype(float)
        cal.drug_scale = sales_per_step / (0.5 * territory.sum() * per_step) if territory.sum() else 0.0
        spill_per_step = sc.trafficking.local_spill_kg_per_100k * n_city * per_step
        model.traffic.kg_per_sale = spill_per_step / max(sales_per_step, 1e-12)
        share = territory / max(territory.sum(), 1e-12)
        cal.stock_reference_kg = 30.0 / model.step_days * spill_per_step * share
        for g in gangs:
            g.drug_stock_kg = float(cal.stock_reference_kg[g.gang_id])
            g.supply_reference_kg = float(spill_per_step * share[g.gang_id])
            g.supply_memory_kg = g.supply_reference_kg
        _calibrate_spill(model, spill_per_step)

    # homicides from each source
    homicides = sc.crime.homicide_rate * n_city * per_step
    lethality = model.lethality()
    violent = (expected[ROBBERY] + expected[ASSAULT]) * lethality
    cal.escalation = _ratio(sc.crime.escalation_share * homicides, violent.sum())
    extortion_share = 1.0 - sc.crime.rivalry_share - sc.crime.escalation_share
    cal.extortion_killing = _ratio(extortion_share * homicides, (expected[EXTORTION] * lethality).sum())
    rivalry_kills = np.zeros(model.world.n_neighbourhoods)
    if model.control.shape[0] >= 2:
        # Hawkes steady state per neighbourhood: each killing brings `retaliation` attacks, each
        # lethal with ATTACK_LETHALITY * lethality, so killings branch with ratio b and total
        # killings are structural / (1 - b). Scale the structural rate to hit the target. The memory
        # is decayed at the start of a step (begin_step) before rivalry reads it, so a killing's
        # attacks are `retaliation` x f in expectation (f the day's decay) and b carries that f.
        cal.rivalry_scale = 1.0
        model.hood.retaliation_memory = np.zeros(model.world.n_neighbourhoods)
        attacks = rivalry.attack_rate(model)  # structural only: the memory is empty here
        kill_p = rivalry.ATTACK_LETHALITY * lethality
        decay = model.memory_decay["retaliation"]
        branching = np.clip(sc.gangs.retaliation * decay * kill_p, 0.0, 0.95)
        per_unit = attacks * kill_p / (1.0 - branching)
        cal.rivalry_scale = _ratio(sc.crime.rivalry_share * homicides, per_unit.sum())
        rivalry_kills = per_unit * cal.rivalry_scale
        model.hood.retaliation_memory = rivalry_kills * model.memory_steps["retaliation"]
    cal.rivalry_kills = rivalry_kills
    hood_homicides = violent * cal.escalation + expected[EXTORTION] * lethality * cal.extortion_killing
    hood_homicides = hood_homicides + rivalry_kills
    model.hood.homicide_memory = hood_homicides * model.memory_steps["homicides"]

    # reported crime memory (deployment, targeting) and ranking memories
    reported = sum(expected[c] * cal.report_base[c] for c in target) + hood_homicides * cal.report_base[HOMICIDE]
    model.hood.reported_memory = reported * model.memory_steps["recent"]
    recent = model.hood.recent
    recent["homicides"] = hood_homicides * model.memory_steps["recent"]
    recent["robberies"] = expected[ROBBERY] * model.memory_steps["recent"]
    recent["extortions"] = expected[EXTORTION] * model.memory_steps["recent"]
    recent["assaults"] = expected[ASSAULT] * model.memory_steps["recent"]
    recent["crimes_reported"] = reported * model.memory_steps["recent"]

    return expected, hood_homicides


def _calibrate_guns(model: SecurityModel) -> None:
    """Attrition of gang guns that balances the smuggled inflow at the start."""
    from model.processes import trafficking

    weapons = sum(g.weapons for g in model.gang_list)
    if weapons <= 0:
        return
    p = trafficking.seizure_probabilities(model)
    inbound = model.crossing_inbound[model.world.network.city_crossing]
    p_city = float(np.mean(inbound @ p / np.maximum(inbound.sum(axis=1), 1)))
    inflow = model.scenario.trafficking.guns_per_100k_year * model.people.size / 1e5 * (1.0 - p_city)
    model.cal.gun_attrition = float(np.clip(inflow / weapons, 0.0, 5.0))


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else 0.0


def _calibrate_spill(model: SecurityModel, spill_per_step: float) -> None:
    """Share of a load left in the city so the baseline market gets its stated kilograms."""
    from model.processes import trafficking

    net = model.world.network
    tr = model.scenario.trafficking
    shares = trafficking.route_shares(model)
    p = trafficking.seizure_probabilities(model)
    reach = np.array([(1 - p[e[0]]) * (1 - p[e[1]]) for e in net.path_edges])
    weight = np.where(net.city_crossing[net.crossing_of_path], 1.0, tr.other_crossing_supply)
    kg_per_step = tr.transit_tonnes_per_year * 1000.0 * model.dt_years
    at_city = kg_per_step * float((shares * reach * weight).sum())
    model.traffic.spill_fraction = float(np.clip(spill_per_step / max(at_city, 1e-12), 0.0, 0.5))


def _annual_arrests(
    model: SecurityModel, expected: dict[int, np.ndarray], homicides: np.ndarray
) -> dict[str, np.ndarray]:
    """Expected arrests a year per neighbourhood, by kind, at the starting state.

    The arrests the processes will make, not those of the base rates: each crime is reported with
    the probability the victims of the neighbourhood have (trust and the gang's intimidation, as
    :func:`reporting.report_probability`), cleared with the type's clearance, police capacity and
    tips, less the corrupt share where a gang did it, and a gang's crime leads to an arrest only
    where a free member of that gang lives (the suspect is one). Street crimes that turn lethal are
    homicides; rivalry attacks that do not kill are assaults by members. Custody stocks are filled
    from these flows (Little's law) and the member losses that calibrate recruitment count them, so
    both start at the steady state of the arrests that actually happen.
    """
    from model.processes import crime, enforcement, reporting, rivalry

    cal = model.cal
    sc = model.scenario
    steps = model.steps_per_year
    k = model.world.n_neighbourhoods
    hoods = np.arange(k)
    trust = model.trust()
    base = enforcement.police_factor(model) * enforcement.tip_factor(model)
    corrupt = model.police.corrupt_share
    members = model.gang_members.sum(axis=0).astype(float)
    off = crime.offenders(model)
    gang_share = np.divide(crime.MEMBER_WEIGHT * members, off[ROBBERY], out=np.zeros_like(members),
                           where=off[ROBBERY] > 0)
    # a gang's crime is pinned on a free member of that gang living here (the gang drawn by control)
    held = model.control_held()
    present = (model.control * (model.gang_members > 0)).sum(axis=0) if model.control.size else np.zeros(k)
    findable = np.divide(present, held, out=np.zeros(k), where=held > 0)

    def cleared(c: int, by_gang: bool) -> np.ndarray:
        """Arrests per crime of type ``c`` here: reported, cleared, and a suspect found."""
        report = reporting.report_probability(model, np.full(k, c), hoods, trust)
        p = np.clip(cal.clearance[c] * base * ((1.0 - corrupt) if by_gang else 1.0), 0.0, 1.0)
        return report * p * (findable if by_gang else 1.0)

    lethality = model.lethality()
    escalated = np.clip(cal.escalation * lethality, 0.0, 1.0)
    extortion_killed = np.clip(cal.extortion_killing * lethality, 0.0, 1.0)
    out: dict[str, np.ndarray] = {}
    for c, name in ((ROBBERY, "robbery"), (ASSAULT, "assault")):
        spared = expected[c] * (1.0 - escalated)
        gang = spared * gang_share * cleared(c, True)
        out[name + "_members"] = gang * steps
        out[name] = (gang + spared * (1.0 - gang_share) * cleared(c, False)) * steps
    if model.control.shape[0] >= 2:  # rivalry attacks that do not kill are assaults by members
        attacks = rivalry.attack_rate(model) * (1.0 - np.clip(rivalry.ATTACK_LETHALITY * lethality, 0.0, 1.0))
        rival = attacks * cleared(ASSAULT, True) * steps
        out["assault_members"] = out["assault_members"] + rival
        out["assault"] = out["assault"] + rival
    out["extortion"] = out["extortion_members"] = (
        expected[EXTORTION] * (1.0 - extortion_killed) * cleared(EXTORTION, True) * steps)
    # homicides by source: rivalry and extortion killings are a gang's, escalated street crime as its offenders
    street_killings = (expected[ROBBERY] + expected[ASSAULT]) * lethality * cal.escalation
    by_gang = cal.rivalry_kills + expected[EXTORTION] * lethality * cal.extortion_killing + street_killings * gang_share
    by_gang = np.minimum(by_gang, homicides)
    out["homicide_members"] = by_gang * cleared(HOMICIDE, True) * steps
    out["homicide"] = out["homicide_members"] + (homicides - by_gang) * cleared(HOMICIDE, False) * steps
    # drug sales: retail at the stated rate where gangs hold territory (half-full stocks), detected in
    # proportion to police presence; proactive arrests of members by patrol and tips
    honest = 1.0 - corrupt
    anyone = (members > 0).astype(float)
    territory = model.presence() * model.residents
    sales = sc.crime.drug_sale_rate * model.people.size / 1e5 * territory / max(territory.sum(), 1e-12)
    detected = sales * np.clip(cal.report_base[DRUG_SALE] * model.police.per_1000 / model.police.reference_per_1000,
                               0.0, 1.0)
    drug = detected * np.clip(cal.clearance[DRUG_SALE] * base * honest, 0.0, 1.0) * anyone
    proactive = (sc.police.proactive_arrests_per_officer_year * model.police.effective * enforcement.tip_factor(model)
                 * honest * members / (members + 10.0))
    out["drug_sale"] = out["drug_sale_members"] = proactive + drug
    return out


def _empty_custody(model: SecurityModel) -> None:
    """Undo :func:`_fill_custody`: everyone goes home (at construction nobody else is held)."""
    people = model.people
    held = np.concatenate([model.justice.case_person, model.justice.prison_person])
    people.set_flag(held, Status.DETAINED, on=False)
    model.justice = type(model.justice)()
    model.refresh_census()


def _fill_custody(model: SecurityModel, rng: np.random.Generator, arrests: dict[str, np.ndarray]) -> None:
    """Put steady-state numbers of people in pending cases and in prison (Little's law)."""
    people = model.people
    sc = model.scenario.justice
    member_pool = np.flatnonzero(people.gang >= 0)
    age = people.age(np.arange(people.size), model.day)
    adults = np.flatnonzero((age >= 18) & (age <= 50) & (people.gang < 0))
    weights = people.risk[adults].astype(float)
    weights /= weights.sum() if weights.sum() else 1.0
    p_prison = sc.prosecution_probability * sc.conviction_probability
    # members are taken where their arrests happen: a weighted random order (Efraimidis-Spirakis keys)
    # with each member's weight the expected custody stock per member of their neighbourhood
    stock = sum(arrests[name + "_members"] * ((sc.case_days / 365.0 if sc.detain_pending else 0.0)
                                               + p_prison * model.cal.sentence_years[c])
                for c, name in enumerate(CRIME_TYPES))
    count = np.bincount(people.home[member_pool], minlength=stock.size)
    per_member = np.divide(stock, count, out=np.zeros(stock.size), where=count > 0)[people.home[member_pool]]
    with np.errstate(divide="ignore"):
        key = np.where(per_member > 0, np.log(rng.random(member_pool.size)) / per_member, -np.inf)
    member_pool = member_pool[np.argsort(-key, kind="stable")]
    used_members = 0
    persons, kinds, hoods, pending, release = [], [], [], [], []
    for c, name in enumerate(CRIME_TYPES):
        for members_part in (True, False):
            rate = arrests[name + "_members"] if members_part else arrests[name] - arrests[name + "_members"]
            total = float(rate.sum())
            n_pending = int(round(total * sc.case_days / 365.0)) if sc.detain_pending else 0
            n_prison = int(round(total * p_prison * model.cal.sentence_years[c]))
            n = n_pending + n_prison
            if n == 0:
                continue
            if members_part:
                take = member_pool[used_members : used_members + n]
                used_members += take.size
            else:
                take = rng.choice(adults, size=min(n, adults.size), replace=False, p=weights) if adults.size else adults
            m = take.size
            persons.append(take)
            kinds.append(np.full(m, c, np.int8))
            hoods.append(people.home[take])
            is_pending = np.arange(m) < min(n_pending, m)
            pending.append(is_pending)
            due = model.t + 1 + np.round(rng.exponential(sc.case_days, m) / model.step_days)
            out = model.t + 1 + np.round(rng.exponential(model.cal.sentence_years[c], m) * model.steps_per_year)
            release.append(np.where(is_pending, due, out).astype(np.int64))
    if not persons:
        return
    person = np.concatenate(persons)
    person, first = np.unique(person, return_index=True)
    kind = np.concatenate(kinds)[first]
    hood = np.concatenate(hoods)[first]
    is_pending = np.concatenate(pending)[first]
    when = np.concatenate(release)[first]
    people.set_flag(person, Status.DETAINED)
    model.justice.add_cases(person[is_pending], kind[is_pending], hood[is_pending], when[is_pending])
    model.justice.add_prisoners(person[~is_pending], when[~is_pending])


def _calibrate_certainty(model: SecurityModel, expected: dict[int, np.ndarray], homicides: np.ndarray) -> None:
    """Perceived certainty of conviction at the start, and its memories at steady state."""
    sc = model.scenario.justice
    arrests = _annual_arrests(model, expected, homicides)
    convictions = sum(arrests[c] for c in CRIME_TYPES) * sc.prosecution_probability * sc.conviction_probability
    offences = (sum(expected[c] for c in (ROBBERY, EXTORTION, ASSAULT)) + homicides) * model.steps_per_year
    model.cal.certainty_reference = _ratio(float(convictions.sum()), float(offences.sum()))
    steps = model.memory_steps["year"]
    model.hood.offence_memory = offences / model.steps_per_year * steps
    model.hood.conviction_memory = model.hood.offence_memory * model.cal.certainty_reference


def _calibrate_recruitment(model: SecurityModel, expected: dict[int, np.ndarray], homicides: np.ndarray) -> None:
    """Base joining hazard that keeps gang membership stationary at the start."""
    from model.processes import recruitment
    from model.processes.justice import QUIT_ON_RELEASE
    from model.processes.rivalry import MEMBER_VICTIM_SHARE

    sc = model.scenario
    people = model.people
    active = float(model.gang_members.sum())
    if active == 0 or not model.gang_list:
        model.cal.recruitment_per_year = 0.0
        return
    arrests = _annual_arrests(model, expected, homicides)
    member_arrests = sum(float(arrests[c + "_members"].sum()) for c in CRIME_TYPES)
    ids = np.flatnonzero((people.gang >= 0) & people.free(np.arange(people.size)))
    older = float((people.age(ids, model.day) > 30).mean()) if ids.size else 0.0
    exits = sc.gangs.exit_per_year * active * (1.0 + older)
    # members killed in rivalry: a victim drawn among the neighbourhood's members is a rival
    # with the chance that the attacker's gang is not theirs
    members = model.gang_members.astype(float)
    total = members.sum(axis=0)
    control = model.control / np.maximum(model.control.sum(axis=0), 1e-12)
    same = np.divide((control * members).sum(axis=0), total, out=np.ones_like(total), where=total > 0)
    deaths = float((model.cal.rivalry_kills * MEMBER_VICTIM_SHARE * (1.0 - same)).sum()) * model.steps_per_year
    losses = exits + deaths + QUIT_ON_RELEASE * member_arrests
    model.cal.recruitment_per_year = 1.0
    area = recruitment.area_hazard(model)
    everyone = np.arange(people.size)
    personal = recruitment.person_hazard(model, everyone)
    per_unit = float((personal * area[people.home]).sum())
    model.cal.recruitment_per_year = _ratio(losses, per_unit)


def _member_losses(model: SecurityModel, expected: dict[int, np.ndarray], homicides: np.ndarray) -> np.ndarray:
    """Expected losses a year per free member of each gang in each neighbourhood, at the current state.

    Exits (twice as fast over 30), the rivalry killings that hit a member of that gang (a victim
    drawn among the neighbourhood's members, spared if of the attacker's gang) and arrested members
    who quit on release. Where a gang has no member the city's mean per member stands in.
    """
    from model.processes.justice import QUIT_ON_RELEASE
    from model.processes.recruitment import AGE_OUT_FACTOR
    from model.processes.rivalry import MEMBER_VICTIM_SHARE

    people = model.people
    k = model.world.n_neighbourhoods
    members = model.gang_members.astype(float)
    by_hood = members.sum(axis=0)
    ids = np.flatnonzero((people.gang >= 0) & people.free(np.arange(people.size)))
    older = np.bincount(people.home[ids], people.age(ids, model.day) > 30, minlength=k)
    older_share = np.divide(older, by_hood, out=np.full(k, older.sum() / max(by_hood.sum(), 1.0)), where=by_hood > 0)
    exits = model.scenario.gangs.exit_per_year * (1.0 + (AGE_OUT_FACTOR - 1.0) * older_share)
    arrests = _annual_arrests(model, expected, homicides)
    member_arrests = sum(arrests[c + "_members"] for c in CRIME_TYPES)
    quits = QUIT_ON_RELEASE * np.divide(member_arrests, by_hood, out=np.full(k, member_arrests.sum() / max(
        by_hood.sum(), 1.0)), where=by_hood > 0)
    attacker = model.control / np.maximum(model.control.sum(axis=0), 1e-12)
    kills = model.cal.rivalry_kills * model.steps_per_year * MEMBER_VICTIM_SHARE
    deaths = np.divide(kills * (1.0 - attacker), by_hood, out=np.zeros_like(attacker), where=by_hood > 0)
    return exits + quits + deaths


MEMBER_YEARS = 25  # years of neighbourhood-level member flows run to reach their stationary spread
MEMBER_STEPS_PER_YEAR = 12


def _member_stationary(model: SecurityModel, rng: np.random.Generator, losses: np.ndarray) -> np.ndarray:
    """Free members per gang and neighbourhood drawn from the stationary spread of their own flows.

    The flows of ``recruitment.step`` and the losses, per neighbourhood: recruits ~ Poisson(base Y_k
    p_k dt), Y_k the joining hazard summed over k's young people, p_k presence at the territorial
    equilibrium with the members (``territory_target``, resistance scaled so gangs hold half the
    city, as ``settle_territory``); losses ~ Binomial(M_k, losses_k dt). The base rate balances
    expected recruits and losses with a pull back to today's total (membership is calibrated
    separately). Run monthly for MEMBER_YEARS (the flows turn members over in about five years),
    from today's counts. Stochastic on purpose: a few members per neighbourhood die out and regrow,
    and a deterministic balance spreads them too evenly (measured: presence then falls). Each
    neighbourhood keeps its gangs' shares of its members (of control where it has none): recruits
    join gangs by control, so the split between gangs drifts neutrally rather than settling.
    """
    from model.processes import economy, recruitment
    from model.processes.common import gang_near

    people = model.people
    k = model.world.n_neighbourhoods
    youth = np.bincount(people.home, recruitment.person_hazard(model, np.arange(people.size)), minlength=k)
    members = model.gang_members.astype(float)
    total = members.sum()
    if youth.sum() <= 0:  # nobody can join: members stay where they are
        return members
    held = model.control.sum(axis=0)
    mix = np.divide(model.control, held, out=np.full_like(model.control, 1.0 / members.shape[0]), where=held > 0)
    mix = np.divide(members, members.sum(axis=0), out=mix, where=members.sum(axis=0) > 0)
    loss = (mix * losses).sum(axis=0)
    n = model.world.residents.astype(float)
    arms = economy.arms(model)[:, None]
    unit = economy.resistance(model) / model.hood.resistance_scale
    hood = members.sum(axis=0).astype(np.int64)
    dt = 1.0 / MEMBER_STEPS_PER_YEAR
    scale = model.hood.resistance_scale
    p_loss = np.minimum(loss * dt, 1.0)
    for _ in range(MEMBER_YEARS * MEMBER_STEPS_PER_YEAR):
        m = hood * mix
        s = gang_near(m, model.world.spread) * arms  # economy.strength of these members
        scale = economy.resistance_scale(s, unit, n, 0.5, scale / 4.0, scale * 4.0, 30)  # as settle_territory
        presence = (s / (s.sum(axis=0) + scale * unit)).sum(axis=0)
        pull = youth * presence
        if pull.sum() <= 0:
            break
        base = (loss * hood).sum() * total / max(hood.sum(), 1.0) / pull.sum()
        hood = hood + rng.poisson(base * pull * dt) - rng.binomial(hood, p_loss)
    return hood * mix


def _place_members(model: SecurityModel, rng: np.random.Generator, expected: dict[int, np.ndarray],
                   homicides: np.ndarray) -> None:
    """Move free members so each gang's count in each neighbourhood is at the steady state of its flows.

    The builder spreads members around their gang's home turf; recruitment, exits, arrests and
    killings then move them, over years, to where recruits balance losses (more where many young
    people live under gang presence), and territory and control follow. Starting them there keeps
    the baseline from trending. Surplus members leave their gang; missing ones are drawn among the
    neighbourhood's free people aged 14-35 not in a gang, in proportion to risk (as the builder).
    """
    people = model.people
    if not model.gang_list or model.gang_members.sum() == 0 or model.hood.resistance_scale <= 0:
        return
    target = _member_stationary(model, rng, _member_losses(model, expected, homicides))
    current = model.gang_members
    want = _round_preserving_total(target, int(current.sum()))
    everyone = np.arange(people.size)

    day = model.day

    def eligible(ids: np.ndarray) -> np.ndarray:
        return people.founding_weight(ids, day)

    for g in range(current.shape[0]):
        surplus = np.maximum(current[g] - want[g], 0)
        if surplus.any():
            ids = np.flatnonzero((people.gang == g) & people.free(everyone))
            order = ids[np.lexsort((rng.random(ids.size), people.home[ids]))]  # by home, shuffled within
            rank = np.arange(order.size) - np.searchsorted(people.home[order], people.home[order])
            people.gang[order[rank < surplus[people.home[order]]]] = -1
        missing = np.maximum(want[g] - current[g], 0)
        for _ in range(5):
            if not missing.any():
                break
            hoods = np.repeat(np.arange(missing.size), missing)
            ids = sample_in_blocks(rng, people.block_start, hoods, eligible)
            ids = np.unique(ids[ids >= 0])
            people.gang[ids] = g
            missing = np.maximum(missing - np.bincount(people.home[ids], minlength=missing.size), 0)
    # (the census is recounted by _resettle, which follows)


def _round_preserving_total(values: np.ndarray, total: int) -> np.ndarray:
    """Non-negative integers close to ``values`` that sum to ``total`` (largest remainders)."""
    flat = values.ravel() * (total / max(values.sum(), 1e-12))
    out = np.floor(flat).astype(np.int64)
    extra = total - int(out.sum())
    if extra > 0:
        out[np.argsort(out - flat)[:extra]] += 1
    return out.reshape(values.shape)
