"""The knobs programmes turn: per-neighbourhood and city-wide modifiers of the processes.

Every step starts from neutral levers (multipliers 1, additions 0). Programmes change them
during delivery; processes read them. A programme at zero intensity leaves every lever exactly
neutral (x * 1.0 and x + 0.0 are exact in floating point), which keeps a zero-intensity run
bit-identical to the baseline.

The per-neighbourhood levers are the rows of two blocks, one of multipliers and one of additions,
so that the reset at the start of every step is two fills and a programme turns all its levers in
two array operations (:meth:`Levers.effect_blocks`). Change a lever in place (``lv.tips *= f``,
``lv.tips[m] = x``); rebinding it (``lv.tips = array``) would detach it from its block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields

import numpy as np

__all__ = ["Levers"]

_MULTIPLIERS = (
    "guardianship", "property_guardianship", "tips", "violence", "exit", "recruitment",
    "group_enforcement", "prosecution", "conviction", "case_days",
)
_ADDITIONS = (
    "patrol_officers", "displacement", "legitimacy", "contact_rate", "efficacy_drift", "vetting",
)
_MULTIPLIER_ROW = {name: i for i, name in enumerate(_MULTIPLIERS)}
_ADDITION_ROW = {name: i for i, name in enumerate(_ADDITIONS)}


@dataclass
class Levers:
    """Modifiers for one step. Per-neighbourhood arrays have one entry per neighbourhood.

    The arrays given for the per-neighbourhood levers are copied into :attr:`multipliers` and
    :attr:`additions` (neighbourhood levers x neighbourhoods); the fields are views of their rows.
    """

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

    def __post_init__(self) -> None:
        self.multipliers = np.stack([np.asarray(getattr(self, name), dtype=np.float64) for name in _MULTIPLIERS])
        self.additions = np.stack([np.asarray(getattr(self, name), dtype=np.float64) for name in _ADDITIONS])
        self._bind_rows()

    def _bind_rows(self) -> None:
        for i, name in enumerate(_MULTIPLIERS):
            setattr(self, name, self.multipliers[i])
        for i, name in enumerate(_ADDITIONS):
            setattr(self, name, self.additions[i])

    def __getstate__(self) -> dict:
        # the rows are views of the blocks: a copy or pickle stores the blocks and rebinds the rows
        return {k: v for k, v in self.__dict__.items() if k not in _MULTIPLIER_ROW and k not in _ADDITION_ROW}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._bind_rows()

    @classmethod
    def neutral(cls, n_neighbourhoods: int, n_crossings: int) -> Levers:
        ones = {name: np.ones(n_neighbourhoods) for name in _MULTIPLIERS}
        zeros = {name: np.zeros(n_neighbourhoods) for name in _ADDITIONS}
        return cls(**ones, **zeros, crossing_seizure=np.zeros(n_crossings))

    def reset(self) -> None:
        """Back to neutral, in place (no allocation inside the step)."""
        self.multipliers.fill(1.0)
        self.additions.fill(0.0)
        self.crossing_seizure.fill(0.0)
        for name, default in _SCALAR_DEFAULTS:
            setattr(self, name, default)

    def effect_blocks(self, effects: Mapping[str, float], where: np.ndarray | slice,
                      refill: tuple[np.ndarray | None, np.ndarray | None] | None = None,
                      ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """What turning the named levers by ``effects`` where ``where`` is true does, as two blocks.

        ``where`` is a boolean mask over neighbourhoods (or ``slice(None)`` for all of them).

        Returns ``(factors, shifts)`` shaped like :attr:`multipliers` and :attr:`additions` (None
        when no lever of that kind is named): a multiplier lever's row holds its factor in the
        targeted neighbourhoods and 1 elsewhere, an additive lever's row its amount there and 0
        elsewhere. Multiplying by the factors and adding the shifts (:meth:`turn`) therefore gives
        every targeted entry the same value as ``lever[where] *= factor`` / ``+= amount``, and leaves
        the rest exactly as they were (x * 1.0 == x; x + 0.0 == x, as additive levers start at +0.0
        and so are never -0.0).

        ``refill``: blocks made earlier for the same lever names and the same ``where``; the new
        values are written into them in place (a programme whose dose ramps up changes only values).
        """
        factors, shifts = refill if refill is not None else (None, None)
        for name, value in effects.items():
            if name in _MULTIPLIER_ROW:
                if factors is None:
                    factors = np.ones(self.multipliers.shape)
                factors[_MULTIPLIER_ROW[name]][where] = value  # row view, then a 1-D mask: ~10x faster
            elif name in _ADDITION_ROW:
                if shifts is None:
                    shifts = np.zeros(self.additions.shape)
                shifts[_ADDITION_ROW[name]][where] = value
            else:
                raise KeyError(f"expected a per-neighbourhood lever ({', '.join(_MULTIPLIERS + _ADDITIONS)}), "
                               f"found '{name}'")
        return factors, shifts

    def turn(self, factors: np.ndarray | None, shifts: np.ndarray | None) -> None:
        """Apply blocks made by :meth:`effect_blocks`, in place."""
        if factors is not None:
            self.multipliers *= factors
        if shifts is not None:
            self.additions += shifts


#: the city-wide scalar levers and their neutral values
_SCALAR_DEFAULTS = tuple((f.name, f.default) for f in fields(Levers) if f.default is not MISSING)
