"""Mutable state the processes share, grouped by who owns it. All arrays, no per-person objects."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.compiled import kernel

__all__ = [
    "CRIME_TYPES", "HOMICIDE", "ROBBERY", "EXTORTION", "ASSAULT", "DRUG_SALE",
    "NeighbourhoodState", "PoliceForce", "Rows", "JusticeState", "TraffickingState", "Incidents", "Tally",
]

CRIME_TYPES = ("homicide", "robbery", "extortion", "assault", "drug_sale")
HOMICIDE, ROBBERY, EXTORTION, ASSAULT, DRUG_SALE = range(5)


class Rows(dict):
    """Named rows of one (name, neighbourhood) block: ``rows[name]`` is a view of the block's row.

    Assigning to a name writes into its row (``rows[name] = values`` is ``rows[name][...] = values``), so
    every row stays part of the block and one operation on :attr:`block` reaches them all. A copy or
    pickle copies the block and makes its rows views of the copy.
    """

    def __init__(self, block: np.ndarray, names: tuple[str, ...]) -> None:
        super().__init__(zip(names, block, strict=True))
        self.block = block

    def __setitem__(self, name: str, values: np.ndarray | float) -> None:
        self[name][...] = values

    def __reduce__(self) -> tuple:
        return Rows, (self.block, tuple(self))


@dataclass
class NeighbourhoodState:
    """Per-neighbourhood moods, memories and census counts (arrays of length K)."""

    fear_level: np.ndarray
    fear_shock_sum: np.ndarray
    trust_level: np.ndarray
    trust_shock_sum: np.ndarray
    efficacy: np.ndarray
    retaliation_memory: np.ndarray  # rivalry killings, decaying with the retaliation half-life
    homicide_memory: np.ndarray  # homicides, ~1 year memory (fear)
    reported_memory: np.ndarray  # reported crimes, ~90 days (deployment, targeting)
    offence_memory: np.ndarray  # true offences, ~1 year (perceived certainty)
    conviction_memory: np.ndarray  # convictions, ~1 year
    perceived_certainty: np.ndarray  # offenders' one-year memory of the chance of conviction
    recent: Rows  # ~90-day memories of outcomes used to rank top-k targets (rows of one block)
    youth: np.ndarray  # census: people aged 12-24
    youth_offending: np.ndarray  # census: youth weighted by how idle they are
    enrolled: np.ndarray  # census: youth in a programme
    enrolled_offending: np.ndarray  # census: enrolled youth weighted by how idle they are
    unserved_rows: np.ndarray  # census: rows (ascending int32) of free youth outside gangs a youth programme
    # has not yet served (neither enrolled nor graduated); blocks are contiguous, so a block's are one slice
    resistance_scale: float = 0.0  # territorial resistance per 1,000 residents (calibrated)


@dataclass
class PoliceForce:
    """Units as arrays (the PoliceUnit agents are views onto these)."""

    unit_hood: np.ndarray  # int64 neighbourhood of each unit
    unit_officers: np.ndarray  # officers in each unit now
    unit_nominal: np.ndarray  # officers each unit is meant to have
    unit_corrupt: np.ndarray  # share of the unit's officers who are corrupt
    effective: np.ndarray  # honest officer-equivalents per neighbourhood this step
    corrupt_share: np.ndarray  # officer-weighted corrupt share per neighbourhood
    per_1000: np.ndarray  # effective officers per 1,000 residents
    reference_per_1000: float = 1.0  # city mean at the start


@dataclass
class JusticeState:
    """Pending cases and prison, as parallel arrays (tens of thousands of rows at most)."""

    case_person: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    case_type: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    case_hood: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    case_due: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    prison_person: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    prison_release: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def add_cases(self, person: np.ndarray, kind: np.ndarray, hood: np.ndarray, due: np.ndarray) -> None:
        self.case_person = np.concatenate([self.case_person, person])
        self.case_type = np.concatenate([self.case_type, kind.astype(np.int8)])
        self.case_hood = np.concatenate([self.case_hood, hood])
        self.case_due = np.concatenate([self.case_due, due])

    def add_prisoners(self, person: np.ndarray, release: np.ndarray) -> None:
        """Add sentences; someone sentenced again while serving keeps one row, the later release.

        (Only possible when people await trial at home: they can be arrested and convicted twice.)
        """
        people = np.concatenate([self.prison_person, person]).astype(np.int64)
        releases = np.concatenate([self.prison_release, release]).astype(np.int64)
        unique, first, inverse = np.unique(people, return_index=True, return_inverse=True)
        if unique.size < people.size:  # concurrent sentences: serve until the later release
            latest = np.full(unique.size, np.iinfo(np.int64).min)
            np.maximum.at(latest, inverse, releases)
            keep = np.sort(first)
            people, releases = people[keep], latest[inverse[keep]]
        self.prison_person, self.prison_release = people, releases


@dataclass
class TraffickingState:
    """Traffickers' beliefs and the last day's flows."""

    perceived_risk: np.ndarray  # per edge
    route_share: np.ndarray  # per path, share of shipments
    spill_fraction: float = 0.0  # share of a load left in the city market (calibrated)
    kg_per_sale: float = 0.0005  # kg consumed per retail sale (calibrated)


class Incidents:
    """Today's crimes against people, one row each (event-sized arrays)."""

    __slots__ = ("kind", "hood", "victim", "gang", "reported", "arrested", "_parts")

    # an empty day's columns: zero-length arrays have nothing to change in place, so every day can share them
    _EMPTY = (np.zeros(0, np.int8), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8),
              np.zeros(0, bool), np.zeros(0, bool))

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, ...]] = []
        self.clear()

    def clear(self) -> None:
        self._parts = []
        self.kind, self.hood, self.victim, self.gang, self.reported, self.arrested = self._EMPTY

    def add(self, kind: np.ndarray | int, hood: np.ndarray, victim: np.ndarray,
            gang: np.ndarray) -> None:
        """Add incidents; the arrays are kept (not copied) until :meth:`close`, so do not change them after."""
        n = hood.size
        if n == 0:
            return
        kinds = np.full(n, kind, np.int8) if isinstance(kind, int | np.integer) else np.asarray(kind, np.int8)
        self._parts.append((kinds, hood.astype(np.int64, copy=False), victim.astype(np.int64, copy=False),
                            gang.astype(np.int8, copy=False)))

    def close(self) -> None:
        """Join today's parts into flat arrays (new arrays: nothing is shared with what was added)."""
        if len(self._parts) == 1:  # (copies are cheaper than a concatenate of one)
            self.kind, self.hood, self.victim, self.gang = (x.copy() for x in self._parts[0])
        elif self._parts:
            self.kind, self.hood, self.victim, self.gang = (np.concatenate(x) for x in zip(*self._parts, strict=True))
        self._parts = []
        if self.kind.size:
            self.reported = np.zeros(self.kind.size, bool)
            self.arrested = np.zeros(self.kind.size, bool)
        else:
            self.reported, self.arrested = self._EMPTY[4:]

    def __len__(self) -> int:
        return int(self.kind.size)


