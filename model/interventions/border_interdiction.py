"""Border interdiction of drugs, guns and bulk cash at the region's crossings.

Mechanism: a higher seizure probability on the legs into the targeted crossings (the target
names crossings: ``all``, ``ids: [crossing_0, ...]`` or ``top_k`` by current flow). Traffickers
learn the new risk and re-route (the balloon effect, Magliocca et al. 2019), so less reaches
the city only if the city's crossings stay costlier than the alternatives; drug scarcity can
raise gang violence (Castillo et al. 2020; Dell 2015). Guns and cash crossing the city's
crossings face the same checks. Interdiction rarely cuts supply much (Caulkins et al. 1993).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from model.interventions.base import Intervention

if TYPE_CHECKING:
    from model.model import SecurityModel


class BorderInterdiction(Intervention):
    """More inspection, scanners and patrols at border crossings."""

    type: Literal["border_interdiction"] = "border_interdiction"
    cost_per_unit_usd: float = Field(4_000_000.0, ge=0, description="per crossing-year at intensity 1")
    seizure_increase: float = Field(0.25, ge=0, le=0.9, description="extra seizure probability at intensity 1")

    unit_name = "crossing"
    mechanism = "higher seizure risk at crossings; traffickers re-route; less contraband if routes cannot shift"

    def resolve_target(self, model: SecurityModel) -> np.ndarray:
        net = model.world.network
        names = net.crossing_names
        mask = np.zeros(len(names), dtype=bool)
        kind = self.target.kind
        if kind == "all":
            mask[:] = True
        elif kind == "ids":
            for item in self.target.ids or []:
                mask[names.index(item) if isinstance(item, str) else int(item)] = True
        elif kind == "top_k":
            flow = np.bincount(net.crossing_of_path, model.traffic.route_share, minlength=len(names))
            order = np.lexsort((np.arange(len(names)), -flow))
            mask[order[: self.target.top_k]] = True
        else:
            mask[:] = True  # attribute rules describe neighbourhoods, not crossings
        return mask

    def deliver(self, model: SecurityModel) -> None:
        extra = model.levers.crossing_seizure
        add = min(self.seizure_increase * self.intensity, 0.9)
        # a handful of crossings: element by element beats two masked passes over a tiny array
        for i in self.delivery.targeted:
            extra[i] = 1.0 - (1.0 - extra[i]) * (1.0 - add)

    def cost_mask(self, model: SecurityModel) -> np.ndarray:
        return self.delivery.everywhere  # the target is crossings: every neighbourhood pays

    def units(self, model: SecurityModel) -> float:
        return self.intensity * len(self.delivery.targeted)
