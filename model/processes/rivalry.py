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
from model.population import sample_in_blocks
from model.processes.common import draw_members, gang_by_control, member_views
from model.state import ASSAULT, HOMICIDE

if TYPE_CHECKING:
    from model.model import SecurityModel

ATTACK_LETHALITY = 0.4  # share of attacks that kill at baseline gun availability
MEMBER_VICTIM_SHARE = 0.5  # victims who are gang members, where members are present


def contest(model: SecurityModel, weight: np.ndarray | None = None) -> np.ndarray:
    """Probability that two different gangs meet here: (sum c)^2 - sum c^2, in [0, 1).

    ``weight`` is the total control per neighbourhood (sum c) if the caller has it already.
    """
    c = model.control
    if weight is None:
        weight = model.control_held()
    return weight**2 - np.add.reduce(c**2, axis=0)


def scarcity_pressure(model: SecurityModel, weight: np.ndarray | None = None) -> np.ndarray | float:
    """Extra competition where gangs short of drugs hold territory (figures.md s5: Castillo et al.).

    ``weight`` is the total control per neighbourhood if the caller has it already. With no gang
    short of drugs (the usual day) the pressure is 1 everywhere (1 + factor x 0, for finite control
    and factor): the number 1.0 is returned instead of an array of ones (a product with it is the same).
    """
    scarcity = [g.scarcity for g in model.gang_list]
    if not any(scarcity):
        return 1.0
    s = np.array(scarcity)
    if weight is None:
        weight = model.control_held()
    held = s @ model.control
    # the control-weighted mean where gangs hold anything, else 0: where none holds any (control is never
    # negative) ``held`` is 0 too, so dividing it by 1 there gives the 0 (cheaper than a masked division)
    held /= np.where(weight > 0, weight, 1.0)
    # 1 + scarcity_violence x mean, in place on this call's own array (a sum or product in either order)
    held *= model.scenario.gangs.scarcity_violence
    held += 1.0
    return held


def attack_rate(model: SecurityModel) -> np.ndarray:
    """Expected attacks this step per neighbourhood (structural part plus retaliation)."""
    members = member_views(model).near  # members here and half of those next door
    weight = model.control_held()  # the model's shared sum over gangs, kept until the control changes
    violence = model.levers.violence
    # rivalry_scale x contest x members x guns x scarcity x violence x dt, multiplied in that order (in place:
    # the same products without a new array each)
    rate = model.cal.rivalry_scale * contest(model, weight)
    rate *= members
    rate *= model.gun_factor()
    scarcity = scarcity_pressure(model, weight)
    if isinstance(scarcity, np.ndarray):  # (else the usual day's number 1.0: a product with it changes nothing)
        rate *= scarcity
    rate *= violence
    rate *= model.dt_years
    # each past killing brings `retaliation` attacks in expectation, spread with the memory's decay
    spread = 1.0 - model.memory_decay["retaliation"]
    retaliation = model.scenario.gangs.retaliation * spread * model.hood.retaliation_memory
    retaliation *= violence
    rate += retaliation
    return rate


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
