"""The monthly census: the only pass over every person, once every 30 days.

It ages people, recounts youth by what they are doing, and recomputes the gang-member counts
and the neighbourhood sums of personal shocks exactly, so incremental bookkeeping cannot drift.
Its cost is O(residents) once a month, a small share of a month's steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.population import Status

if TYPE_CHECKING:
    from model.model import SecurityModel

IDLE_WEIGHT = {"idle": 1.0, "school": 0.3, "work": 0.4}
CENSUS_DAYS = 30


def due(model: SecurityModel) -> bool:
    return model.day % CENSUS_DAYS == 0


def count(model: SecurityModel) -> None:
    """Recount everything derived from the person arrays."""
    people = model.people
    k = model.world.n_neighbourhoods
    every = np.arange(people.size)
    youth = people.is_youth(every, model.day)
    home = people.home
    st = people.status
    free = (st & Status.DETAINED) == 0
    enrolled = youth & free & ((st & Status.ENROLLED) != 0)
    weight = np.where(st & Status.SCHOOL, IDLE_WEIGHT["school"], IDLE_WEIGHT["idle"])
    weight = np.where(st & Status.EMPLOYED, IDLE_WEIGHT["work"], weight)
    active_youth = youth & free & ~enrolled & (people.gang < 0)
    hood = model.hood
    hood.youth = np.bincount(home, youth, minlength=k).astype(float)
    hood.youth_offending = np.bincount(home, active_youth * weight, minlength=k)
    hood.enrolled = np.bincount(home, enrolled, minlength=k).astype(float)
    members = (people.gang >= 0) & free
    g = model.gang_members.shape[0]
    if g:
        flat = people.gang[members].astype(np.int64) * k + home[members]
        model.gang_members = np.bincount(flat, minlength=g * k).reshape(g, k).astype(np.int64)
    t = model.t
    fear = people.fear_shock * np.power(model.fear_decay, (t - people.fear_time).astype(np.float64))
    trust = people.trust_shock * np.power(model.trust_decay, (t - people.trust_time).astype(np.float64))
    hood.fear_shock_sum = np.bincount(home, fear, minlength=k)
    hood.trust_shock_sum = np.bincount(home, trust, minlength=k)


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    del rng
    if due(model):
        count(model)
