"""Fear of crime and trust in the police, neighbourhood by neighbourhood and person by person.

Each neighbourhood has a level of fear and of trust that moves towards a target over
``adjust_days``: fear rises with recent homicides and with gang control; trust falls with police
corruption and with impunity (offences that end in no conviction) and rises with legitimacy a
programme builds. People add personal shocks that fade with ``memory_days``: victims grow afraid;
victims who report gain trust if an arrest follows and lose it if not; positive contacts with
community police raise trust. Neighbourhood means are exact (see :mod:`model.population`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.population import sample_in_blocks

if TYPE_CHECKING:
    from model.model import SecurityModel

CONTACT_TRUST = 0.05  # trust from one positive, procedurally fair contact
BYSTANDER_FEAR = 0.05  # fear each homicide adds to a handful of neighbours who saw or heard it
WITNESSES = 5


def _distinct(ids: np.ndarray) -> tuple[np.ndarray, list[int] | np.ndarray | None]:
    """``ids`` sorted without repeats and where each first occurs, as ``np.unique(ids, return_index=True)``.

    The index is None when ``ids`` already is sorted and distinct. A step brings a handful of ids,
    and a few Python operations on them cost less than np.unique's general machinery.
    """
    if ids.size > 64:
        return np.unique(ids, return_index=True)
    order = ids.tolist()
    first: dict[int, int] = {}
    for i, person in enumerate(order):
        first.setdefault(person, i)
    distinct = sorted(first)
    if distinct == order:
        return ids, None
    return np.array(distinct, dtype=ids.dtype), [first[person] for person in distinct]


def add_shock(model: SecurityModel, which: str, ids: np.ndarray, amount: np.ndarray | float,
              low: float, high: float) -> None:
    """Add personal shocks (clipped to [low, high]) and keep the neighbourhood sums exact.

    A person named twice gets the first amount once; people are updated in the order of their ids.
    """
    if ids.size == 0:
        return
    people = model.people
    ids, first = _distinct(ids)
    if isinstance(amount, np.ndarray) and amount.ndim:
        amount = amount.astype(float, copy=False)
        if first is not None:
            amount = amount[first]
    if which == "fear":
        shock, time, decay, total = people.fear_shock, people.fear_time, model.fear_decay, model.hood.fear_shock_sum
    else:
        shock, time, decay, total = people.trust_shock, people.trust_time, model.trust_decay, model.hood.trust_shock_sum
    t = model.t
    now = people.decayed(shock, time, ids, t, decay)
    new = np.minimum(np.maximum(now + amount, low), high)  # np.clip, with less call overhead
    np.add.at(total, people.home[ids], new - now)
    shock[ids] = new
    time[ids] = t


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Update personal shocks from today's events, then move neighbourhood levels to targets."""
    p = model.scenario.perception
    hood = model.hood
    inc = model.incidents
    hood.fear_shock_sum *= model.fear_decay
    hood.trust_shock_sum *= model.trust_decay
    if len(inc):
        alive = inc.kind != 0
        victims = inc.victim[alive]
        add_shock(model, "fear", victims, p.victim_fear_shock, 0.0, 1.0)
        model.people.victimisations[victims] = np.minimum(model.people.victimisations[victims] + 1, 60000)
        model.tally.count("victims", inc.hood[alive])
        told = alive & inc.reported
        if told.any():
            change = np.where(inc.arrested[told], p.response_trust, -p.neglect_distrust)
            add_shock(model, "trust", inc.victim[told], change, -1.0, 1.0)
        if not alive.all():  # a homicide: neighbours saw or heard it
            killed = np.flatnonzero(~alive)
            witnesses = sample_in_blocks(rng, model.people.block_start, np.repeat(inc.hood[killed], WITNESSES))
            add_shock(model, "fear", witnesses, BYSTANDER_FEAR, 0.0, 1.0)

    contacts = rng.poisson(model.world.residents * model.levers.contact_rate * model.dt_years)
    if contacts.any():
        hoods = np.repeat(np.arange(contacts.size), contacts)
        ids = sample_in_blocks(rng, model.people.block_start, hoods)
        add_shock(model, "trust", ids, CONTACT_TRUST, -1.0, 1.0)
        model.tally.count("police_contacts", hoods)

    rate = min(model.step_days / p.adjust_days, 1.0)
    hood.fear_level += rate * (model.fear_target() - hood.fear_level)
    hood.trust_level += rate * (model.trust_target() - hood.trust_level)
    eff_base = model.world.collective_efficacy
    drift = model.levers.efficacy_drift * model.dt_years
    hood.efficacy = np.minimum(np.maximum(hood.efficacy + drift + rate * 0.1 * (eff_base - hood.efficacy), 0.0), 1.0)
