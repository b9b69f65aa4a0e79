"""Arrests: from reported crimes, from detected drug sales, and from patrol and tips.

A reported incident leads to an arrest with the type's clearance probability, scaled by honest
police presence relative to the city's starting level (square root: diminishing returns) and by
the flow of tips (trust, community policing, shared intelligence). Corrupt officers warn gangs,
so arrests for gang crimes fall with the corrupt share where they happen. Patrol and tips also
produce proactive arrests of gang members; focused deterrence aims them at gangs that kill.
Arrested people are held (``DETAINED``) and a case opens; a member held is off the street.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from model.compiled import kernel
from model.population import Acceptance, Status, sample_in_blocks
from model.processes.common import FEW, binomial_counts, draw_members, poisson_counts, unit
from model.state import DRUG_SALE

if TYPE_CHECKING:
    from model.model import SecurityModel

OFFENDER_AGE = (15, 45)


def police_factor(model: SecurityModel) -> np.ndarray:
    """Relative capacity to clear crimes per neighbourhood (1 at the city's starting presence; a new array)."""
    police = model.police
    capacity = np.empty(police.per_1000.size)
    _capacity(police.per_1000, police.reference_per_1000, capacity)
    return capacity


@kernel
def _capacity(per_1000, reference, out):
    """sqrt(max(officers per 1,000, 0) / the city's starting level) per neighbourhood, into ``out``: square root,
    for diminishing returns (sqrt is correctly rounded, in numpy and compiled alike)."""
    for h in range(out.size):
        police = per_1000[h]
        police = 0.0 if police <= 0.0 else police  # (as np.maximum(police, 0.0): signed zero and NaN, model.compiled)
        out[h] = math.sqrt(police / reference)


def tip_factor(model: SecurityModel) -> np.ndarray:
    """Information reaching police: trust relative to its start, times programme levers (a new array)."""
    tips = model.levers.tips
    factor = np.empty(tips.size)
    _tips(model.trust(), max(model.scenario.perception.initial_trust, 1e-9), tips, factor)
    return factor


@kernel
def _tips(trust, start, tips, out):
    """(0.5 + 0.5 * trust / trust at the start) * tips lever per neighbourhood, into ``out``."""
    for h in range(out.size):
        out[h] = (0.5 + 0.5 * trust[h] / start) * tips[h]


def arrest(model: SecurityModel, rng: np.random.Generator, ids: np.ndarray, kind: np.ndarray,
           hoods: np.ndarray) -> None:
    """Take ``ids`` into custody and open a case for each (duplicates and the detained skipped)."""
    people = model.people
    ok = ids >= 0
    ids, kind, hoods = ids[ok], kind[ok], hoods[ok]
    if ids.size == 0:  # no suspect found: nothing to do (checked early; it is the common case)
        return
    if ids.size > 1:  # (one suspect, the usual arrest, is unique already)
        ids, first = np.unique(ids, return_index=True)
        kind, hoods = kind[first], hoods[first]
    free = people.free(ids)
    ids, kind, hoods = ids[free], kind[free], hoods[free]
    if ids.size == 0:
        return
    members = people.gang[ids] >= 0
    if model.scenario.justice.detain_pending:
        if np.count_nonzero(members):
            np.add.at(model.gang_members, (people.gang[ids[members]].astype(np.int64), people.home[ids[members]]), -1)
        people.set_flag(ids, Status.DETAINED)
    model.tally.count("arrests", hoods)
    model.tally.count("gang_arrests", hoods[members])
    mean_days = model.scenario.justice.case_days * model.levers.case_days[hoods]
    model.justice.add_cases(ids, kind, hoods, due_steps(rng, model.t, mean_days, model.step_days))


def due_steps(rng: np.random.Generator, t: int, mean_days: np.ndarray, step_days: float) -> np.ndarray:
    """The step each case's verdict is due: after an exponential wait of ``mean_days`` (at least one step)."""
    if mean_days.size == 1:  # one case: a scalar draw (the same number, without the array call's checks)
        days = rng.exponential(mean_days.item())
        return np.array([t + max(1, round(days / step_days))], np.int64)  # round: half to even, as np.round
    return t + np.maximum(1, np.round(rng.exponential(mean_days) / step_days)).astype(np.int64)


def offender(model: SecurityModel) -> Acceptance:
    """Acceptance of suspects for a crime by no gang: free young people outside gangs, by their risk.

    ``accept.one(i)`` is the same for one person, in Python numbers (see population.sample_in_blocks).
    """
    people = model.people
    day = model.day

    def accept(ids: np.ndarray) -> np.ndarray:
        age = people.age(ids, day)
        young = (age >= OFFENDER_AGE[0]) & (age <= OFFENDER_AGE[1])
        return young * people.free(ids) * (people.gang[ids] < 0) * people.risk[ids] / people.RISK_CAP

    def one(i: int) -> float:
        age = people.age_of(i, day)
        if (OFFENDER_AGE[0] <= age <= OFFENDER_AGE[1] and not people.status.item(i) & Status.DETAINED
                and people.gang.item(i) < 0):
            return float(people.risk[i] / people.RISK_CAP)  # (a float32 quotient, as the array's)
        return 0.0

    accept.one = one
    return accept


@kernel
def _proactive_means(per_officer, effective, tips, corrupt, group_enforcement, counts, dt, out):
    """Expected proactive arrests of gang members this step per neighbourhood, into ``out``:

        members = free members of all gangs here (counts: gang x neighbourhood)
        arrests = max(per_officer * effective officers * tips * (1 - corrupt share) * group enforcement
                      * members / (members + 10) * dt, 0)

    (members / (members + 10): where there are many, police time limits the arrests, not members to find.)
    The members are summed here rather than read from ``member_views``: arrests earlier in this step change the
    counts, and the shared views would be worked out again for one read.
    """
    for h in range(out.size):
        members = 0
        for g in range(counts.shape[0]):
            members += counts[g, h]
        arrests = (per_officer * effective[h] * tips[h] * (1.0 - corrupt[h]) * group_enforcement[h]
                   * members / (members + 10.0) * dt)
        out[h] = 0.0 if arrests <= 0.0 else arrests  # (as np.maximum(arrests, 0.0): see model.compiled)


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Arrests from today's reports, detected drug sales, and proactive policing."""
    people = model.people
    inc = model.incidents
    clearance = model.cal.clearance
    tips = tip_factor(model)
    corrupt = model.police.corrupt_share
    # Steps below are skipped when they have nothing to work on: they would draw no random
    # numbers (draws of size 0, or with zero counts, consume nothing) and change nothing.
    rep = inc.reported.nonzero()[0]
    if rep.size:
        caught = _cleared(model, rng, rep, tips)
        if caught.size:
            gang_caught = caught[inc.gang[caught] >= 0]
            other_caught = caught[inc.gang[caught] < 0]
            suspects_g = draw_members(model, rng, inc.hood[gang_caught], inc.gang[gang_caught].astype(np.int64))
            suspects_o = sample_in_blocks(rng, people.block_start, inc.hood[other_caught], offender(model))
            ids = np.concatenate([suspects_g, suspects_o])
            idx = np.concatenate([gang_caught, other_caught])
            inc.arrested[idx[ids >= 0]] = True
            arrest(model, rng, ids, inc.kind[idx], inc.hood[idx])

    # detected drug sales and proactive work lead to gang members
    detected = model.tally.hood["drug_sales_detected"]
    drug_arrests = binomial_counts(rng, detected,
                                   lambda: clearance[DRUG_SALE] * police_factor(model) * tips * (1.0 - corrupt))
    proactive = np.empty(corrupt.size)
    _proactive_means(model.scenario.police.proactive_arrests_per_officer_year, model.police.effective, tips, corrupt,
                     model.levers.group_enforcement, model.gang_members, model.dt_years, proactive)
    n = poisson_counts(rng, proactive) + drug_arrests  # 0 (a number) on most days
    if not isinstance(n, int) and np.count_nonzero(n):
        hoods = model.world.hood_ids.repeat(n)
        ids = draw_members(model, rng, hoods)
        arrest(model, rng, ids, np.full(hoods.size, DRUG_SALE, np.int8), hoods)


def _cleared(model: SecurityModel, rng: np.random.Generator, rep: np.ndarray, tips: np.ndarray) -> np.ndarray:
    """The reported incidents ``rep`` that police clear: by the type's clearance, capacity and tips here,
    less the corrupt share for gang crimes."""
    inc = model.incidents
    clearance, capacity, corrupt = model.cal.clearance, police_factor(model), model.police.corrupt_share
    if rep.size > FEW:
        hood = inc.hood[rep]
        gang_crime = inc.gang[rep] >= 0
        p = (clearance[inc.kind[rep]] * capacity[hood] * tips[hood]
             * np.where(gang_crime, 1.0 - corrupt[hood], 1.0))
        return rep[rng.random(rep.size) < unit(p)]
    # a few a day: one by one in Python floats (the same operations in the same order, and the same draws)
    caught = []
    for i, u in zip(rep.tolist(), rng.random(rep.size).tolist(), strict=True):
        h = inc.hood.item(i)
        p = (clearance.item(inc.kind.item(i)) * capacity.item(h) * tips.item(h)
             * (1.0 - corrupt.item(h) if inc.gang.item(i) >= 0 else 1.0))
        if u < min(max(p, 0.0), 1.0):
            caught.append(i)
    return np.array(caught, rep.dtype)
