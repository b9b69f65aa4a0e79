"""Community policing and model precincts: officers who patrol on foot, meet residents, listen.

Mechanisms (no direct effect on crime counts): positive, procedurally fair contacts raise the
trust of the residents met; the neighbourhood's legitimacy rises; residents pass on more
information (tips raise clearance and proactive arrests); collective efficacy grows slowly.
Through trust, more crimes are reported. Evidence: positive effects on satisfaction and
legitimacy, limited effects on crime and fear (Gill et al. 2014); no gain in trust and no crime
reduction in six Global South trials (Blair et al. 2021) - so the defaults are modest and a
sweep should include zero effect. Sources in docs/calibration.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from model.interventions.base import Intervention

if TYPE_CHECKING:
    from model.model import SecurityModel


class CommunityPolicing(Intervention):
    """Community policing in the targeted neighbourhoods."""

    type: Literal["community_policing"] = "community_policing"
    cost_per_unit_usd: float = Field(12_000.0, ge=0, description="per community officer-year")
    officers_per_1000: float = Field(
        0.5, ge=0, le=20, description="community officers per 1,000 residents at intensity 1"
    )
    contacts_per_resident_year: float = Field(0.5, ge=0, le=50, description="positive contacts per resident-year")
    legitimacy: float = Field(0.05, ge=0, le=1, description="rise of the neighbourhood's trust target")
    tips: float = Field(0.10, ge=0, le=5, description="relative rise of information to police")
    efficacy_per_year: float = Field(0.02, ge=0, le=1, description="growth of collective efficacy a year")

    unit_name = "community officer"
    mechanism = "contacts and legitimacy raise trust, reporting and tips; efficacy grows"

    def deliver(self, model: SecurityModel) -> None:
        dose = self.intensity
        self.turn_levers(
            model,
            contact_rate=self.contacts_per_resident_year * dose,
            legitimacy=self.legitimacy * dose,
            tips=1.0 + self.tips * dose,
            efficacy_drift=self.efficacy_per_year * dose,
        )

    def units(self, model: SecurityModel) -> float:
        return self.intensity * self.officers_per_1000 * self.delivery.targeted_residents / 1000.0
