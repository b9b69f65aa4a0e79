"""The knobs programmes turn: per-neighbourhood and city-wide modifiers of the processes.

Every step starts from neutral levers (multipliers 1, additions 0). Programmes change them
during delivery; processes read them. A programme at zero intensity leaves every lever exactly
neutral (x * 1.0 and x + 0.0 are exact in floating point), which keeps a zero-intensity run
bit-identical to the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["Levers"]

_MULTIPLIERS = (
    "guardianship", "property_guardianship", "tips", "violence", "exit", "recruitment",
    "group_enforcement", "prosecution", "conviction", "case_days",
)
_ADDITIONS = (
    "patrol_officers", "displacement", "legitimacy", "contact_rate", "efficacy_drift", "vetting",
)


@dataclass
class Levers:
    """Modifiers for one step. Per-neighbourhood arrays have one entry per neighbourhood."""

    # per neighbourhood, multiplicative (neutral 1)
    guardianship: np.ndarray  # capable guardians against all street crime (patrol dosage)
    property_guardianship: np.ndarray  # against robbery and extortion (lighting, cameras, guards)
    tips: np.ndarray  # information reaching police: clearance and proactive arrests
    violence: np.ndarray  # gang violence propensity (group deterrence)
    exit: np.ndarray  # hazard of leaving a gang
    recruitment: np.ndarray  # hazard of joining a gang (area-wide)
    group_enforcement: np.ndarray  # arrests aimed at gangs that kill
    prosecution: np.ndarray  # probability a case is prosecuted
    conviction: np.ndarray  # probability a prosecution convicts
    case_days: np.ndarray  # time from arrest to verdict
    # per neighbourhood, additive (neutral 0)
    patrol_officers: np.ndarray  # extra officer-equivalents on patrol
    displacement: np.ndarray  # share of deterred street crime moved to neighbours (<0: diffusion)
    legitimacy: np.ndarray  # shift of the trust the neighbourhood tends to
    contact_rate: np.ndarray  # positive police contacts per resident-year
    efficacy_drift: np.ndarray  # change of collective efficacy per year
    vetting: np.ndarray  # share of corrupt officers removed per year, by where units are posted
    # city-wide
    crossing_seizure: np.ndarray  # extra seizure probability per border crossing
    intelligence: float = 1.0  # regional information sharing: seizure probability everywhere
    enrolled_recruitment: float = 1.0  # recruitment hazard multiplier while enrolled
    graduate_recruitment: float = 1.0  # after completing a programme
    enrolled_offending: float = 1.0  # offending weight of enrolled youth

    @classmethod
    def neutral(cls, n_neighbourhoods: int, n_crossings: int) -> Levers:
        ones = {name: np.ones(n_neighbourhoods) for name in _MULTIPLIERS}
        zeros = {name: np.zeros(n_neighbourhoods) for name in _ADDITIONS}
        return cls(**ones, **zeros, crossing_seizure=np.zeros(n_crossings))

    def reset(self) -> None:
        """Back to neutral, in place (no allocation inside the step)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.fill(1.0 if f.name in _MULTIPLIERS else 0.0)
            else:
                setattr(self, f.name, f.default)
