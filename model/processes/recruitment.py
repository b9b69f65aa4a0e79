"""Youth join gangs, and members leave them.

Joining is a hazard for each free youth (12-24) not in a gang: a calibrated base rate times
personal risk, the gang presence in the neighbourhood, the pull of gang money, the number of the
youth's two friends already in a gang (peer ties), what the youth is doing (school, work, a
programme), the perceived certainty of punishment and any programme lever. Events are drawn by
Poisson thinning inside each neighbourhood's block: candidates at the neighbourhood's maximum
hazard, each kept with probability hazard/maximum. Exits are a hazard per member.

A city's day brings a handful of candidates at most: up to ``FEW`` are drawn and weighed one at a time
with Python numbers (the same draws and the same arithmetic as the array code, which takes over on
busier days), because a numpy call on a few values costs more than the arithmetic.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from model import draws
from model.compiled import kernel
from model.population import YOUTH_AGES, Population, Status, anyone_in, sample_in_blocks
from model.processes.common import FEW, draw_members, leave_gang, member_views

if TYPE_CHECKING:
    from model.model import SecurityModel

SCHOOL_FACTOR = 0.5  # attending school roughly halves the hazard
WORK_FACTOR = 0.4  # a job more than halves it
AGE_OUT_FACTOR = 2.0  # members over 30 leave twice as fast


def status_factor(model: SecurityModel, ids: np.ndarray) -> np.ndarray:
    """Hazard multiplier from what each youth is doing now (school, work, programmes)."""
    lv = model.levers
    table = _status_factors(lv.enrolled_recruitment, lv.graduate_recruitment)
    return table[model.people.status[ids] & _ACTIVITY_BITS]


_ACTIVITY_BITS = Status.SCHOOL | Status.EMPLOYED | Status.ENROLLED | Status.GRADUATE


@functools.lru_cache(maxsize=64)
def _status_factors(enrolled: float, graduate: float) -> np.ndarray:
    """The multiplier for every combination of the activity flags (a lookup table: one gather per call).

    School halves the hazard, work sets it to at most WORK_FACTOR, then programmes scale it; each
    entry is the same floating-point arithmetic as applying those rules to one person.
    """
    table = np.ones(int(_ACTIVITY_BITS) + 1)
    for bits in range(table.size):
        f = 1.0
        if bits & Status.SCHOOL:
            f = SCHOOL_FACTOR
        if bits & Status.EMPLOYED:
            f = min(f, WORK_FACTOR)
        if bits & Status.ENROLLED:
            f = f * enrolled
        if bits & Status.GRADUATE:
            f = f * graduate
        table[bits] = f
    table.flags.writeable = False  # shared between calls
    return table


def person_hazard(model: SecurityModel, ids: np.ndarray) -> np.ndarray:
    """Personal part of the joining hazard (0 for anyone not eligible), at most ``max_personal``."""
    people = model.people
    eligible = people.is_youth(ids, model.day) & (people.gang[ids] < 0) & people.free(ids)
    peers_in = np.add.reduce(people.gang[people.peers[ids]] >= 0, axis=1)
    peer = 1.0 + model.scenario.gangs.peer_influence * peers_in
    return np.where(eligible, people.risk[ids] * peer * status_factor(model, ids), 0.0)


def max_personal(model: SecurityModel) -> float:
    return Population.RISK_CAP * (1.0 + 2.0 * model.scenario.gangs.peer_influence)


def area_hazard(model: SecurityModel) -> np.ndarray:
    """Neighbourhood part of the joining hazard, per year (a new array)."""
    return _rates(model, max_personal(model))[0]


@kernel
def _hazards(rate, presence, pull, deterrence, lever, most, residents, dt, exit_per_year, exit_lever, out):
    """The step's neighbourhood terms, into ``out`` (rows: area hazard, candidates, exit chance). Per neighbourhood:

        area hazard = rate * gang presence * pull of gang money * deterrence * recruitment lever   (per year)
        candidates  = residents * (area hazard * most personal hazard) * dt   (the mean, for Poisson thinning)
        exit chance = clip(exit rate * exit lever * dt * AGE_OUT_FACTOR, 0, 1)   (per member, before thinning by age)
    """
    for h in range(out.shape[1]):
        hazard = rate * presence[h] * pull[h] * deterrence[h] * lever[h]
        out[0, h] = hazard
        out[1, h] = residents[h] * (hazard * most) * dt
        leave = exit_per_year * exit_lever[h] * dt * AGE_OUT_FACTOR
        leave = 0.0 if leave <= 0.0 else leave  # (the clip as np.maximum and np.minimum: see model.compiled)
        out[2, h] = 1.0 if leave >= 1.0 else leave


def _rates(model: SecurityModel, most: float) -> np.ndarray:
    """:func:`_hazards` for the model as it stands (``most``: :func:`max_personal`)."""
    lv = model.levers
    out = np.empty((3, model.residents.size))
    _hazards(model.cal.recruitment_per_year, model.presence(), model.gang_pull(), model.deterrence(), lv.recruitment,
             most, model.residents, model.dt_years, model.scenario.gangs.exit_per_year, lv.exit, out)
    return out


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Draw today's recruits and leavers."""
    people = model.people
    most = max_personal(model)
    terms = _rates(model, most)
    rates, exit_chance = terms[1], terms[2]  # (indexed: cheaper than unpacking the rows)
    candidates = draws.poisson(rng, rates)  # rng.poisson(rates)'s draws, without numpy's per-call checks
    where = candidates.nonzero()[0]
    if where.size:
        counts = candidates[where].tolist()
        if sum(counts) <= FEW:  # a handful (the usual day): drawn and weighed with Python numbers
            hoods = [h for h, n in zip(where.tolist(), counts, strict=True) for _ in range(n)]
            ids = anyone_in(rng, people.block_start, hoods)
            u = rng.random(len(ids)).tolist()
            kept = [(person, hood) for person, hood, x, hazard in zip(ids, hoods, u, _few_hazards(model, ids),
                                                                       strict=True) if x * most < hazard]
            if kept:
                _join(model, rng, np.array([person for person, _ in kept], np.int64),
                      np.array([hood for _, hood in kept], np.int64))
        else:
            hoods = np.repeat(where, counts)
            ids = sample_in_blocks(rng, people.block_start, hoods)
            keep = rng.random(ids.size) * most < person_hazard(model, ids)
            if keep.any():
                _join(model, rng, ids[keep], hoods[keep])

    leaving = draws.binomial(rng, member_views(model).by_hood, exit_chance)  # thinned below
    where = leaving.nonzero()[0]
    if where.size:
        hoods = np.repeat(where, leaving[where])
        ids = draw_members(model, rng, hoods)
        ids = ids[ids >= 0]
        older = people.age(ids, model.day) > 30
        keep = rng.random(ids.size) < np.where(older, 1.0, 1.0 / AGE_OUT_FACTOR)
        ids = np.unique(ids[keep])
        if ids.size:
            model.tally.count("gang_exits", people.home[ids])
            leave_gang(model, ids)


