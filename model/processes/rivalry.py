"""Gang rivalry: attacks over contested territory, and retaliation that feeds on killings.

Attack pressure in a neighbourhood is (contest between gangs) x (members there) x (guns) x
(1 + scarcity-driven competition) x any group-deterrence lever. Retaliation is self-exciting
(a Hawkes process): each rivalry killing adds ``retaliation`` expected attacks, spread over time
with the retaliation half-life. An attack kills with a probability that grows with guns;
otherwise it is an assault. Half of the victims are sought among the neighbourhood's members (a
rival of the attacker where one is drawn), the rest, and any left without one, are young bystanders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import draws
from model.compiled import kernel
from model.population import sample_in_blocks
from model.processes.common import draw_members, gang_by_control, member_views
from model.state import ASSAULT, HOMICIDE

if TYPE_CHECKING:
    from model.model import SecurityModel

ATTACK_LETHALITY = 0.4  # share of attacks that kill at baseline gun availability
MEMBER_VICTIM_SHARE = 0.5  # victims who are gang members, where members are present


@kernel
def _attack_terms(control, weight, held, scarce, scarcity_violence, scale, members, guns, violence, dt, retaliation,
                  memory, terms):
    """Per neighbourhood h, into the rows of ``terms``: the contest, the scarcity pressure and the expected attacks.

        contest_h  = weight_h^2 - sum_g control_gh^2   (weight_h = sum_g control_gh: the chance two gangs meet here)
        scarcity_h = 1 + scarcity_violence * held_h / weight_h   (held_h = sum_g scarcity_g * control_gh, the
                     control-weighted shortage; / 1 where no gang holds any; 1 everywhere with no gang ``scarce``)
        attacks_h  = scale * contest_h * members_h * guns_h * scarcity_h * violence_h * dt
                     + retaliation * memory_h * violence_h
    """
    gangs = control.shape[0]
    for h in range(terms.shape[1]):
        if terms.shape[1] == 1 and gangs >= 8:  # numpy adds one neighbourhood's gangs pairwise (see model.compiled)
            partial = np.empty(8)
            for j in range(8):
                partial[j] = control[j, h] * control[j, h]
            g = 8
            while g + 8 <= gangs:
                for j in range(8):
                    partial[j] += control[g + j, h] * control[g + j, h]
                g += 8
            squares = ((partial[0] + partial[1]) + (partial[2] + partial[3])) \
                + ((partial[4] + partial[5]) + (partial[6] + partial[7]))
            for rest in range(g, gangs):
                squares += control[rest, h] * control[rest, h]
        else:  # one gang after another
            squares = 0.0
            for g in range(gangs):
                squares += control[g, h] * control[g, h]
        terms[0, h] = weight[h] * weight[h] - squares
        terms[1, h] = 1.0 + scarcity_violence * (held[h] / (weight[h] if weight[h] > 0 else 1.0)) if scarce else 1.0
        terms[2, h] = scale * terms[0, h] * members[h] * guns[h] * terms[1, h] * violence[h] * dt \
            + retaliation * memory[h] * violence[h]


def _terms(model: SecurityModel) -> np.ndarray:
    """:func:`_attack_terms` for the model as it stands (rows: contest, scarcity pressure, expected attacks)."""
    control = model.control
    weight = model.control_held()  # the model's shared sum over gangs, kept until the control changes
    scarcity = [g.scarcity for g in model.gang_list]
    scarce = any(scarcity)  # (most days in most runs some gang is short of drugs)
    # the shortage weighted by control, summed over gangs (a matrix product: numpy's, outside the kernel; not
    # read unless some gang is short)
    held = np.array(scarcity) @ control if scarce else weight
    # each past killing brings `retaliation` attacks in expectation, spread with the memory's decay
    retaliation = model.scenario.gangs.retaliation * (1.0 - model.memory_decay["retaliation"])
    terms = np.empty((3, weight.size))
    _attack_terms(control, weight, held, scarce, model.scenario.gangs.scarcity_violence, model.cal.rivalry_scale,
                  member_views(model).near, model.gun_factor(), model.levers.violence, model.dt_years, retaliation,
                  model.hood.retaliation_memory, terms)
    return terms


def contest(model: SecurityModel) -> np.ndarray:
    """Probability that two different gangs meet here: (sum c)^2 - sum c^2, in [0, 1)."""
    return _terms(model)[0]


def scarcity_pressure(model: SecurityModel) -> np.ndarray:
    """Extra competition where gangs short of drugs hold territory (figures.md s5: Castillo et al.): 1 + factor x
    the control-weighted mean scarcity (0 where no gang holds any; 1 everywhere with no gang short of drugs)."""
    return _terms(model)[1]


def attack_rate(model: SecurityModel) -> np.ndarray:
    """Expected attacks this step per neighbourhood (structural part plus retaliation)."""
    return _terms(model)[2]


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Draw today's attacks, who they hit, and who dies."""
    if model.control.shape[0] < 2:
        return
    attacks = draws.poisson(rng, attack_rate(model))  # rng.poisson's draws, without numpy's per-call checks
    hit = attacks.nonzero()[0]
    if hit.size == 0:  # the usual day
        return
    hoods = np.repeat(hit, attacks[hit])  # each attack's neighbourhood, in neighbourhood order
    lethal = rng.random(hoods.size) < ATTACK_LETHALITY * model.lethality()[hoods]
    attacker = gang_by_control(model, rng, hoods)
    # the victim: a member of another gang here if possible, else a young bystander
    victim = np.full(hoods.size, -1, np.int64)
    want_member = rng.random(hoods.size) < MEMBER_VICTIM_SHARE
    if want_member.any():
        idx = np.flatnonzero(want_member)
        people = model.people
        cand = draw_members(model, rng, hoods[idx])
        same = (cand >= 0) & (people.gang[np.maximum(cand, 0)] == attacker[idx])
        cand[same] = -1
        victim[idx] = cand
    missing = np.flatnonzero(victim < 0)
    if missing.size:
        people = model.people
        def youth(ids: np.ndarray) -> np.ndarray:
            return people.is_youth(ids, model.day) & people.free(ids)
        victim[missing] = sample_in_blocks(rng, people.block_start, hoods[missing], youth)
    ok = victim >= 0
    kind = np.where(lethal, HOMICIDE, ASSAULT)[ok]
    model.incidents.add(kind, hoods[ok], victim[ok], attacker[ok])  # (gang_by_control's int8, as Incidents keeps)
    killed_hoods = hoods[ok & lethal]
    np.add.at(model.hood.retaliation_memory, killed_hoods, 1.0)
    model.tally.count("assaults", hoods[ok & ~lethal])
