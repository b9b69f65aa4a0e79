"""The monthly census: the only pass over every person, about once every 30 days.

It recounts youth (ages follow from the date) by what they are doing, and recomputes the gang-member counts
and the neighbourhood sums of personal shocks exactly, so incremental bookkeeping cannot drift.
Its cost is O(residents) once a month, a small share of a month's steps: one compiled pass over the people
(:func:`_count_people`) and, per kind of shock, one over the people who have one (:func:`_decayed_sums`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.compiled import kernel
from model.population import YOUTH_AGES, Status, decay_powers

if TYPE_CHECKING:
    from model.model import SecurityModel

IDLE_WEIGHT = {"idle": 1.0, "school": 0.3, "work": 0.4}
CENSUS_DAYS = 30


def due(model: SecurityModel) -> bool:
    """Every ~30 days whatever the step length (every step when steps are a month or longer)."""
    every = max(1, int(round(CENSUS_DAYS / model.step_days)))
    return model.t % every == 0


def count(model: SecurityModel) -> None:
    """Recount everything derived from the person arrays (new arrays: programmes notice a census by them)."""
    people = model.people
    k = model.world.n_neighbourhoods
    hood = model.hood
    youth, enrolled = np.zeros(k), np.zeros(k)
    youth_offending, enrolled_offending = np.zeros(k), np.zeros(k)
    unserved = np.empty(people.size, np.int32)
    g = model.gang_members.shape[0]
    members = np.zeros((g, k), np.int64)
    n_unserved = _count_people(people.age0, people.birthday, model.day, people.status, people.gang, people.block_start,
                               _IDLE_BY_ACTIVITY, youth, enrolled, youth_offending, enrolled_offending, unserved,
                               members)
    hood.youth, hood.enrolled = youth, enrolled
    hood.youth_offending, hood.enrolled_offending = youth_offending, enrolled_offending
    hood.unserved_rows = unserved[:n_unserved].copy()
    if g:
        model.gang_members = members
    hood.fear_shock_sum = _shock_sums(people.fear_shock, people.fear_time, people.home, model.t, model.fear_decay, k)
    hood.trust_shock_sum = _shock_sums(people.trust_shock, people.trust_time, people.home, model.t,
                                       model.trust_decay, k)


_ACTIVITY = Status.SCHOOL | Status.EMPLOYED


def _idle_table() -> np.ndarray:
    """The idle weight for every combination of the school and work flags (work counts over school)."""
    table = np.empty(int(_ACTIVITY) + 1)
    for bits in range(table.size):
        activity = "work" if bits & Status.EMPLOYED else "school" if bits & Status.SCHOOL else "idle"
        table[bits] = IDLE_WEIGHT[activity]
    return table


#: how much of their time young people are idle, by their school and work flags: school and work take most of it
_IDLE_BY_ACTIVITY = _idle_table()
# (the flags and ages as Python ints, constants of the compiled pass)
_YOUNGEST, _OLDEST = YOUTH_AGES
_DETAINED, _ENROLLED, _GRADUATE, _ACTIVITY_BITS = (int(Status.DETAINED), int(Status.ENROLLED), int(Status.GRADUATE),
                                                   int(_ACTIVITY))


@kernel
def _count_people(age0, birthday, day, status, gang, block_start, idle_by_activity, youth, enrolled, youth_offending,
                  enrolled_offending, unserved, members):
    """Count the people of every neighbourhood block h (rows ``block_start[h]`` to ``block_start[h + 1]``: the people
    who live in h). Person i is young when 12 <= age0 + (birthday + day) // 365 <= 24 on ``day``; free when not
    detained.

        youth[h]               young people; enrolled[h]: those of them free and in a programme now
        youth_offending[h]     the idle weights of the free young people in no gang and not enrolled
        enrolled_offending[h]  the idle weights of the enrolled young people in no gang
                               (each sum adds its weights in row order from 0, as np.bincount does)
        unserved               the rows of the free young people in no gang, neither enrolled nor graduates (open to
                               a youth programme), ascending
        members[gang, h]       free members of each gang (when there are gangs)

    Who is counted is worked out as 0/1 numbers, not branches (which a million people would mispredict): a
    weight times 0 adds +0.0, which leaves a sum of weights >= 0 as it was. Returns how many rows are in ``unserved``.
    """
    n_unserved = 0
    with_gangs = members.shape[0] > 0
    for h in range(block_start.size - 1):
        young_h = enrolled_h = active_sum = enrolled_sum = 0.0
        for i in range(block_start[h], block_start[h + 1]):
            state = status[i]
            free = (state & _DETAINED) == 0
            in_gang = gang[i] >= 0
            if with_gangs and free and in_gang:  # (few people: a branch the CPU predicts)
                members[gang[i], h] += 1
            age = int(age0[i]) + (int(birthday[i]) + day) // 365
            young = (age >= _YOUNGEST) & (age <= _OLDEST)
            in_programme = young & free & ((state & _ENROLLED) != 0)
            active = young & free & (not in_programme) & (not in_gang)
            idle = idle_by_activity[state & _ACTIVITY_BITS]
            young_h += young
            enrolled_h += in_programme
            active_sum += idle * active
            enrolled_sum += idle * (in_programme & (not in_gang))
            unserved[n_unserved] = i  # kept (the count moves on) only if open to a programme
            n_unserved += active & ((state & _GRADUATE) == 0)
        youth[h], enrolled[h] = young_h, enrolled_h
        youth_offending[h], enrolled_offending[h] = active_sum, enrolled_sum
    return n_unserved


@kernel
def _decayed_sums(ids, shock, time, home, t, powers, out):
    """Per neighbourhood, the sum of the shocks of ``ids`` (ascending) as they stand at step ``t``, into ``out``:

        out[home] + shock * decay ** (t - time)      (in row order, as np.bincount adds them)

    with ``powers[age]`` = decay ** age for every age ``t - time`` of ``ids`` (numpy's power: not worked out here).
    """
    for i in ids:
        out[home[i]] += shock[i] * powers[t - time[i]]


def _shock_sums(shock: np.ndarray, time: np.ndarray, home: np.ndarray, t: int, decay: float,
                k: int) -> np.ndarray:
    """Neighbourhood sums of personal shocks decayed to step ``t``, over the people who have one."""
    ids = np.flatnonzero(shock != 0)  # the same rows as flatnonzero(shock), three times faster on floats
    sums = np.zeros(k)
    if ids.size:
        ages = t - time[ids]
        if np.minimum.reduce(ages) < 0:  # (never in a run: a shock is dated by the step it happened at)
            return np.bincount(home[ids], shock[ids] * np.power(decay, ages.astype(np.float64)), minlength=k)
        _decayed_sums(ids, shock, time, home, t, decay_powers(decay, int(np.maximum.reduce(ages))), sums)
    return sums


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    del rng
    if due(model):
        count(model)
