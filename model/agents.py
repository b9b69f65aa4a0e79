"""Organisations as Mesa agents: gangs, police units and neighbourhoods.

People are rows in arrays (:mod:`model.population`); the organisations that act on them are
few enough to be agents. Their numeric state lives in the model's arrays so processes stay
vectorised; the agents are the named, inspectable handles a notebook or dashboard uses, and
they own the decisions that are theirs (a gang settles its accounts, a unit takes a post).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from mesa.discrete_space import CellAgent, FixedAgent

from model.processes.common import member_views

if TYPE_CHECKING:
    from model.model import SecurityModel

__all__ = ["Gang", "PoliceUnit", "Neighbourhood"]


class Gang(mesa.Agent):
    """A mara or street gang: members by neighbourhood, territory, money, guns and drugs."""

    model: SecurityModel

    def __init__(self, model: SecurityModel, gang_id: int, cash: float, weapons: float) -> None:
        super().__init__(model)
        self.gang_id = gang_id
        self.cash = float(cash)
        self.weapons = float(weapons)
        self.drug_stock_kg = 0.0
        self.revenue_today = 0.0
        self.seized_today = 0.0  # bulk cash seized today (must be paid to suppliers again)
        self.income_memory = 0.0  # recent net income per day (about 90 days)
        self.supply_memory_kg = 0.0  # recent daily drug supply (for scarcity)
        self.supply_reference_kg = 0.0  # supply at baseline flows

    @property
    def members(self) -> int:
        """Active (free) members across the city."""
        return int(member_views(self.model).counts[self.gang_id])  # the same sum, kept with the member views

    @property
    def territory(self) -> np.ndarray:
        """Control share in each neighbourhood (0-1)."""
        return self.model.control[self.gang_id]

    @property
    def weapons_per_member(self) -> float:
        return self.weapons / max(self.members, 1)

    @property
    def scarcity(self) -> float:
        """Shortfall of drug supply against the baseline flow (0 = none, 1 = none arrives)."""
        if self.supply_reference_kg <= 0:
            return 0.0
        return float(min(max(1.0 - self.supply_memory_kg / self.supply_reference_kg, 0.0), 1.0))

    def settle_accounts(self) -> None:
        """Take in the day's revenue, pay members, send bulk cash abroad."""
        m = self.model
        dt = m.dt_years
        exported = m.scenario.trafficking.cash_export_share * self.revenue_today
        net = self.revenue_today - exported - self.seized_today
        self.cash = max(self.cash + net - m.cal.upkeep_per_member_year * self.members * dt, 0.0)
        f = m.memory_decay["recent"]
        self.income_memory = f * self.income_memory + (1.0 - f) * net
        m.cash_outflow_usd[self.gang_id] = exported
        self.weapons *= 1.0 - m.cal.gun_attrition * dt  # guns lost, broken, seized in passing
        self.revenue_today = 0.0
        self.seized_today = 0.0

    @property
    def income_per_member(self) -> float:
        """Recent daily net income per free member: what gang life pays."""
        return self.income_memory / max(self.members, 1)


class PoliceUnit(CellAgent):
    """A unit of officers posted to one neighbourhood (a cell of the city's network space)."""

    model: SecurityModel

    def __init__(self, model: SecurityModel, unit_id: int) -> None:
        super().__init__(model)
        self.unit_id = unit_id

    @property
    def neighbourhood(self) -> int:
        return int(self.model.police.unit_hood[self.unit_id])

    @property
    def officers(self) -> float:
        return float(self.model.police.unit_officers[self.unit_id])

    @property
    def corrupt_share(self) -> float:
        return float(self.model.police.unit_corrupt[self.unit_id])

    def take_post(self, hood: int) -> None:
        """Move to neighbourhood ``hood``."""
        self.model.police.unit_hood[self.unit_id] = hood
        self.move_to(self.model.cells[hood])


class Neighbourhood(FixedAgent):
    """A neighbourhood as seen by a notebook or the dashboard (read-only views of its state)."""

    model: SecurityModel

    def __init__(self, model: SecurityModel, hood: int) -> None:
        super().__init__(model)
        self.hood = hood
        self.cell = model.cells[hood]

    @property
    def residents(self) -> int:
        return int(self.model.world.residents[self.hood])

    @property
    def fear(self) -> float:
        return float(self.model.fear()[self.hood])

    @property
    def trust(self) -> float:
        return float(self.model.trust()[self.hood])

    @property
    def gang_control(self) -> float:
        return float(self.model.control[:, self.hood].sum())
