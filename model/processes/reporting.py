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

from model.population import decay_factor
from model.processes.common import FEW, add_binomial_counts
from model.state import DRUG_SALE

if TYPE_CHECKING:
    from model.model import SecurityModel

REPORTED_NAMES = {0: "homicides_reported", 1: "robberies_reported", 2: "extortions_reported",
                  3: "assaults_reported"}


def report_probability(model: SecurityModel, kind: np.ndarray, hood: np.ndarray,
                       trust: np.ndarray) -> np.ndarray:
    """Probability each incident is reported, given its type, place and the victim's trust."""
    sc = model.scenario
    base = model.cal.report_base[kind]
    sens = model.cal.report_sensitivity[kind]
    grip = sc.gangs.intimidation * sens * model.presence()[hood]
    p = base * np.exp(sc.reporting.trust_elasticity * (trust - sc.perception.initial_trust)) * (1.0 - grip)
    return np.minimum(np.maximum(p, 0.0), 0.99)


def report_probability_grid(model: SecurityModel, base: np.ndarray, intimidated: np.ndarray,
                            trust: np.ndarray) -> np.ndarray:
    """:func:`report_probability` for crime types (rows) in every neighbourhood (columns), at its trust.

    ``base`` is ``report_base`` of the types and ``intimidated`` is ``intimidation * report_sensitivity``
    of the types, both as columns (the caller keeps them): elementwise the same operations in the same
    order as :func:`report_probability` of each type in each neighbourhood.
    """
    sc = model.scenario
    grip = intimidated * model.presence()
    p = base * np.exp(sc.reporting.trust_elasticity * (trust - sc.perception.initial_trust)) * (1.0 - grip)
    return np.minimum(np.maximum(p, 0.0), 0.99)


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Decide which of today's incidents are reported, and how many drug sales police detect."""
    inc = model.incidents
    tally = model.tally.hood
    n = inc.kind.size
    if n > FEW:
        trust = model.personal_trust(inc.victim, inc.hood)
        inc.reported = rng.random(n) < report_probability(model, inc.kind, inc.hood, trust)
        for c, name in REPORTED_NAMES.items():
            model.tally.count(name, inc.hood[inc.reported & (inc.kind == c)])
        model.tally.count("homicides", inc.hood[inc.kind == 0])
    elif n:  # a handful a day in a city: one at a time (Python floats, the same operations)
        _report_few(model, rng)
    # police detect drug sales in proportion to their presence (a row of the tally, added to in place)
    base, police = model.cal.report_base[DRUG_SALE], model.police
    add_binomial_counts(rng, tally["drug_sales"], lambda: base * police.per_1000 / police.reference_per_1000,
                        tally["drug_sales_detected"])


def _report_few(model: SecurityModel, rng: np.random.Generator) -> None:
    """Today's few incidents reported or not, and tallied, one by one.

    The victims' trust is ``model.personal_trust``'s and the probability :func:`report_probability`'s,
    incident by incident in Python floats (the same operations in the same order), but for the
    exponential, which numpy computes for all at once as there (numpy's ``exp`` can differ from the C
    library's in the last bit), and the decay of shocks, from :func:`population.decay_factor` (numpy's
    power). Tallies add ones as ``tally.count`` does.
    """
    sc = model.scenario
    inc = model.incidents
    tally = model.tally.hood
    people = model.people
    victims, hoods = inc.victim.tolist(), inc.hood.tolist()
    shock = people.trust_shock
    shocks = [shock.item(v) for v in victims]  # (a float32 shock as a Python float: the same number)
    if any(shocks):  # as personal_trust: all decayed if any is nonzero (a NaN counts, as in count_nonzero)
        decay, t, when = model.trust_decay, model.t, people.trust_time
        shocks = [s * decay_factor(decay, t - when.item(v)) for s, v in zip(shocks, victims, strict=True)]
    level, elasticity, initial = model.hood.trust_level, sc.reporting.trust_elasticity, sc.perception.initial_trust
    exponents = []
    for h, s in zip(hoods, shocks, strict=True):
        x = level.item(h) + s
        if x <= 0.0:  # clipped to [0, 1] as personal_trust does (np.maximum gives +0.0 for -0.0; NaN stays)
            x = 0.0
        elif x > 1.0:
            x = 1.0
        exponents.append(elasticity * (x - initial))
    trusting = np.exp(np.array(exponents)).tolist()
    base, sens = model.cal.report_base.tolist(), model.cal.report_sensitivity.tolist()
    intimidation, presence = sc.gangs.intimidation, model.presence()
    draws = rng.random(len(trusting)).tolist()
    reported = []
    homicides = tally["homicides"]
    for kind, hood, e, u in zip(inc.kind.tolist(), hoods, trusting, draws, strict=True):
        p = base[kind] * e * (1.0 - intimidation * sens[kind] * presence.item(hood))
        reported.append(u < min(max(p, 0.0), 0.99))
        if kind == 0:
            homicides[hood] += 1.0
        if reported[-1] and kind in REPORTED_NAMES:
            tally[REPORTED_NAMES[kind]][hood] += 1.0
    inc.reported = np.array(reported, bool)
