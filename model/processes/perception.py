"""Fear of crime and trust in the police, neighbourhood by neighbourhood and person by person.

Each neighbourhood has a level of fear and of trust that moves towards a target over
``adjust_days``: fear rises with recent homicides and with gang control; trust falls with police
corruption and with impunity (offences that end in no conviction) and rises with legitimacy a
programme builds. People add personal shocks that fade with ``memory_days``: victims grow afraid;
victims who report gain trust if an arrest follows and lose it if not; positive contacts with
community police raise trust. Neighbourhood means are exact (see :mod:`model.population`).

A city's day brings a handful of victims and contacts: up to ``FEW`` of them are handled one at a time
with Python numbers (the same IEEE operations in the same order as the array code, which takes over
on busier days), because a numpy call on a few values costs more than the arithmetic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.compiled import kernel
from model.population import anyone_in, decay_factor, sample_in_blocks
from model.processes.common import FEW, poisson_counts

if TYPE_CHECKING:
    from model.model import SecurityModel
    from model.scenario import Perception

CONTACT_TRUST = 0.05  # trust from one positive, procedurally fair contact
BYSTANDER_FEAR = 0.05  # fear each homicide adds to a handful of neighbours who saw or heard it
WITNESSES = 5
MAX_VICTIMISATIONS = 60000  # the counter is 16-bit


def _shock_arrays(model: SecurityModel, which: str) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Personal shocks, their times, the decay per step and the neighbourhood sums of fear or trust."""
    people = model.people
    if which == "fear":
        return people.fear_shock, people.fear_time, model.fear_decay, model.hood.fear_shock_sum
    return people.trust_shock, people.trust_time, model.trust_decay, model.hood.trust_shock_sum


def add_shock(model: SecurityModel, which: str, ids: np.ndarray, amount: np.ndarray | float,
              low: float, high: float) -> None:
    """Add personal shocks (clipped to [low, high]) and keep the neighbourhood sums exact.

    A person named twice gets the first amount once; people are updated in the order of their ids.
    """
    if ids.size == 0:
        return
    vector = isinstance(amount, np.ndarray) and amount.ndim > 0
    if vector:
        amount = amount.astype(float, copy=False)
    if ids.size <= FEW:  # a handful: one at a time in Python numbers
        _add_few(model, which, ids.tolist(), amount.tolist() if vector else float(amount), low, high)
        return
    people = model.people
    ids, first = np.unique(ids, return_index=True)
    if vector:
        amount = amount[first]
    shock, time, decay, total = _shock_arrays(model, which)
    t = model.t
    now = people.decayed(shock, time, ids, t, decay)
    new = np.minimum(np.maximum(now + amount, low), high)  # np.clip, with less call overhead
    np.add.at(total, people.home[ids], new - now)
    shock[ids] = new
    time[ids] = t


def _add_few(model: SecurityModel, which: str, ids: list[int], amount: list[float] | float,
             low: float, high: float) -> None:
    """:func:`add_shock` for a handful of people (``ids`` and any amounts as lists), one at a time.

    The same double operations in the same order: a float32 shock times the decay factor, clipped, and the
    change added to the neighbourhood's sum in id order (as ``np.add.at`` does). The decay factors come
    from :func:`population.decay_factor` (numpy's power, which is not the C library's pow in the last bit).
    """
    if isinstance(amount, list):
        first: dict[int, int] = {}
        for i, person in enumerate(ids):
            first.setdefault(person, i)
        ids = sorted(first)
        amounts = [amount[first[person]] for person in ids]
    else:
        ids = sorted(set(ids))
        amounts = [amount] * len(ids)
    home = model.people.home
    shock, time, decay, total = _shock_arrays(model, which)
    t = model.t
    finite = 0.0 <= decay <= 1.0  # then decay ** k is finite for k >= 0, and a zero shock stays that zero
    for person, change in zip(ids, amounts, strict=True):  # (item(): a Python number, without a numpy scalar)
        before, steps = shock.item(person), t - time.item(person)
        if before or steps < 0 or not finite:  # (most people carry no shock: 0.0 * factor is the same 0.0)
            before *= decay_factor(decay, steps)
        after = before + change
        if after < low:  # np.clip of one number (NaN stays NaN, as there)
            after = low
        elif after > high:
            after = high
        hood = home.item(person)
        total[hood] = total.item(hood) + (after - before)
        shock[person] = after  # rounded to float32, as the array assignment does
        time[person] = t


def _victims(model: SecurityModel, rng: np.random.Generator, p: Perception) -> None:
    """Victims grow afraid and, if they reported, gain or lose trust; homicides frighten witnesses."""
    inc = model.incidents
    alive = inc.kind != 0
    victims = inc.victim[alive]
    add_shock(model, "fear", victims, p.victim_fear_shock, 0.0, 1.0)
    model.people.victimisations[victims] = np.minimum(model.people.victimisations[victims] + 1,
                                                      MAX_VICTIMISATIONS)
    model.tally.count("victims", inc.hood[alive])
    told = alive & inc.reported
    if told.any():
        change = np.where(inc.arrested[told], p.response_trust, -p.neglect_distrust)
        add_shock(model, "trust", inc.victim[told], change, -1.0, 1.0)
    if not alive.all():
        _witnesses(model, rng, np.flatnonzero(~alive))


