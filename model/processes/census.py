"""The monthly census: the only pass over every person, about once every 30 days.

It recounts youth (ages follow from the date) by what they are doing, and recomputes the gang-member counts
and the neighbourhood sums of personal shocks exactly, so incremental bookkeeping cannot drift.
Its cost is O(residents) once a month, a small share of a month's steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.population import Status, decay_factors

if TYPE_CHECKING:
    from model.model import SecurityModel

IDLE_WEIGHT = {"idle": 1.0, "school": 0.3, "work": 0.4}
CENSUS_DAYS = 30


def due(model: SecurityModel) -> bool:
    """Every ~30 days whatever the step length (every step when steps are a month or longer)."""
    every = max(1, int(round(CENSUS_DAYS / model.step_days)))
    return model.t % every == 0


def count(model: SecurityModel) -> None:
    """Recount everything derived from the person arrays.

    The sums skip the rows that add nothing (non-youth, zero shocks): the remaining terms are
    added in the same order as over every row, so the results are the same to the last bit.
    """
    people = model.people
    k = model.world.n_neighbourhoods
    youth = people.is_youth(slice(None), model.day)  # every row, without gathering by index
    home = people.home
    st = people.status
    free = (st & Status.DETAINED) == 0
    enrolled = youth & free & ((st & Status.ENROLLED) != 0)
    active_youth = np.flatnonzero(youth & free & ~enrolled & (people.gang < 0))
    enrolled_ids = np.flatnonzero(enrolled & (people.gang < 0))
    hood = model.hood
    hood.youth = _block_counts(youth, people.block_start).astype(float)
    hood.youth_offending = np.bincount(home[active_youth], _idle_weight(st[active_youth]),
                                       minlength=k).astype(np.float64, copy=False)
    # enrolled youth keep the weight of what they do; programmes scale it (crime.offenders)
    hood.enrolled_offending = np.bincount(home[enrolled_ids], _idle_weight(st[enrolled_ids]),
                                          minlength=k).astype(np.float64, copy=False)
    hood.enrolled = _block_counts(enrolled, people.block_start).astype(float)
    # open to a youth programme: active youth who are neither enrolled (above) nor graduates
    hood.unserved_rows = active_youth[(st[active_youth] & Status.GRADUATE) == 0].astype(np.int32)
    members = (people.gang >= 0) & free
    g = model.gang_members.shape[0]
    if g:
        flat = people.gang[members].astype(np.int64) * k + home[members]
        model.gang_members = np.bincount(flat, minlength=g * k).reshape(g, k).astype(np.int64)
    hood.fear_shock_sum = _shock_sums(people.fear_shock, people.fear_time, home, model.t, model.fear_decay, k)
    hood.trust_shock_sum = _shock_sums(people.trust_shock, people.trust_time, home, model.t, model.trust_decay, k)


_ACTIVITY = Status.SCHOOL | Status.EMPLOYED


def _idle_table() -> np.ndarray:
    """The idle weight for every combination of the school and work flags (work counts over school)."""
    table = np.empty(int(_ACTIVITY) + 1)
    for bits in range(table.size):
        activity = "work" if bits & Status.EMPLOYED else "school" if bits & Status.SCHOOL else "idle"
        table[bits] = IDLE_WEIGHT[activity]
    return table


_IDLE_BY_ACTIVITY = _idle_table()


def _idle_weight(status: np.ndarray) -> np.ndarray:
    """How much of their time young people are idle: school and work take most of it.

    One gather from a table (two np.where on a million flags cost ten times more).
    """
    return _IDLE_BY_ACTIVITY[status & _ACTIVITY]


def _block_counts(flags: np.ndarray, block_start: np.ndarray) -> np.ndarray:
    """How many rows are flagged in each neighbourhood block (people are stored block by block)."""
    starts = block_start[:-1]
    filled = np.diff(block_start) > 0  # reduceat cannot take empty segments
    counts = np.zeros(starts.size, np.int64)
    counts[filled] = np.add.reduceat(flags, starts[filled], dtype=np.int64)
    return counts


def _shock_sums(shock: np.ndarray, time: np.ndarray, home: np.ndarray, t: int, decay: float,
                k: int) -> np.ndarray:
    """Neighbourhood sums of personal shocks decayed to step ``t``, over the people who have one."""
    ids = np.flatnonzero(shock != 0)  # the same rows as flatnonzero(shock), three times faster on floats
    now = shock[ids] * decay_factors(decay, t - time[ids])
    return np.bincount(home[ids], now, minlength=k).astype(np.float64, copy=False)  # int64 if none


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    del rng
    if due(model):
        count(model)