def row_slice(rows: tuple[str, ...], names: tuple[str, ...]) -> slice:
    """The slice of ``rows`` that picks exactly ``names``, in ``rows``' order: they must be laid out evenly
    spaced (one after another, or every other row, ...), so that one view of a block reaches them all."""
    where = sorted(rows.index(name) for name in names)
    step = where[1] - where[0] if len(where) > 1 else 1
    if step <= 0 or where != list(range(where[0], where[0] + step * len(where), step)):
        raise ValueError(f"expected {names} evenly spaced, found them at rows {where}")
    return slice(where[0], where[-1] + 1, step)


class Tally:
    """Counts of today's events per neighbourhood, plus city-wide flows (reset every step)."""

    PER_HOOD = (
        "homicides", "homicides_reported", "robberies", "robberies_reported", "extortions",
        "extortions_reported", "assaults", "assaults_reported", "drug_sales", "drug_sales_detected",
        "victims", "recruits", "gang_exits", "arrests", "gang_arrests", "prosecutions",
        "convictions", "releases", "police_contacts", "enrolments", "extortion_paid_usd", "cost_usd",
    )
    CITY = (
        "contraband_inflow_kg", "seizures_kg", "guns_inflow", "guns_seized", "cash_seized_usd",
        "shipments", "shipments_via_city",
    )
    CRIMES = ("homicides", "robberies", "extortions", "assaults")  # in the order of the types' codes (HOMICIDE, ...)
    #: rows :meth:`close` works out from the counts once the day's events are in (never added to directly)
    TOTALS = ("crimes", "crimes_reported")
    ROWS = PER_HOOD + TOTALS
    #: the rows of each crime type's count and of its reported count, indexed by the type's code
    CRIME_ROWS = np.array(list(map(PER_HOOD.index, CRIMES)))
    REPORTED_ROWS = np.array(list(map(PER_HOOD.index, (name + "_reported" for name in CRIMES))))
    CRIME_ROWS.flags.writeable = REPORTED_ROWS.flags.writeable = False

    def __init__(self, n_neighbourhoods: int) -> None:
        # one (count, neighbourhood) block; ``hood[name]`` is a row of it (add in place, never rebind)
        self.block = np.zeros((len(self.ROWS), n_neighbourhoods))
        self.hood = {name: self.block[i] for i, name in enumerate(self.PER_HOOD)}
        self.city = dict.fromkeys(self.CITY, 0.0)
        self._no_flows = dict(self.city)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "hood"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.hood = {name: self.block[i] for i, name in enumerate(self.PER_HOOD)}

    def close(self) -> None:
        """Work out the :data:`TOTALS` rows, once the day's last event is counted: today's homicides, robberies,
        extortions and assaults per neighbourhood, added in that order, and the same for those reported.

        The model's memories and the recorder both read them: one working-out a step serves both.
        """
        _day_totals(self.block, self.CRIME_ROWS, self.REPORTED_ROWS, len(self.PER_HOOD))

    def reset(self) -> None:
        self.block.fill(0.0)
        self.city.update(self._no_flows)

    def count(self, name: str, hood: np.ndarray, weights: np.ndarray | float | None = None) -> None:
        """Add events at neighbourhoods ``hood`` (optionally weighted) to ``name``, one by one in order.

        ``weights`` may be one number for every event (the same sums as an array full of it).
        """
        n = hood.size
        if n == 1:  # one event (the usual case): the same single addition as np.add.at, at a fifth of its cost
            self.hood[name][hood[0]] += 1.0 if weights is None else (weights if np.ndim(weights) == 0 else weights[0])
        elif n:
            np.add.at(self.hood[name], hood, 1.0 if weights is None else weights)

    def count_few(self, name: str, hoods: list[int]) -> None:
        """:meth:`count` for a few events at neighbourhoods given as Python ints (the same additions of one,
        without a numpy call): the processes' paths for a handful of events, bounded by ``common.FEW``."""
        row = self.hood[name]
        for h in hoods:
            row[h] += 1.0


@kernel
def _day_totals(block, crime_rows, reported_rows, totals_row):
    """The tally's :data:`Tally.TOTALS` per neighbourhood h, in place: into row ``totals_row`` of ``block`` the sum of
    its ``crime_rows`` (today's crimes of each type), into the next row the sum of its ``reported_rows`` (those
    reported), each a sum from 0 in the rows' order, as numpy's reduction (fewer than 8 rows: one after another)."""
    for h in range(block.shape[1]):
        crimes = reported = 0.0
        for i in range(crime_rows.size):
            crimes += block[crime_rows[i], h]
            reported += block[reported_rows[i], h]
        block[totals_row, h] = crimes
        block[totals_row + 1, h] = reported
