"""Outcomes, declared once: name, label, unit, kind and how each is computed.

The same declarations feed the per-step city table, the monthly neighbourhood table, the
summary, the CLI, the report and the dashboard. ``count`` outcomes add up over time (a year's
homicides is the sum of its days); ``level`` outcomes are states (a year's fear is the mean).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.model import SecurityModel

__all__ = ["Outcome", "CITY_OUTCOMES", "HOOD_OUTCOMES", "OUTCOMES", "Recorder", "outcome"]


@dataclass(frozen=True)
class Outcome:
    """One declared outcome."""

    name: str
    label: str
    unit: str
    kind: str  # "count" (sums over time) or "level" (averages over time)
    description: str
    lower_is_better: bool = True

    @property
    def is_count(self) -> bool:
        return self.kind == "count"


def _c(name: str, label: str, unit: str, description: str, lower: bool = True) -> Outcome:
    return Outcome(name, label, unit, "count", description, lower)


def _l(name: str, label: str, unit: str, description: str, lower: bool = True) -> Outcome:
    return Outcome(name, label, unit, "level", description, lower)


OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    _c("homicides", "Homicides", "people", "true homicides (all sources)"),
    _c("homicides_reported", "Homicides recorded", "people", "homicides known to police"),
    _c("robberies", "Robberies", "crimes", "true robberies"),
    _c("robberies_reported", "Robberies reported", "crimes", "robberies reported to police"),
    _c("extortions", "Extortions", "crimes", "true extortions (each one paid)"),
    _c("extortions_reported", "Extortions reported", "crimes", "extortions reported to police"),
    _c("assaults", "Assaults", "crimes", "true non-lethal assaults (incl. non-lethal gang attacks)"),
    _c("assaults_reported", "Assaults reported", "crimes", "assaults reported to police"),
    _c("drug_sales", "Drug sales", "sales", "retail drug sales by gangs"),
    _c("drug_sales_detected", "Drug sales detected", "sales", "retail sales police detect"),
    _c("crimes", "Crimes", "crimes", "homicides + robberies + extortions + assaults"),
    _c("crimes_reported", "Crimes reported", "crimes", "reported homicides, robberies, extortions, assaults", False),
    _c("victims", "Victimisations", "people", "people victimised (non-lethal)"),
    _c("recruits", "Gang recruits", "people", "youth who joined a gang"),
    _c("gang_exits", "Gang exits", "people", "members who left their gang", False),
    _c("arrests", "Arrests", "people", "arrests of all kinds", False),
    _c("gang_arrests", "Arrests of gang members", "people", "arrests of gang members", False),
    _c("prosecutions", "Prosecutions", "cases", "cases prosecuted", False),
    _c("convictions", "Convictions", "cases", "cases ending in conviction", False),
    _c("releases", "Releases", "people", "people released from custody or prison"),
    _c("police_contacts", "Positive police contacts", "contacts", "community policing contacts", False),
    _c("enrolments", "Programme enrolments", "people", "youth enrolled in programmes", False),
    _c("extortion_paid_usd", "Extortion paid", "USD", "extortion payments"),
    _c("cost_usd", "Programme cost", "USD", "cost of the programmes delivered"),
    _c("contraband_inflow", "Drugs reaching gangs", "kg", "drugs left in the city's market"),
    _c("seizures", "Drugs seized", "kg", "drugs seized in the region's network", False),
    _c("guns_inflow", "Guns reaching gangs", "guns", "smuggled firearms reaching the city"),
    _c("guns_seized", "Guns seized", "guns", "smuggled firearms seized at crossings", False),
    _c("cash_seized_usd", "Bulk cash seized", "USD", "gang cash seized at crossings", False),
    _l("homicide_rate", "Homicide rate", "per 100k a year", "homicides annualised per 100,000"),
    _l("reported_share", "Share of crime reported", "share", "reported / true crimes (this step)", False),
    _l("fear", "Fear of crime", "0-1", "mean fear of residents"),
    _l("trust", "Trust in police", "0-1", "mean trust of residents", False),
    _l("economic_activity", "Economic activity", "index", "activity relative to a city without fear", False),
    _l("gang_members", "Gang members (free)", "people", "members not in custody"),
    _l("gang_control", "Gang control", "share", "resident-weighted territorial control"),
    _l("incarcerated", "In prison", "people", "people serving sentences"),
    _l("detained_pending", "Held awaiting trial", "people", "people in custody awaiting a verdict"),
    _l("youth_enrolled", "Youth in programmes", "people", "youth enrolled now", False),
    _l("police_effective", "Honest officers", "officers", "officer-equivalents not corrupt", False),
    _l("police_corrupt_share", "Corrupt share of police", "share", "officer-weighted corrupt share"),
    _l("certainty", "Convictions per offence", "share",
       "all convictions (incl. drug cases) per homicide, robbery, extortion or assault, last year", False),
    _l("route_share_city", "Flow via the city's crossings", "share", "share of shipments through the city's crossings"),
    _l("gang_weapons", "Gang firearms", "guns", "firearms held by gangs"),
)}

CITY_OUTCOMES = tuple(OUTCOMES)
HOOD_OUTCOMES = (
    "homicides", "homicides_reported", "robberies", "robberies_reported", "extortions",
    "extortions_reported", "assaults", "assaults_reported", "drug_sales", "crimes", "crimes_reported",
    "victims", "recruits", "arrests", "convictions", "police_contacts", "cost_usd", "homicide_rate",
    "fear", "trust", "economic_activity", "gang_members", "gang_control", "police_per_1000", "youth_enrolled",
)
_HOOD_EXTRA = {"police_per_1000": Outcome("police_per_1000", "Honest officers per 1,000", "officers", "level",
                                          "honest officer-equivalents per 1,000 residents", False)}


def outcome(name: str) -> Outcome:
    """The declaration of an outcome by name."""
    return OUTCOMES.get(name) or _HOOD_EXTRA[name]


def _hood_values(model: SecurityModel) -> dict[str, np.ndarray]:
    h = model.tally.hood
    n = model.world.residents.astype(float)
    crimes = h["homicides"] + h["robberies"] + h["extortions"] + h["assaults"]
    reported = h["homicides_reported"] + h["robberies_reported"] + h["extortions_reported"] + h["assaults_reported"]
    return {
        **{name: h[name] for name in h},
        "crimes": crimes,
        "crimes_reported": reported,
        "homicide_rate": h["homicides"] * model.steps_per_year / n * 1e5,
        "fear": model.fear(),
        "trust": model.trust(),
        "economic_activity": model.activity(),
        "gang_members": model.gang_members.sum(axis=0).astype(float),
        "gang_control": model.presence(),
        "police_per_1000": model.police.per_1000,
        "youth_enrolled": model.hood.enrolled,
    }


_CITY_SUMS = (
    "homicides", "homicides_reported", "robberies", "robberies_reported", "extortions",
    "extortions_reported", "assaults", "assaults_reported", "drug_sales", "drug_sales_detected",
    "crimes", "crimes_reported", "victims", "recruits", "gang_exits", "arrests", "gang_arrests",
    "prosecutions", "convictions", "releases", "police_contacts", "enrolments",
    "extortion_paid_usd", "cost_usd",
)


def _city_values(model: SecurityModel, hood: dict[str, np.ndarray]) -> dict[str, float]:
    n = model.world.residents.astype(float)
    total = n.sum()
    city = model.tally.city
    crimes = hood["crimes"].sum()
    shipments = city["shipments"]
    # one row sum per outcome (each row summed as on its own: the same pairwise sums)
    totals = np.stack([hood[name] for name in _CITY_SUMS]).sum(axis=1)
    values = {name: float(x) for name, x in zip(_CITY_SUMS, totals, strict=True)}
    values.update(
        contraband_inflow=city["contraband_inflow_kg"],
        seizures=city["seizures_kg"],
        guns_inflow=city["guns_inflow"],
        guns_seized=city["guns_seized"],
        cash_seized_usd=city["cash_seized_usd"],
        homicide_rate=values["homicides"] * model.steps_per_year / total * 1e5,
        reported_share=float(hood["crimes_reported"].sum() / crimes) if crimes else float("nan"),
        fear=float((hood["fear"] * n).sum() / total),
        trust=float((hood["trust"] * n).sum() / total),
        economic_activity=float((hood["economic_activity"] * n).sum() / total),
        gang_members=float(model.gang_members.sum()),
        gang_control=float((hood["gang_control"] * n).sum() / total),
        incarcerated=float(model.justice.prison_person.size),
        detained_pending=float(model.justice.case_person.size),
        youth_enrolled=float(model.hood.enrolled.sum()),
        police_effective=float(model.police.effective.sum()),
        police_corrupt_share=float((model.police.unit_officers * model.police.unit_corrupt).sum()
                                   / max(model.police.unit_officers.sum(), 1e-12)),
        certainty=float(model.hood.conviction_memory.sum() / max(model.hood.offence_memory.sum(), 1e-12)),
        route_share_city=float(city["shipments_via_city"] / shipments) if shipments else float("nan"),
        gang_weapons=float(sum(g.weapons for g in model.gang_list)),
    )
    return values


class Recorder:
    """Preallocated tables filled once per step: city per step, neighbourhood per month."""

    def __init__(self, model: SecurityModel) -> None:
        steps = model.scenario.steps
        self.months = int(np.ceil(steps * 12 / model.steps_per_year)) or 1
        k = model.world.n_neighbourhoods
        self.city = np.full((steps, len(CITY_OUTCOMES)), np.nan)
        self.hood_sum = np.zeros((self.months, len(HOOD_OUTCOMES), k))
        self.hood_steps = np.zeros(self.months)
        self.steps_recorded = 0
        self._hood_count = np.array([outcome(n).is_count for n in HOOD_OUTCOMES])

    def month_of(self, model: SecurityModel, t: int) -> int:
        return min(int(t * 12 // model.steps_per_year), self.months - 1)

    def record(self, model: SecurityModel) -> None:
        """Store this step's values (called at the end of ``step``); nothing during the spin-up."""
        t = model.t
        if 0 <= t < self.city.shape[0]:
            hood = _hood_values(model)
            city = _city_values(model, hood)
            self.city[t] = [city[name] for name in CITY_OUTCOMES]
            m = self.month_of(model, t)
            self.hood_sum[m] += np.stack([hood[name] for name in HOOD_OUTCOMES])
            self.hood_steps[m] += 1
            self.steps_recorded = t + 1

    def hood_table(self) -> np.ndarray:
        """(month, outcome, neighbourhood): sums for counts, means for levels."""
        steps = np.maximum(self.hood_steps, 1)[:, None, None]
        return np.where(self._hood_count[None, :, None], self.hood_sum, self.hood_sum / steps)
