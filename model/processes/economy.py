"""Gang economics and territory: accounts are settled and territory contested.

Each gang (a Mesa agent) settles its day: revenue from extortion and drug retail, upkeep of
members, bulk cash sent abroad (which interdiction may seize). Territory moves slowly towards
each gang's share of local strength (members, armed, plus support from adjacent neighbourhoods)
against the neighbourhood's resistance (residents, police presence and collective efficacy).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from model.processes.common import member_views

if TYPE_CHECKING:
    from model.model import SecurityModel


def arms(model: SecurityModel, counts: np.ndarray | None = None) -> np.ndarray:
    """Each gang's strength per member from its firearms: 1 at the default weapons per member, at least 0.5.

    ``counts`` are the gangs' free members if the caller has them already (``member_views(model).counts``).
    """
    default = max(model.scenario.gangs.weapons_per_member, 1e-9)
    members = (member_views(model).counts if counts is None else counts).tolist()
    # gang by gang in Python floats (a few gangs: cheaper than array calls); weapons per member as
    # Gang.weapons_per_member computes it, from the shared member counts
    return np.array([0.5 + 0.5 * (gang.weapons / max(n, 1)) / default
                     for gang, n in zip(model.gang_list, members, strict=True)])


def strength(model: SecurityModel) -> np.ndarray:
    """Armed presence of each gang in each neighbourhood, with support from adjacent ones."""
    views = member_views(model)
    return views.gang_near * arms(model, views.counts)[:, None]


def resistance(model: SecurityModel) -> np.ndarray:
    """How hard a neighbourhood is to hold: people, honest police and collective efficacy."""
    guard = 1.0 + model.scenario.police.deterrence * model.police.per_1000 + model.hood.efficacy
    return _scaled_residents(model) * guard / model.guard_reference


_SCALED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # by model: (scale, residents, product)


def _scaled_residents(model: SecurityModel) -> np.ndarray:
    """``resistance_scale * residents / 1000``, kept while the scale stays (it changes only at calibration)."""
    scale, residents = model.hood.resistance_scale, model.residents  # residents: fixed, as floats
    held = _SCALED.get(model)
    if held is None or held[0] != scale or held[1] is not residents:
        values = scale * residents / 1000.0
        values.flags.writeable = False  # shared between steps
        held = _SCALED[model] = (scale, residents, values)
    return held[2]


def resistance_scale(strength: np.ndarray, unit: np.ndarray, residents: np.ndarray, held: float, lo: float,
                     hi: float, iterations: int) -> float:
    """The scale of resistance ``unit`` at which gangs of ``strength`` hold ``held`` of the residents.

    Bisection between ``lo`` and ``hi`` (presence falls as resistance grows) on the resident-weighted
    presence at the territorial equilibrium (:func:`territory_target`).
    """
    for _ in range(iterations):
        mid = np.sqrt(lo * hi)
        control = strength / (strength.sum(axis=0) + mid * unit)
        if (control.sum(axis=0) * residents).sum() / residents.sum() > held:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))


def territory_target(model: SecurityModel) -> np.ndarray:
    """Each gang's share of local strength against the neighbourhood's resistance: where control tends."""
    s = strength(model)
    return s / (np.add.reduce(s, axis=0) + resistance(model) + 1e-12)


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Settle gang accounts and move territorial control."""
    del rng
    for gang in model.gang_list:  # each gang's own settlement (what gangs.do calls, without its overhead)
        gang.settle_accounts()
    if model.control.size:
        rate = min(model.scenario.gangs.expansion_rate * model.step_days, 1.0)
        model.control += rate * (territory_target(model) - model.control)
