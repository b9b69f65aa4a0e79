"""Arrests: from reported crimes, from detected drug sales, and from patrol and tips.

A reported incident leads to an arrest with the type's clearance probability, scaled by honest
police presence relative to the city's starting level (square root: diminishing returns) and by
the flow of tips (trust, community policing, shared intelligence). Corrupt officers warn gangs,
so arrests for gang crimes fall with the corrupt share where they happen. Patrol and tips also
produce proactive arrests of gang members; focused deterrence aims them at gangs that kill.
Arrested people are held (``DETAINED``) and a case opens; a member held is off the street.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from model.population import Acceptance, Status, sample_in_blocks
from model.processes.common import FEW, ONE, ZERO, binomial_counts, draw_members, poisson_counts
from model.state import DRUG_SALE

if TYPE_CHECKING:
    from model.model import SecurityModel

OFFENDER_AGE = (15, 45)

_capacity: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per model: (presence key, police_factor)


def police_factor(model: SecurityModel) -> np.ndarray:
    """Relative capacity to clear crimes per neighbourhood (1 at the city's starting presence).

    Read-only, shared: kept until police presence changes (once a step, in ``policing``), while it is
    asked for twice a step (here and for the day's certainty of conviction).
    """
    police = model.police
    key = (police.per_1000.tobytes(), police.reference_per_1000)
    held = _capacity.get(model)
    if held is None or held[0] != key:
        capacity = np.sqrt(np.maximum(police.per_1000, 0.0) / police.reference_per_1000)
        capacity.flags.writeable = False
        held = _capacity[model] = (key, capacity)
    return held[1]


_tips_kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per model: (trust, tips key, start, factor)


def tip_factor(model: SecurityModel) -> np.ndarray:
    """Information reaching police: trust relative to its start, times programme levers.

    Read-only, shared: kept until the trust array (itself kept, and replaced when the moods change) or the
    tips lever's contents change. It is asked for in the day's certainty of conviction (``remember``) and
    again in the next step's enforcement, with the same trust and tips on most days.
    """
    trust = model.trust()
    start = model.scenario.perception.initial_trust
    tips = model.levers.tips
    key = tips.tobytes()
    held = _tips_kept.get(model)
    # (``is``: the kept tuple holds the trust array, so its identity cannot pass to a new one)
    if held is None or held[0] is not trust or held[1] != key or held[2] != start:
        factor = (0.5 + 0.5 * trust / max(start, 1e-9)) * tips
        factor.flags.writeable = False
        held = _tips_kept[model] = (trust, key, start, factor)
    return held[3]


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


_proactive_kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per model: (key, terms)


def _proactive_terms(model: SecurityModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Free gang members per neighbourhood, the same plus 10 (the saturation's denominator), and the proactive
    arrests per officer-year and the step in years (0-d float64 arrays, as ``ONE``). Read-only.

    Kept until the member counts' contents (or the two numbers) change: in a city of 10,000 they stay the same
    from one step's enforcement to the next on most days. A plain sum, not member_views: in a large city the
    counts change around here every day, and views made here would be made again before anyone else read them.
    """
    counts = model.gang_members
    key = (counts.tobytes(), counts.shape, counts.dtype, model.scenario.police.proactive_arrests_per_officer_year,
           model.dt_years)
    held = _proactive_kept.get(model)
    if held is None or held[0] != key:
        members = np.add.reduce(counts, axis=0)
        terms = (members, members + 10.0, np.array(key[3], np.float64), np.array(key[4], np.float64))
        for term in terms:
            term.flags.writeable = False
        held = _proactive_kept[model] = (key, terms)
    return held[1]


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
    honest = ONE - corrupt
    detected = model.tally.hood["drug_sales_detected"]
    drug_arrests = binomial_counts(rng, detected, lambda: clearance[DRUG_SALE] * police_factor(model) * tips * honest)
    members, saturating, per_officer, dt_years = _proactive_terms(model)
    proactive = (per_officer * model.police.effective
                 * tips * honest * model.levers.group_enforcement
                 * members / saturating * dt_years)
    n = poisson_counts(rng, np.maximum(proactive, ZERO)) + drug_arrests  # 0 (a number) on most days
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
        return rep[rng.random(rep.size) < np.minimum(np.maximum(p, 0.0), 1.0)]
    # a few a day: one by one in Python floats (the same operations in the same order, and the same draws)
    caught = []
    for i, u in zip(rep.tolist(), rng.random(rep.size).tolist(), strict=True):
        h = inc.hood.item(i)
        p = (clearance.item(inc.kind.item(i)) * capacity.item(h) * tips.item(h)
             * (1.0 - corrupt.item(h) if inc.gang.item(i) >= 0 else 1.0))
        if u < min(max(p, 0.0), 1.0):
            caught.append(i)
    return np.array(caught, rep.dtype)
