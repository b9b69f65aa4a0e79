"""Outcomes, declared once: name, label, unit, kind and how each is computed.

The same declarations feed the per-step city table, the monthly neighbourhood table, the
summary, the CLI, the report and the dashboard. ``count`` outcomes add up over time (a year's
homicides is the sum of its days); ``level`` outcomes are states (a year's fear is the mean).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.compiled import kernel
from model.state import row_slice

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


_CITY_SUMS = (
    "homicides", "homicides_reported", "robberies", "robberies_reported", "extortions",
    "extortions_reported", "assaults", "assaults_reported", "drug_sales", "drug_sales_detected",
    "crimes", "crimes_reported", "victims", "recruits", "gang_exits", "arrests", "gang_arrests",
    "prosecutions", "convictions", "releases", "police_contacts", "enrolments",
    "extortion_paid_usd", "cost_usd", "gang_members", "youth_enrolled",
)  # (gang members and youth enrolled are levels, but the city's level is the sum over neighbourhoods)
_CITY_MEANS = ("fear", "trust", "economic_activity", "gang_control")  # resident-weighted means
_CITY_FLOWS = {"contraband_inflow": "contraband_inflow_kg", "seizures": "seizures_kg", "guns_inflow": "guns_inflow",
               "guns_seized": "guns_seized", "cash_seized_usd": "cash_seized_usd"}
# worked out from the model after the tally's rows (by :func:`_today`, in this order), so that the rows the city
# sums are one slice of the day's block
_DERIVED = ("gang_members", "youth_enrolled", "fear", "trust", "economic_activity", "gang_control", "homicide_rate",
            "police_per_1000")
# the city table's columns
_COL = {name: i for i, name in enumerate(CITY_OUTCOMES)}
_HOMICIDE_RATE, _REPORTED_SHARE, _POLICE_EFFECTIVE, _CERTAINTY = (
    _COL[name] for name in ("homicide_rate", "reported_share", "police_effective", "certainty"))
_FLOW_COLS = tuple((_COL[name], key) for name, key in _CITY_FLOWS.items())


class Recorder:
    """Preallocated tables filled once per step: city per step, neighbourhood per month.

    Each step, today's neighbourhood values are gathered into one (outcome, neighbourhood)
    block; the monthly table adds the block, and the city row is its row sums and
    resident-weighted means. Few, whole-block numpy calls: recording costs the same at 60 or
    6,000 neighbourhoods and does not grow with residents.
    """

    def __init__(self, model: SecurityModel) -> None:
        steps = model.scenario.steps
        self.months = int(np.ceil(steps * 12 / model.steps_per_year)) or 1
        k = model.world.n_neighbourhoods
        self.city = np.full((steps, len(CITY_OUTCOMES)), np.nan)
        self.hood_sum = np.zeros((self.months, len(HOOD_OUTCOMES), k))
        self.hood_steps = np.zeros(self.months)
        self.steps_recorded = 0
        self._hood_count = np.array([outcome(n).is_count for n in HOOD_OUTCOMES])
        # today's block: every row of the tally (its counts, then its totals), then the derived values
        self._tallied = tuple(model.tally.ROWS)  # the rows of model.tally.block
        rows = self._tallied + _DERIVED
        self._row = {name: i for i, name in enumerate(rows)}
        self._today = np.zeros((len(rows), k))
        # the other rows the city sums: the city means' rows of today times the residents (the sums of these, over
        # the residents, are the means), then honest officers, convictions and offences remembered (by _today)
        self._weighted = np.zeros((len(_CITY_MEANS) + 3, k))
        self._hood_rows = np.array([self._row[name] for name in HOOD_OUTCOMES])
        self._sums = row_slice(rows, _CITY_SUMS)
        summed = rows[self._sums]  # the rows of the city's sums, in the order they come out
        self._sum_cols = np.array([_COL[name] for name in summed])
        self._mean_cols = np.array([_COL[name] for name in _CITY_MEANS])
        self._rate_sums = np.array([summed.index(name) for name in ("homicides", "crimes", "crimes_reported")])
        self._residents = model.world.residents.astype(float)
        self._total = self._residents.sum()
        # The recorder's kernels are loaded now (from numba's cache, a few ms each), not on the first recorded day:
        # the city as built is gathered into scratch rows, which are dropped.
        self._city_row(model, self._gather(model, np.zeros_like(self.hood_sum[0])), np.empty(self.city.shape[1]))

    def month_of(self, model: SecurityModel, t: int) -> int:
        return min(int(t * 12 // model.steps_per_year), self.months - 1)

    def record(self, model: SecurityModel) -> None:
        """Store this step's values (called at the end of ``step``); nothing during the spin-up."""
        t = model.t
        if not 0 <= t < self.city.shape[0]:
            return
        m = self.month_of(model, t)
        today = self._gather(model, self.hood_sum[m])
        self.hood_steps[m] += 1
        self._city_row(model, today, self.city[t])
        self.steps_recorded = t + 1

    def _gather(self, model: SecurityModel, month: np.ndarray) -> np.ndarray:
        """Today's (outcome, neighbourhood) block: the tally, then the derived values; its neighbourhood outcomes are
        added to ``month`` (the month's sums) and its city means' rows weighted by the residents."""
        hood = model.hood
        fear, trust, activity = model.moods()
        _today(model.tally.block, model.gang_members, hood.enrolled, fear, trust, activity, model.presence(),
               model.tally.hood["homicides"], model.steps_per_year, self._residents, model.police.per_1000,
               self._hood_rows, month, model.police.effective, hood.conviction_memory, hood.offence_memory,
               self._today, self._weighted)
        return self._today

    def _city_row(self, model: SecurityModel, today: np.ndarray, out: np.ndarray) -> None:
        """The city's values today, written into ``out`` (one row of the city table).

        Each row of ``today`` (and of the other rows the city sums) is summed as a contiguous row on its own: the
        same pairwise sums as summing each outcome's array by itself.
        """
        _city_values(np.add.reduce(today[self._sums], axis=1), self._sum_cols, np.add.reduce(self._weighted, axis=1),
                     self._mean_cols, self._total, model.steps_per_year, self._rate_sums, out)
        city = model.tally.city
        for c, key in _FLOW_COLS:
            out[c] = city[key]
        out[_COL["incarcerated"]] = model.justice.prison_person.size
        out[_COL["detained_pending"]] = model.justice.case_person.size
        officers = model.police.unit_officers
        out[_COL["police_corrupt_share"]] = (np.add.reduce(officers * model.police.unit_corrupt)
                                             / max(np.add.reduce(officers), 1e-12))
        shipments = city["shipments"]
        out[_COL["route_share_city"]] = city["shipments_via_city"] / shipments if shipments else np.nan
        out[_COL["gang_weapons"]] = sum(g.weapons for g in model.gang_list)

    def hood_table(self) -> np.ndarray:
        """(month, outcome, neighbourhood): sums for counts, means for levels."""
        steps = np.maximum(self.hood_steps, 1)[:, None, None]
        return np.where(self._hood_count[None, :, None], self.hood_sum, self.hood_sum / steps)


