"""Situational prevention and local crime-prevention plans: lighting, cameras, guarded blocks.

Mechanisms: guardianship against robbery and extortion rises in the targeted neighbourhoods, and
local plans build collective efficacy. Part of the deterred crime moves next door: cameras in
Montevideo cut crime in monitored areas by ~85% but left the city total unchanged (Munyo & Rossi
2016); guarded blocks in Buenos Aires cut car theft on the block by 75% (Di Tella & Schargrodsky
2004). Problem-oriented approaches: -33.8% with no significant displacement (Hinkle et al. 2020).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from model.interventions.base import Intervention, Target

if TYPE_CHECKING:
    from model.model import SecurityModel


class SituationalPrevention(Intervention):
    """Environmental design and local prevention plans in high-crime neighbourhoods."""

    type: Literal["situational_prevention"] = "situational_prevention"
    target: Target = Field(default_factory=lambda: Target(top_k=10, by="robberies"))
    cost_per_unit_usd: float = Field(150_000.0, ge=0, description="per neighbourhood-year at intensity 1")
    guardianship_gain: float = Field(
        0.4, ge=0, le=10, description="relative rise of guardianship against robbery and extortion"
    )
    displacement: float = Field(0.5, ge=-1, le=1, description="share of deterred crime moved next door")
    efficacy_per_year: float = Field(0.02, ge=0, le=1, description="growth of collective efficacy a year")

    unit_name = "neighbourhood"
    mechanism = "guardianship against property crime; partial displacement next door; efficacy grows"

    def deliver(self, model: SecurityModel) -> None:
        dose = self.intensity
        self.turn_levers(
            model,
            property_guardianship=1.0 + self.guardianship_gain * dose,
            displacement=self.displacement * min(dose, 1.0),
            efficacy_drift=self.efficacy_per_year * dose,
        )

    def units(self, model: SecurityModel) -> float:
        return self.intensity * len(self.delivery.targeted)