def _few_victims(model: SecurityModel, rng: np.random.Generator, p: Perception) -> None:
    """:func:`_victims` for a handful of incidents, one at a time (the same updates in the same order)."""
    inc = model.incidents
    kinds, victim, hood = inc.kind.tolist(), inc.victim.tolist(), inc.hood.tolist()
    if 0 in kinds:  # homicides: their victims are gone (witnesses are frightened below)
        alive = [i for i, kind in enumerate(kinds) if kind != 0]
        victims, hoods = [victim[i] for i in alive], [hood[i] for i in alive]
    else:  # (the usual day: every victim is alive)
        alive, victims, hoods = range(len(kinds)), victim, hood
    if victims:
        _add_few(model, "fear", victims, p.victim_fear_shock, 0.0, 1.0)
        count = model.people.victimisations
        for person in set(victims):  # once each, however often named
            count[person] = min(count.item(person) + 1, MAX_VICTIMISATIONS)
        model.tally.count_few("victims", hoods)
        reported = inc.reported.tolist()
        told = [i for i in alive if reported[i]]
        if told:
            arrested = inc.arrested.tolist()
            change = [p.response_trust if arrested[i] else -p.neglect_distrust for i in told]
            _add_few(model, "trust", [victim[i] for i in told], change, -1.0, 1.0)
    if len(alive) < len(kinds):
        _witnesses(model, rng, np.array([i for i, kind in enumerate(kinds) if kind == 0], np.int64))


def _witnesses(model: SecurityModel, rng: np.random.Generator, killed: np.ndarray) -> None:
    """A homicide: neighbours saw or heard it."""
    hoods = np.repeat(model.incidents.hood[killed], WITNESSES)
    add_shock(model, "fear", sample_in_blocks(rng, model.people.block_start, hoods), BYSTANDER_FEAR, 0.0, 1.0)


def _contacts(model: SecurityModel, rng: np.random.Generator, expected: np.ndarray) -> None:
    """Positive contacts with community police (``expected`` per neighbourhood) raise the trust of those met."""
    contacts = poisson_counts(rng, expected)  # (no draw where nobody is expected: most scenario files)
    if isinstance(contacts, int):  # none today
        return
    hoods = model.world.hood_ids.repeat(contacts)  # each neighbourhood once per contact there, in order
    if hoods.size > FEW:
        ids = sample_in_blocks(rng, model.people.block_start, hoods)
        add_shock(model, "trust", ids, CONTACT_TRUST, -1.0, 1.0)
        model.tally.count("police_contacts", hoods)
    elif hoods.size:
        hoods = hoods.tolist()
        model.tally.count_few("police_contacts", hoods)
        _add_few(model, "trust", anyone_in(rng, model.people.block_start, hoods), CONTACT_TRUST, -1.0, 1.0)


@kernel
def _drift(fear_decay, trust_decay, rate, fear_target, trust_target, efficacy_base, efficacy_drift, dt, residents,
           contact_rate, fear_shock_sum, trust_shock_sum, fear_level, trust_level, efficacy, contacts):
    """A step of the neighbourhoods' moods (in place) and the police contacts expected, into ``contacts``.

    Per neighbourhood h, with ``rate`` the step's share of the way to the targets (at most 1):

        fear shock sum  *= fear decay            (personal shocks fade; today's are added after)
        trust shock sum *= trust decay
        fear            += rate * (fear target - fear)
        trust           += rate * (trust target - trust)
        efficacy         = efficacy + drift a year * dt + rate * 0.1 * (base efficacy - efficacy), within [0, 1]
        contacts         = residents * contacts a resident a year * dt
    """
    efficacy_rate = rate * 0.1
    for h in range(fear_level.shape[0]):
        fear_shock_sum[h] = fear_shock_sum[h] * fear_decay
        trust_shock_sum[h] = trust_shock_sum[h] * trust_decay
        fear_level[h] = fear_level[h] + rate * (fear_target[h] - fear_level[h])
        trust_level[h] = trust_level[h] + rate * (trust_target[h] - trust_level[h])
        e = efficacy[h] + efficacy_drift[h] * dt + efficacy_rate * (efficacy_base[h] - efficacy[h])
        if e <= 0.0:  # clipped as np.maximum(e, 0.0) (which gives +0.0 for -0.0) then np.minimum(e, 1.0); NaN stays
            e = 0.0
        elif e >= 1.0:
            e = 1.0
        efficacy[h] = e
        contacts[h] = residents[h] * contact_rate[h] * dt


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Move neighbourhood levels towards their targets and fade personal shocks, then add today's shocks.

    Today's victims and contacts change shocks alone, and nothing the targets are made of: the levels may move
    first.
    """
    p = model.scenario.perception
    hood, lv = model.hood, model.levers
    targets = model.mood_targets()
    contacts = np.empty(hood.fear_level.shape)
    _drift(model.fear_decay, model.trust_decay, min(model.step_days / p.adjust_days, 1.0),
                      targets[0], targets[1], model.world.collective_efficacy, lv.efficacy_drift,
                      model.dt_years, model.world.residents, lv.contact_rate, hood.fear_shock_sum,
                      hood.trust_shock_sum, hood.fear_level, hood.trust_level, hood.efficacy, contacts)
    n = len(model.incidents)
    if n > FEW:
        _victims(model, rng, p)
    elif n:
        _few_victims(model, rng, p)
    _contacts(model, rng, contacts)