@kernel
def _today(tally, members, enrolled, fear, trust, activity, presence, homicides, per_year, residents, per_1000,
           hood_rows, month, effective, convictions, offences, today, weighted):
    """Today's (outcome, neighbourhood) block into ``today``: the tally's rows, then the :data:`_DERIVED` values in
    their order, per neighbourhood h:

        gang members (``members``: per gang, rows) | youth enrolled | fear | trust | economic activity | gang control
        (presence) | homicide rate = homicides * per_year / residents * 100,000 | honest officers per 1,000;

    today's rows ``hood_rows`` (the neighbourhood outcomes) are added into ``month`` (the month's sums), and the
    other rows the city sums are written into ``weighted``: :data:`_CITY_MEANS` (fear, trust, economic activity,
    gang control) times the residents (the city's resident-weighted means are their sums over the residents), honest
    officers (``effective``), convictions and offences remembered.
    """
    n = tally.shape[0]
    for h in range(residents.size):
        for r in range(n):
            today[r, h] = tally[r, h]
        held = 0  # (members are whole numbers: their sum is exact)
        for g in range(members.shape[0]):
            held += members[g, h]
        today[n, h] = held
        today[n + 1, h] = enrolled[h]
        today[n + 2, h] = fear[h]
        today[n + 3, h] = trust[h]
        today[n + 4, h] = activity[h]
        today[n + 5, h] = presence[h]
        today[n + 6, h] = homicides[h] * per_year / residents[h] * 1e5
        today[n + 7, h] = per_1000[h]
        for i in range(hood_rows.size):
            month[i, h] += today[hood_rows[i], h]
        weighted[0, h] = fear[h] * residents[h]
        weighted[1, h] = trust[h] * residents[h]
        weighted[2, h] = activity[h] * residents[h]
        weighted[3, h] = presence[h] * residents[h]
        weighted[4, h] = effective[h]
        weighted[5, h] = convictions[h]
        weighted[6, h] = offences[h]


@kernel
def _city_values(sums, sum_cols, other_sums, mean_cols, residents, per_year, rate_sums, out):
    """The city's values worked out from its sums over neighbourhoods, into their columns of ``out`` (a row of the
    city table): ``sums`` (the day's sums, into ``sum_cols``) and ``other_sums`` (those of the weighted rows of
    :func:`_today`: resident-weighted moods and control, honest officers, convictions, offences), with
    ``rate_sums`` the places of today's homicides, crimes and crimes reported among ``sums``:

        city means     = weighted sum / residents
        homicide rate  = homicides * per_year / residents * 100,000
        reported share = crimes reported / crimes (NaN without crimes)
        certainty      = convictions / max(offences, 1e-12)     (both remembered over a year)
    """
    for i in range(sums.size):
        out[sum_cols[i]] = sums[i]
    for i in range(mean_cols.size):
        out[mean_cols[i]] = other_sums[i] / residents
    homicides, crimes, reported = sums[rate_sums[0]], sums[rate_sums[1]], sums[rate_sums[2]]
    out[_HOMICIDE_RATE] = homicides * per_year / residents * 1e5
    out[_REPORTED_SHARE] = reported / crimes if crimes else np.nan
    out[_POLICE_EFFECTIVE] = other_sums[4]
    offences = other_sums[6]
    out[_CERTAINTY] = other_sums[5] / (1e-12 if offences < 1e-12 else offences)  # (Python's max(offences, 1e-12))