def _join(model: SecurityModel, rng: np.random.Generator, ids: np.ndarray, hoods: np.ndarray) -> None:
    """Youth ``ids`` (found in ``hoods``) join a gang, chosen in proportion to its control there."""
    ids, first = np.unique(ids, return_index=True)
    hoods = hoods[first]
    control = model.control[:, hoods]
    u = rng.random(ids.size) * control.sum(axis=0)
    gang = (np.cumsum(control, axis=0) < u).sum(axis=0)
    gang = np.minimum(gang, model.control.shape[0] - 1)
    model.people.gang[ids] = gang.astype(np.int8)
    np.add.at(model.gang_members, (gang, hoods), 1)
    model.tally.count("recruits", hoods)


def _few_hazards(model: SecurityModel, ids: list[int]) -> list[float]:
    """:func:`person_hazard` for a handful of people, one at a time with Python numbers.

    The same integer age arithmetic (floor division) and the same double products in the same order.
    """
    people = model.people
    day = model.day
    influence = model.scenario.gangs.peer_influence
    lv = model.levers
    factors = _status_factors(lv.enrolled_recruitment, lv.graduate_recruitment)
    gang, status, peers, risk = people.gang, people.status, people.peers, people.risk
    youngest, oldest = YOUTH_AGES
    hazards = []
    for i in ids:
        age = people.age_of(i, day)
        st = int(status[i])
        if youngest <= age <= oldest and gang[i] < 0 and not st & _DETAINED:
            peers_in = int(gang[peers[i, 0]] >= 0) + int(gang[peers[i, 1]] >= 0)
            hazards.append(float(risk[i]) * (1.0 + influence * peers_in) * float(factors[st & _ACTIVITY_BITS]))
        else:
            hazards.append(0.0)
    return hazards


_DETAINED = int(Status.DETAINED)
