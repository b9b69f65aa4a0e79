"""Which crimes reach the police: each victim decides by their own trust and the gang's grip.

The reporting probability of incident i of type c is

    base_c * exp(elasticity * (trust_i - initial_trust)) * (1 - intimidation * sensitivity_c * control)

capped at 0.99, where trust_i is the victim's trust (neighbourhood level plus personal history)
and control is gang control of the neighbourhood. A programme that builds trust therefore raises
*reported* crime even as true crime falls; the outcome tables show both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.compiled import kernel
from model.processes.common import add_binomial_counts
from model.state import DRUG_SALE, HOMICIDE, Tally

if TYPE_CHECKING:
    from model.model import SecurityModel

# the tally's rows (``Tally.block``) of today's homicides and of the reported crimes of each type (by type)
HOMICIDES_ROW = int(Tally.CRIME_ROWS[HOMICIDE])
REPORTED_ROWS = Tally.REPORTED_ROWS


@kernel
def _report_chances(kind, hood, trusting, base, sensitivity, intimidation, presence, out):
    """The chance each incident is reported, into ``out``.

    Per incident i of type c in neighbourhood h, with ``trusting`` exp(elasticity * (victim's trust - initial
    trust)) and ``presence`` the gangs' control there:

        chance_i = base_c * trusting_i * (1 - intimidation * sensitivity_c * presence_h), within [0, 0.99]
    """
    for i in range(kind.shape[0]):
        c = kind[i]
        chance = base[c] * trusting[i] * (1.0 - intimidation * sensitivity[c] * presence[hood[i]])
        if chance <= 0.0:  # clipped as np.maximum(chance, 0.0) (+0.0 for -0.0) then np.minimum(chance, 0.99)
            chance = 0.0
        elif chance >= 0.99:
            chance = 0.99
        out[i] = chance


def report_probability(model: SecurityModel, kind: np.ndarray, hood: np.ndarray,
                       trust: np.ndarray) -> np.ndarray:
    """Probability each incident is reported, given its type, place and the victim's trust (one of each per
    incident)."""
    sc = model.scenario
    trusting = np.exp(sc.reporting.trust_elasticity * (trust - sc.perception.initial_trust))
    chance = np.empty(trusting.shape)
    _report_chances(kind, hood, trusting, model.cal.report_base, model.cal.report_sensitivity, sc.gangs.intimidation,
                    model.presence(), chance)
    return chance


def report_probability_grid(model: SecurityModel, base: np.ndarray, intimidated: np.ndarray,
                            trust: np.ndarray) -> np.ndarray:
    """:func:`report_probability` for crime types (rows) in every neighbourhood (columns), at its trust.

    ``base`` is ``report_base`` of the types and ``intimidated`` is ``intimidation * report_sensitivity``
    of the types (the caller keeps them): the same operations in the same order as :func:`report_probability`
    of each type in each neighbourhood.
    """
    sc = model.scenario
    trusting = np.exp(sc.reporting.trust_elasticity * (trust - sc.perception.initial_trust))
    out = np.empty((base.size, trusting.size))
    _report_grid(base, intimidated, trusting, model.presence(), out)
    return out


@kernel
def _report_grid(base, intimidated, trusting, presence, out):
    """:func:`_report_chances` for every crime type (row c) in every neighbourhood (column h), into ``out``:
    ``base_c * trusting_h * (1 - intimidated_c * presence_h)`` within [0, 0.99], ``intimidated_c`` being
    ``intimidation * sensitivity_c``."""
    for c in range(out.shape[0]):
        for h in range(out.shape[1]):
            chance = base[c] * trusting[h] * (1.0 - intimidated[c] * presence[h])
            if chance <= 0.0:  # clipped as in _report_chances
                chance = 0.0
            elif chance >= 0.99:
                chance = 0.99
            out[c, h] = chance


@kernel
def _trust_exponents(hood, shock, level, elasticity, initial, out):
    """``elasticity * (trust - initial trust)`` of each incident's victim, into ``out`` (before the exponential).

    The victim's trust is ``model.personal_trust``'s: their neighbourhood's level plus their own shock as it stands
    now (``shock``), within [0, 1].
    """
    for i in range(hood.shape[0]):
        trust = level[hood[i]] + shock[i]
        if trust <= 0.0:  # clipped as np.maximum(trust, 0.0) (+0.0 for -0.0) then np.minimum(trust, 1.0); NaN stays
            trust = 0.0
        elif trust >= 1.0:
            trust = 1.0
        out[i] = elasticity * (trust - initial)


@kernel
def _count_reports(kind, hood, reported, homicides_row, reported_rows, tally):
    """Today's homicides (reported or not) and reported crimes of each type, added to the tally's rows (``tally``,
    a row per count, a column per neighbourhood; ``reported_rows``: the row of each type's reports)."""
    for i in range(kind.shape[0]):
        c, h = kind[i], hood[i]
        if c == HOMICIDE:
            tally[homicides_row, h] += 1.0
        if reported[i] and c < reported_rows.shape[0]:
            tally[reported_rows[c], h] += 1.0


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Decide which of today's incidents are reported, and how many drug sales police detect.

    The victims' trust and the chances are :func:`report_probability`'s (in two kernels around the exponential,
    which stays numpy's), for a handful of incidents a day as for thousands.
    """
    inc = model.incidents
    n = inc.kind.size
    if n:
        sc = model.scenario
        trusting = np.empty(n)  # the exponents of the victims' trust, then (in place) their exponentials
        _trust_exponents(inc.hood, model.trust_shocks(inc.victim), model.hood.trust_level,
                         sc.reporting.trust_elasticity, sc.perception.initial_trust, trusting)
        chance = np.empty(n)
        _report_chances(inc.kind, inc.hood, np.exp(trusting, out=trusting), model.cal.report_base,
                        model.cal.report_sensitivity, sc.gangs.intimidation, model.presence(), chance)
        inc.reported = rng.random(n) < chance
        _count_reports(inc.kind, inc.hood, inc.reported, HOMICIDES_ROW, REPORTED_ROWS, model.tally.block)
    # police detect drug sales in proportion to their presence (a row of the tally, added to in place)
    tally = model.tally.hood
    base, police = model.cal.report_base[DRUG_SALE], model.police
    add_binomial_counts(rng, tally["drug_sales"], lambda: base * police.per_1000 / police.reference_per_1000,
                        tally["drug_sales_detected"])
