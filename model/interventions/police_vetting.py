"""Police vetting: screening (polygraph, asset checks) that removes corrupt officers.

Mechanisms: a share of corrupt officers in units posted to targeted neighbourhoods is removed
each year (capacity dips until replacements are hired); less corruption means fewer tip-offs to
gangs (more arrests for gang crimes) and less of the distrust corruption breeds. Without vetting,
corruption drifts back towards its baseline. The CARSI fact sheet names corruption as eroding trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from model.interventions.base import Intervention

if TYPE_CHECKING:
    from model.model import SecurityModel


class PoliceVetting(Intervention):
    """Vetting units and internal-affairs capacity."""

    type: Literal["police_vetting"] = "police_vetting"
    cost_per_unit_usd: float = Field(1_500.0, ge=0, description="per officer screened a year")
    removal_per_year: float = Field(0.5, ge=0, le=10, description="share of corrupt officers removed a year")

    unit_name = "officer screened"
    mechanism = "corrupt officers removed: fewer tip-offs to gangs, less distrust"

    def deliver(self, model: SecurityModel) -> None:
        self.turn_levers(model, vetting=self.removal_per_year * self.intensity)

    def units(self, model: SecurityModel) -> float:
        force = model.police
        posted = force.unit_hood
        # units posted in a targeted neighbourhood; a unit not posted yet (-1) is in none
        # (the same selection as np.isin(posted, np.flatnonzero(mask)), without its sort)
        inside = self.mask[posted] & (posted >= 0)
        return self.intensity * float(force.unit_officers[inside].sum())
