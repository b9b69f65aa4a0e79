"""The monthly census: the only pass over every person, about once every 30 days.

It recounts youth (ages follow from the date) by what they are doing, and recomputes the gang-member counts
and the neighbourhood sums of personal shocks exactly, so incremental bookkeeping cannot drift.
Its cost is O(residents) once a month, a small share of a month's steps: one compiled pass over the people
(:func:`_count_people`) and one per kind of shock (:func:`_decayed_sums`).
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
    n_unserved = _count_people(people.age0, people.birthday, model.day, people.status, people.gang, people.home,
                               people.block_start, _IDLE_BY_ACTIVITY, youth, enrolled, youth_offending,
                               enrolled_offending, unserved, members)
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
def _count_people(age0, birthday, day, status, gang, home, block_start, idle_by_activity, youth, enrolled,
                  youth_offending, enrolled_offending, unserved, members):
    """Count the people of every neighbourhood block h (rows ``block_start[h]`` to ``block_start[h + 1]``).

    Person i is young when 12 <= age0 + (birthday + day) // 365 <= 24 on ``day``; free when not detained.

        youth[h]                  young people; enrolled[h]: those of them free and in a programme now
        youth_offending[home]    + the idle weight of each free young person in no gang and not enrolled
        enrolled_offending[home] + the idle weight of each enrolled young person in no gang
                                   (the weights added in row order, as np.bincount adds them)
        unserved                  the rows of the free young people in no gang, neither enrolled nor graduates
                                  (open to a youth programme), ascending
        members[gang, home]      + 1 for each free member of a gang (when there are gangs)

    Returns how many rows were written into ``unserved``.
    """
    n_unserved = 0
    with_gangs = members.shape[0] > 0
    for h in range(block_start.size - 1):
        for i in range(block_start[h], block_start[h + 1]):
            state = status[i]
            free = (state & _DETAINED) == 0
            if with_gangs and free and gang[i] >= 0:
                members[gang[i], home[i]] += 1
            age = int(age0[i]) + (int(birthday[i]) + day) // 365
            if age < _YOUNGEST or age > _OLDEST:
                continue
            youth[h] += 1.0
            if not free:
                continue
            idle = idle_by_activity[state & _ACTIVITY_BITS]
            if (state & _ENROLLED) != 0:
                enrolled[h] += 1.0
                if gang[i] < 0:
                    enrolled_offending[home[i]] += idle
            elif gang[i] < 0:
                youth_offending[home[i]] += idle
                if (state & _GRADUATE) == 0:
                    unserved[n_unserved] = i
                    n_unserved += 1
    return n_unserved


@kernel
def _shock_ages(shock, time, t):
    """The youngest and the oldest age (``t - time``) of the personal shocks that are not 0; (0, 0) if none."""
    youngest, oldest, found = 0, 0, False
    for i in range(shock.size):
        if shock[i] != 0:
            age = t - time[i]
            if not found:
                youngest, oldest, found = age, age, True
            youngest, oldest = min(youngest, age), max(oldest, age)
    return youngest, oldest


@kernel
def _decayed_sums(shock, time, home, t, powers, first, out):
    """Per neighbourhood, the sum of the shocks that are not 0 as they stand at step ``t``, into ``out``:

        out[home] + shock * decay ** (t - time)      (in row order, as np.bincount adds them)

    with ``powers[a - first]`` = decay ** a (numpy's power: not worked out here).
    """
    for i in range(shock.size):
        if shock[i] != 0:
            out[home[i]] += shock[i] * powers[t - time[i] - first]


def _shock_sums(shock: np.ndarray, time: np.ndarray, home: np.ndarray, t: int, decay: float,
                k: int) -> np.ndarray:
    """Neighbourhood sums of personal shocks decayed to step ``t``, over the people who have one."""
    youngest, oldest = _shock_ages(shock, time, t)
    sums = np.zeros(k)
    _decayed_sums(shock, time, home, t, decay_powers(decay, youngest, oldest), youngest, sums)
    return sums


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    del rng
    if due(model):
        count(model)
