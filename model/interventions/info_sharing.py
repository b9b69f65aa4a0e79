"""Regional information sharing: intelligence on shipments, and on gangs, shared between agencies.

Mechanisms: seizure probability rises across the whole trafficking network (a shipment flagged
upstream is stopped wherever it goes, so re-routing helps traffickers less), and information on
gang members reaches police in the targeted neighbourhoods (clearance and proactive arrests).
CARSI goal 5 (figures.md): coordination between the nations of the region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from model.interventions.base import Intervention

if TYPE_CHECKING:
    from model.model import SecurityModel


class InfoSharing(Intervention):
    """Shared databases, liaison officers and joint task forces."""

    type: Literal["info_sharing"] = "info_sharing"
    cost_per_unit_usd: float = Field(2_000_000.0, ge=0, description="per year at intensity 1")
    seizure_gain: float = Field(0.3, ge=0, le=5, description="relative rise of seizure everywhere in the network")
    tips_gain: float = Field(0.15, ge=0, le=5, description="relative rise of information on gangs")

    unit_name = "programme-year"
    mechanism = "seizures rise network-wide (re-routing helps less); more information on gangs"

    def deliver(self, model: SecurityModel) -> None:
        model.levers.intelligence *= 1.0 + self.seizure_gain * self.intensity
        self.turn_levers(model, tips=1.0 + self.tips_gain * self.intensity)

    def cost_mask(self, model: SecurityModel) -> np.ndarray:
        return self.delivery.everywhere  # a programme of the whole region: every neighbourhood pays

    def units(self, model: SecurityModel) -> float:
        return self.intensity
