"""Rule-of-law training for prosecutors and judges: more cases prosecuted and won, faster.

Mechanisms: prosecution and conviction probabilities rise and case times fall for cases from the
targeted neighbourhoods, phased in over ``ramp_years`` as trained staff take up cases. Higher
certainty of conviction deters offending and recruitment (the certainty of punishment, not its
severity, deters) and reduces the impunity that erodes trust. Plausibility: Guatemala's conviction
rate rose from ~2% to ~9% in 2007-11 with CICIG (unverified); CICIG is credited with ~4,500
homicides averted 2007-17 (International Crisis Group 2018).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from model.interventions.base import Intervention

if TYPE_CHECKING:
    from model.model import SecurityModel


class RuleOfLaw(Intervention):
    """Training, case management and forensic support for prosecutors and courts."""

    type: Literal["rule_of_law"] = "rule_of_law"
    cost_per_unit_usd: float = Field(300_000.0, ge=0, description="per 100,000 residents served a year")
    prosecution_gain: float = Field(0.6, ge=0, le=5, description="relative rise of prosecutions at full effect")
    conviction_gain: float = Field(0.6, ge=0, le=5, description="relative rise of convictions at full effect")
    case_time_reduction: float = Field(0.3, ge=0, le=0.9, description="relative fall of case duration")
    ramp_years: float = Field(1.0, ge=0, le=10, description="years to reach full effect")

    unit_name = "100k residents served"
    mechanism = "more prosecutions and convictions, faster; certainty deters and restores trust"

    def deliver(self, model: SecurityModel) -> None:
        elapsed = (model.t - self.delivery.start) / model.steps_per_year
        ramp = 1.0 if self.ramp_years == 0 else min(elapsed / self.ramp_years, 1.0)
        dose = self.intensity * ramp
        self.turn_levers(
            model,
            prosecution=1.0 + self.prosecution_gain * dose,
            conviction=1.0 + self.conviction_gain * dose,
            case_days=1.0 - min(self.case_time_reduction * dose, 0.9),
        )

    def units(self, model: SecurityModel) -> float:
        return self.intensity * self.delivery.targeted_residents / 1e5
