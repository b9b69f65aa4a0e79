"""Youth join gangs, and members leave them.

Joining is a hazard for each free youth (12-24) not in a gang: a calibrated base rate times
personal risk, the gang presence in the neighbourhood, the pull of gang money, the number of the
youth's two friends already in a gang (peer ties), what the youth is doing (school, work, a
programme), the perceived certainty of punishment and any programme lever. Events are drawn by
Poisson thinning inside each neighbourhood's block: candidates at the neighbourhood's maximum
hazard, each kept with probability hazard/maximum. Exits are a hazard per member.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from model.population import Population, Status, sample_in_blocks
from model.processes.common import draw_members, leave_gang, member_views

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
    """Neighbourhood part of the joining hazard, per year."""
    return (
        model.cal.recruitment_per_year
        * model.presence()
        * model.gang_pull()
        * model.deterrence()
        * model.levers.recruitment
    )


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Draw today's recruits and leavers."""
    people = model.people
    area = area_hazard(model)
    hmax = area * max_personal(model)
    candidates = rng.poisson(model.world.residents * hmax * model.dt_years)
    hoods = np.repeat(np.arange(area.size), candidates)
    if hoods.size:
        ids = sample_in_blocks(rng, people.block_start, hoods)
        keep = rng.random(ids.size) * max_personal(model) < person_hazard(model, ids)
        ids, hoods = ids[keep], hoods[keep]
        if ids.size:
            ids, first = np.unique(ids, return_index=True)
            hoods = hoods[first]
            control = model.control[:, hoods]
            u = rng.random(ids.size) * control.sum(axis=0)
            gang = (np.cumsum(control, axis=0) < u).sum(axis=0)
            gang = np.minimum(gang, model.control.shape[0] - 1)
            people.gang[ids] = gang.astype(np.int8)
            np.add.at(model.gang_members, (gang, hoods), 1)
            model.tally.count("recruits", hoods)

    members = member_views(model).by_hood
    exit_rate = model.scenario.gangs.exit_per_year * model.levers.exit * model.dt_years
    leaving = rng.binomial(members, np.minimum(np.maximum(exit_rate * AGE_OUT_FACTOR, 0.0), 1.0))  # thinned below
    hoods = np.repeat(np.arange(members.size), leaving)
    if hoods.size:
        ids = draw_members(model, rng, hoods)
        ids = ids[ids >= 0]
        older = people.age(ids, model.day) > 30
        keep = rng.random(ids.size) < np.where(older, 1.0, 1.0 / AGE_OUT_FACTOR)
        ids = np.unique(ids[keep])
        if ids.size:
            model.tally.count("gang_exits", people.home[ids])
            leave_gang(model, ids)
