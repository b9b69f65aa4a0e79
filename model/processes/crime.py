"""Street crime by routine-activity logic: motivated offenders x suitable targets / guardians.

For robbery, extortion and assault in each neighbourhood the expected count is

    scale_c * (offenders_c / residents) * targets_c / guardianship_c * deterrence

where offenders are gang members (prolific), idle youth and a background share of residents,
targets are people out and about (fewer when fear is high) or businesses for extortion, and
guardianship is honest police presence, collective efficacy and any situational measures. Where
a programme raises guardianship, the crime it deters can move to adjacent neighbourhoods
(displacement) or fall there too (diffusion of benefits), as its ``displacement`` lever says.
Counts are Poisson; victims are drawn among residents with repeat victimisation; a share of
robberies, assaults and extortions turn lethal, more so where guns are plentiful. Retail drug
sales follow gang presence and the drug stock gangs hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.population import Status, sample_in_blocks
from model.state import ASSAULT, EXTORTION, HOMICIDE, ROBBERY

if TYPE_CHECKING:
    from model.model import SecurityModel

MEMBER_WEIGHT = 3.0  # a gang member offends about three times as often as an idle youth
BACKGROUND_OFFENDING = 0.02  # offenders per resident from the general population, scaled by disadvantage
EFFICACY_GUARDIANSHIP = 0.8
STREET_TYPES = (ROBBERY, EXTORTION, ASSAULT)


def offenders(model: SecurityModel) -> dict[int, np.ndarray]:
    """Motivated offenders per neighbourhood, by crime type."""
    hood = model.hood
    members = model.gang_members.sum(axis=0).astype(float)
    youth = hood.youth_offending + model.levers.enrolled_offending * hood.enrolled_offending
    background = BACKGROUND_OFFENDING * model.world.residents * model.world.disadvantage
    street = MEMBER_WEIGHT * members + youth + background
    extortion = members + 0.5 * model.world.spread(members)
    return {ROBBERY: street, ASSAULT: street, EXTORTION: extortion}


def guardianship(model: SecurityModel, with_levers: bool = True) -> dict[int, np.ndarray]:
    """Capable guardians per crime type (1 = none beyond the baseline constant)."""
    police = model.police.per_1000
    lv = model.levers
    if not with_levers:
        police = police - lv.patrol_officers / model.world.residents * 1000.0
    base = 1.0 + model.scenario.police.deterrence * police + EFFICACY_GUARDIANSHIP * model.hood.efficacy
    if not with_levers:
        return {c: base for c in STREET_TYPES}
    general = base * lv.guardianship
    return {ROBBERY: general * lv.property_guardianship, EXTORTION: general * lv.property_guardianship,
            ASSAULT: general}


def expected_street_crime(model: SecurityModel, with_levers: bool = True,
                          off: dict[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
    """Expected counts this step per type and neighbourhood, before displacement.

    ``off`` is :func:`offenders` if the caller has already computed it this step.
    """
    n = model.world.residents.astype(float)
    active = model.activity()
    targets = {ROBBERY: n * active, ASSAULT: n * active, EXTORTION: n * model.world.commerce * active}
    off = offenders(model) if off is None else off
    guard = guardianship(model, with_levers)
    deter = model.deterrence()
    return {
        c: model.cal.street_scale[c] * off[c] / n * targets[c] / guard[c] * deter * model.dt_years
        for c in STREET_TYPES
    }


def displaced(model: SecurityModel, rates: dict[int, np.ndarray],
              off: dict[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
    """Move the share of deterred crime the displacement lever says to adjacent neighbourhoods."""
    shift = model.levers.displacement
    if not shift.any():
        return rates
    free = expected_street_crime(model, with_levers=False, off=off)
    out = {}
    for c, lam in rates.items():
        deterred = np.maximum(free[c] - lam, 0.0)
        out[c] = np.maximum(lam + model.world.spread(shift * deterred), 0.0)
    return out


def repeat_weight(model: SecurityModel):
    """Acceptance for victims: more likely if victimised before (capped at three times)."""
    people = model.people
    r = model.scenario.crime.repeat_victimisation

    def accept(ids: np.ndarray) -> np.ndarray:
        past = np.minimum(people.victimisations[ids], 3).astype(float)
        return (1.0 + r * past) / (1.0 + 3.0 * r) * people.free(ids)

    return accept


def business_victim(model: SecurityModel):
    """Extortion victims are working adults (shopkeepers, bus drivers, vendors)."""
    people = model.people
    base = repeat_weight(model)

    def accept(ids: np.ndarray) -> np.ndarray:
        ok = (people.age(ids, model.day) >= 18) & people.has(ids, Status.EMPLOYED)
        return base(ids) * ok

    return accept


def offender_gang(model: SecurityModel, rng: np.random.Generator, hoods: np.ndarray,
                  share: np.ndarray) -> np.ndarray:
    """Gang behind each incident (-1 if none), given the gang share of offending per neighbourhood."""
    gang = np.full(hoods.size, -1, np.int8)
    involved = rng.random(hoods.size) < share[hoods]
    if involved.any():
        control = model.control[:, hoods[involved]] + 1e-12
        u = rng.random(int(involved.sum())) * control.sum(axis=0)
        g = np.minimum((np.cumsum(control, axis=0) < u).sum(axis=0), model.control.shape[0] - 1)
        gang[involved] = g
    return gang


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Draw today's street crimes, their victims, and which turn lethal; and retail drug sales."""
    off = offenders(model)  # once a step: nothing it reads changes before the draws
    rates = displaced(model, expected_street_crime(model, off=off), off=off)
    members = model.gang_members.sum(axis=0).astype(float)
    lethality = model.lethality()
    names = {ROBBERY: "robberies", EXTORTION: "extortions", ASSAULT: "assaults"}
    for c in STREET_TYPES:
        counts = rng.poisson(rates[c])
        hoods = np.repeat(np.arange(counts.size), counts)
        if hoods.size == 0:
            continue
        accept = business_victim(model) if c == EXTORTION else repeat_weight(model)
        victims = sample_in_blocks(rng, model.people.block_start, hoods, accept)
        ok = victims >= 0
        hoods, victims = hoods[ok], victims[ok]
        if c == EXTORTION:
            share = np.ones(off[c].size) if model.control.shape[0] else np.zeros(off[c].size)
            p_kill = model.cal.extortion_killing * lethality[hoods]
        else:
            share = np.divide(MEMBER_WEIGHT * members, off[c], out=np.zeros_like(members), where=off[c] > 0)
            p_kill = model.cal.escalation * lethality[hoods]
        gang = offender_gang(model, rng, hoods, share) if model.control.shape[0] else np.full(hoods.size, -1, np.int8)
        lethal = rng.random(hoods.size) < p_kill
        kind = np.where(lethal, HOMICIDE, c)
        model.incidents.add(kind, hoods, victims, gang)
        if c == EXTORTION:
            paid = ~lethal & (gang >= 0)
            model.collect_extortion(hoods[paid], gang[paid])
        model.tally.count(names[c], hoods[~lethal])
    drug_sales(model, rng)


def drug_sales(model: SecurityModel, rng: np.random.Generator) -> None:
    """Retail sales by each gang in its territory, limited by the drugs it holds."""
    if not model.gang_list:
        return
    n = model.world.residents.astype(float)
    deterrence = model.deterrence()
    for gang in model.gang_list:
        availability = gang.drug_stock_kg / (gang.drug_stock_kg + model.cal.stock_reference_kg[gang.gang_id] + 1e-12)
        lam = model.cal.drug_scale * model.control[gang.gang_id] * availability * n * model.dt_years
        sales = rng.poisson(lam * deterrence)
        total = int(sales.sum())
        if total == 0:
            continue
        used = min(total * model.traffic.kg_per_sale, gang.drug_stock_kg)
        gang.drug_stock_kg -= used
        gang.revenue_today += total * model.scenario.gangs.drug_margin_usd
        model.tally.hood["drug_sales"] += sales
