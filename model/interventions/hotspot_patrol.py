"""Hot-spot patrol: extra officers making short, unpredictable stops where crime concentrates.

Mechanisms: more officer-equivalents on patrol in the hot spots (guardianship through police
presence) and a dosage effect of 10-15 minute stops (Koper 1995: P(crime within 30 min) 15%
after a drive-by vs 4% after a 10-16 min stop). Deterred street crime partly diffuses as a
benefit to adjacent neighbourhoods by default (Braga et al. 2019 favour diffusion over
displacement); set ``displacement`` > 0 to model displacement instead (Bogota: property crime
displaced nearby, Blattman et al. 2021). Meta-analytic effect: about 8-16% (Braga & Weisburd 2020).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from model.interventions.base import Intervention, Target

if TYPE_CHECKING:
    from model.model import SecurityModel


class HotspotPatrol(Intervention):
    """Directed patrol in the neighbourhoods with most reported crime (re-ranked monthly)."""

    type: Literal["hotspot_patrol"] = "hotspot_patrol"
    target: Target = Field(default_factory=lambda: Target(top_k=6, by="crimes_reported"))
    retarget_days: int = Field(30, ge=0)
    cost_per_unit_usd: float = Field(15_000.0, ge=0, description="per patrol officer-year")
    officers_per_hotspot: float = Field(4.0, ge=0, le=1000, description="extra patrol officers per hot spot")
    dosage_effect: float = Field(0.15, ge=0, le=5, description="extra guardianship from stop dosage")
    displacement: float = Field(
        -0.2, ge=-1, le=1, description="share of deterred crime moved next door (<0: diffusion of benefits)"
    )

    unit_name = "patrol officer"
    mechanism = "presence and stop dosage raise guardianship in hot spots; diffusion or displacement next door"

    def deliver(self, model: SecurityModel) -> None:
        dose = self.intensity
        self.turn_levers(
            model,
            patrol_officers=self.officers_per_hotspot * dose,
            guardianship=1.0 + self.dosage_effect * dose,
            displacement=self.displacement * min(dose, 1.0),
        )

    def units(self, model: SecurityModel) -> float:
        return self.intensity * self.officers_per_hotspot * len(self.delivery.targeted)
