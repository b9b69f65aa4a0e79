"""Gang economics and territory: accounts are settled and territory contested.

Each gang (a Mesa agent) settles its day: revenue from extortion and drug retail, upkeep of
members, bulk cash sent abroad (which interdiction may seize). Territory moves slowly towards
each gang's share of local strength (members, armed, plus support from adjacent neighbourhoods)
against the neighbourhood's resistance (residents, police presence and collective efficacy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.compiled import kernel
from model.processes.common import member_views

if TYPE_CHECKING:
    from model.model import SecurityModel


def arms(model: SecurityModel) -> np.ndarray:
    """Each gang's strength per member from its firearms: 1 at the default weapons per member, at least 0.5."""
    return _terms(model)[0]


@kernel
def _territory(near, weapons, counts, default, scale, residents, police_deterrence, police, efficacy, guard_reference,
               rate, move, arms, strength, resistance, target, control):
    """Per gang g and neighbourhood h, into ``arms``, ``strength``, ``resistance`` and ``target`` (and, if ``move``,
    ``control`` moved in place at ``rate``):

        arms_g       = 0.5 + 0.5 * (weapons_g / max(counts_g, 1)) / default   (weapons per member as Gang's)
        resistance_h = scale * residents_h / 1000 * (1 + police_deterrence * police_h + efficacy_h) / guard_reference
        strength_gh  = near_gh * arms_g   (members here and half of those next door, times the gang's arms)
        target_gh    = strength_gh / (sum_g strength_gh + resistance_h + 1e-12)
        control_gh  += rate * (target_gh - control_gh)
    """
    for g in range(arms.size):
        arms[g] = 0.5 + 0.5 * (weapons[g] / max(counts[g], 1)) / default
    for h in range(resistance.size):
        resistance[h] = scale * residents[h] / 1000.0 * (1.0 + police_deterrence * police[h] + efficacy[h]) \
            / guard_reference
        for g in range(arms.size):
            strength[g, h] = near[g, h] * arms[g]
        if resistance.size == 1 and arms.size >= 8:  # numpy adds one neighbourhood's gangs pairwise (model.compiled)
            partial = strength[:8, h].copy()
            g = 8
            while g + 8 <= arms.size:
                for j in range(8):
                    partial[j] += strength[g + j, h]
                g += 8
            total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) \
                + ((partial[4] + partial[5]) + (partial[6] + partial[7]))
            for rest in range(g, arms.size):
                total += strength[rest, h]
        else:  # one gang after another
            total = 0.0
            for g in range(arms.size):
                total += strength[g, h]
        for g in range(arms.size):
            target[g, h] = strength[g, h] / (total + resistance[h] + 1e-12)
            if move:
                control[g, h] += rate * (target[g, h] - control[g, h])


def _terms(model: SecurityModel, rate: float = 0.0,
           move: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_territory` for the model as it stands: (arms, strength, resistance, target), new arrays; the control
    moved towards the target at ``rate`` if ``move``."""
    views = member_views(model)
    control = model.control
    gangs, k = control.shape
    arms, resistance = np.empty(gangs), np.empty(k)
    strength, target = np.empty((gangs, k)), np.empty((gangs, k))
    _territory(views.gang_near, np.array([g.weapons for g in model.gang_list], float), views.counts,
               max(model.scenario.gangs.weapons_per_member, 1e-9), model.hood.resistance_scale, model.residents,
               model.scenario.police.deterrence, model.police.per_1000, model.hood.efficacy, model.guard_reference,
               rate, move, arms, strength, resistance, target, control)
    return arms, strength, resistance, target


def strength(model: SecurityModel) -> np.ndarray:
    """Armed presence of each gang in each neighbourhood, with support from adjacent ones."""
    return _terms(model)[1]


def resistance(model: SecurityModel) -> np.ndarray:
    """How hard a neighbourhood is to hold: people, honest police and collective efficacy."""
    return _terms(model)[2]


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
    return _terms(model)[3]


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Settle gang accounts and move territorial control towards its target (:func:`_territory`)."""
    del rng
    for gang in model.gang_list:  # each gang's own settlement (what gangs.do calls, without its overhead)
        gang.settle_accounts()
    if model.control.size:
        _terms(model, min(model.scenario.gangs.expansion_rate * model.step_days, 1.0), move=True)
