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

from model.processes.common import FEW, binomial_counts
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


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Decide which of today's incidents are reported, and how many drug sales police detect."""
    inc = model.incidents
    tally = model.tally.hood
    if len(inc):
        trust = model.personal_trust(inc.victim, inc.hood)
        inc.reported = rng.random(len(inc)) < report_probability(model, inc.kind, inc.hood, trust)
        if len(inc) <= FEW:  # a handful a day in a city: one at a time, adding ones as tally.count does
            homicides = tally["homicides"]
            for kind, hood, reported in zip(inc.kind.tolist(), inc.hood.tolist(), inc.reported.tolist(), strict=True):
                if kind == 0:
                    homicides[hood] += 1.0
                if reported and kind in REPORTED_NAMES:
                    tally[REPORTED_NAMES[kind]][hood] += 1.0
        else:
            for c, name in REPORTED_NAMES.items():
                model.tally.count(name, inc.hood[inc.reported & (inc.kind == c)])
            model.tally.count("homicides", inc.hood[inc.kind == 0])
    # police detect drug sales in proportion to their presence
    base, police = model.cal.report_base[DRUG_SALE], model.police
    detected = tally["drug_sales_detected"]  # a row of the tally: added to in place
    detected += binomial_counts(rng, tally["drug_sales"], lambda: base * police.per_1000 / police.reference_per_1000)
