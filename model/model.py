"""SecurityModel: a city's neighbourhoods, its people as arrays, and its organisations as agents.

``step()`` is the schedule, in ODD order. Each process is a function ``step(model, rng)`` in
:mod:`model.processes`, drawing only from its own named random stream.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
from mesa.agent import AgentSet
from mesa.discrete_space import Network

from model.agents import Gang, Neighbourhood, PoliceUnit
from model.calibration import Calibration, calibrate, per_type, recalibrate
from model.compiled import kernel
from model.interventions import Intervention
from model.levers import Levers
from model.metrics import Recorder
from model.population import Population, build_population, sample_in_blocks
from model.processes import (
    census,
    crime,
    economy,
    enforcement,
    justice,
    mortality,
    perception,
    policing,
    recruitment,
    reporting,
    rivalry,
    trafficking,
)
from model.processes.common import (
    half_life_factor,
    member_views,
    time_constant_factor,
    unit,
)
from model.rng import Streams
from model.scenario import Scenario
from model.state import (
    Incidents,
    JusticeState,
    NeighbourhoodState,
    PoliceForce,
    Rows,
    Tally,
    TraffickingState,
)
from model.world import build_world

__all__ = ["SecurityModel"]



RANKED = ("homicides", "robberies", "extortions", "assaults", "crimes_reported", "recruits")
_TALLIED_ROWS = np.array([Tally.ROWS.index(name) for name in RANKED])  # the tally's rows of each recent memory
_CRIMES_ROW, _REPORTED_ROW = (Tally.ROWS.index(name) for name in Tally.TOTALS)


class SecurityModel(mesa.Model):
    """The Safe Streets model of one city under one scenario.

    >>> from model.scenario import Scenario
    >>> m = SecurityModel(Scenario(city={"residents": 5000, "neighbourhoods": 10}), seed=1)
    >>> m.run(30); int(m.recorder.city.shape[0])
    30
    """

    def __init__(self, scenario: Scenario | None = None, *, seed: int | None = None) -> None:
        scenario = scenario if scenario is not None else Scenario()
        seed = int(scenario.seed if seed is None else seed)
        super().__init__(seed=seed)
        self.scenario = scenario
        self.seed = seed
        self.streams = Streams(seed)
        self.steps_per_year = scenario.steps_per_year
        self.dt_years = 1.0 / self.steps_per_year
        self.step_days = 365.0 / self.steps_per_year
        spin_up = int(round(scenario.spin_up_years * self.steps_per_year))
        self.t = -spin_up  # the recorded run starts at t = 0, after the spin-up

        self.world = build_world(scenario, self.streams.get("world"))
        self.residents = self.world.residents.astype(float)  # per neighbourhood (fixed), for rates
        # fixed for the run, and terms made from them are kept by identity: a write must fail, not go unseen
        self.residents.flags.writeable = self.world.residents.flags.writeable = False
        self._certainty_seen: tuple | None = None
        self._types_of_mix: tuple | None = None
        self._control_seen: tuple | None = None
        self._territory_seen: tuple | None = None  # (the control views they are of, the gangs' territory shares)
        self._cost_seen: tuple | None = None
        self._moods_seen: tuple | None = None
        self._gun_seen: tuple | None = None
        self.space = Network(self.world.graph, random=self.random)
        by_id = {cell.coordinate: cell for cell in self.space.all_cells}
        self.cells = [by_id[i] for i in range(self.world.n_neighbourhoods)]
        self.neighbourhoods = [Neighbourhood(self, k) for k in range(self.world.n_neighbourhoods)]
        self.people: Population = build_population(
            scenario, self.world.residents, self.world.disadvantage, self.streams.get("population")
        )
        k = self.world.n_neighbourhoods
        self.hood = self._neighbourhood_state()
        self.levers = Levers.neutral(k, scenario.trafficking.crossings)
        self.tally = Tally(k)
        self.incidents = Incidents()
        self.justice = JusticeState()
        self.fear_decay = half_life_factor(self.step_days, scenario.perception.memory_days)
        self.trust_decay = self.fear_decay
        self.memory_decay = {
            "homicides": time_constant_factor(self.step_days, 365.0),
            "year": time_constant_factor(self.step_days, 365.0),
            "recent": time_constant_factor(self.step_days, 90.0),
            "retaliation": half_life_factor(self.step_days, scenario.gangs.retaliation_days),
        }
        self.memory_steps = {name: 1.0 / (1.0 - f) for name, f in self.memory_decay.items()}

        self._build_police(self.streams.get("police"))
        policing.redeploy(self)
        policing.step(self, self.streams.get("policing"))
        self.police.reference_per_1000 = float(
            self.police.effective.sum() / self.world.residents.sum() * 1000.0
        ) or 1.0
        self.guard_reference = float(np.mean(
            1.0 + scenario.police.deterrence * self.police.per_1000 + self.hood.efficacy))
        self._build_gangs(self.streams.get("gangs"))
        self.traffic = self._trafficking_state()
        self.cal = Calibration(
            report_base=per_type(scenario.reporting.base),
            report_sensitivity=per_type(scenario.reporting.intimidation_sensitivity),
            clearance=per_type(scenario.police.clearance),
            sentence_years=per_type(scenario.justice.sentence_years),
        )
        self.refresh_census()
        calibrate(self, self.streams.get("calibration"))

        self.programmes: list[Intervention] = []
        seen: dict[str, int] = {}
        for spec in scenario.interventions:
            programme = spec.model_copy(deep=True)
            index = seen.get(spec.type, 0)
            seen[spec.type] = index + 1
            programme.init(self, f"programme:{spec.type}:{index}")
            self.programmes.append(programme)
        self.recorder = Recorder(self)
        if spin_up:
            self.run(spin_up)  # programmes are inactive before t = 0; the recorder ignores t < 0
            recalibrate(self)
        self.running = True

    # ------------------------------------------------------------------------------ schedule
    def step(self) -> None:
        """One day (one step) of the city, process by process."""
        self.begin_step()
        self.deliver_programmes()
        trafficking.step(self, self.streams.get("trafficking"))
        policing.step(self, self.streams.get("policing"))
        recruitment.step(self, self.streams.get("recruitment"))
        crime.step(self, self.streams.get("crime"))
        rivalry.step(self, self.streams.get("rivalry"))
        self.incidents.close()
        reporting.step(self, self.streams.get("reporting"))
        enforcement.step(self, self.streams.get("enforcement"))
        justice.step(self, self.streams.get("justice"))
        perception.step(self, self.streams.get("perception"))
        mortality.step(self, self.streams.get("mortality"))
        economy.step(self, self.streams.get("economy"))
        self.remember()
        census.step(self, self.streams.get("census"))
        self.recorder.record(self)
        self.t += 1
        if self.t >= self.scenario.steps:
            self.running = False

    def run(self, steps: int | None = None) -> SecurityModel:
        """Run ``steps`` steps (default: to the end of the scenario's horizon)."""
        if steps is None:
            steps = self.scenario.steps - self.t
        for _ in range(steps):
            self.step()
        return self

    # ------------------------------------------------------------------------------ step parts
    def begin_step(self) -> None:
        """Neutral levers, empty tallies, decayed memories."""
        self.levers.reset()
        self.tally.reset()
        self.incidents.clear()
        hood, decay = self.hood, self.memory_decay
        recent = decay["recent"]
        _decay_memories(hood.homicide_memory, hood.offence_memory, hood.conviction_memory, hood.reported_memory,
                        hood.retaliation_memory, hood.recent.block, decay["homicides"], decay["year"], recent,
                        decay["retaliation"])
        for gang in self.gang_list:
            gang.supply_memory_kg *= recent

    def deliver_programmes(self) -> None:
        """Each active programme turns its levers and enrols its people; costs are tallied.

        A programme's cost is spread over the residents where it falls (``cost * weights / total``).
        """
        costs = [programme.step(self) for programme in self.programmes]
        if any(costs):
            self.tally.hood["cost_usd"] += self._cost_spread(costs)

    def _cost_spread(self, costs: list[float]) -> np.ndarray:
        """The programmes' costs this step spread over neighbourhoods and added up in programme order.

        The shares are the rows of one block, added down axis 0 (one after another, as adding each
        programme's share in turn; a programme without cost adds an exact +0.0, as weights are finite
        and at least 0). Most steps cost what the step before did, where it did: the spread is kept
        until a cost or a programme's cost weights change. Read-only: shared.
        """
        parts = [programme.cost_weights(self) for programme in self.programmes]
        cached = self._cost_seen
        if cached is None or cached[1] != costs or len(cached[0]) != len(parts) or any(
                a is not b for a, b in zip(cached[0], parts, strict=True)):
            weights = np.array([w for w, _ in parts], dtype=float)
            totals = np.array([t for _, t in parts], dtype=float)[:, None]
            spread = np.add.reduce(np.array(costs)[:, None] * weights / totals, axis=0)
            spread.flags.writeable = False
            cached = self._cost_seen = (parts, costs, spread)
        return cached[2]

    def remember(self) -> None:
        """Fold today's events into the memories processes read tomorrow."""
        hood, tally = self.hood, self.tally
        tally.close()
        instant = self.instant_certainty()
        certainty = np.empty(instant.size)  # (a new array: the certainty views are kept by its identity)
        _fold_in(tally.block, _CRIMES_ROW, _REPORTED_ROW, _TALLIED_ROWS, hood.offence_memory, hood.reported_memory,
                 hood.recent.block, self.memory_decay["year"], hood.perceived_certainty, instant, certainty)
        hood.perceived_certainty = certainty

    def release(self) -> None:
        """Let the model be freed once nothing else holds it.

        Mesa 3.3 keeps every model it has seen as a key of the class-level ``Agent._ids`` counter
        (mesa issue #3179, fixed upstream in #3180), so a process that builds model after model (a
        pool or Dask worker in a sweep, the dashboard on every reset) would keep them all in memory.
        Call this when done with a model; its tables stay readable.
        """
        mesa.Agent._ids.pop(self, None)

    def refresh_census(self) -> None:
        census.count(self)

    # ------------------------------------------------------------------------------ views
    @property
    def day(self) -> int:
        """Whole days since the start."""
        return int(self.t * self.step_days)

    @property
    def gangs(self) -> AgentSet:
        return self.agents_by_type[Gang] if Gang in self.agents_by_type else AgentSet([], random=self.random)

    @property
    def police_units(self) -> list[PoliceUnit]:
        return self._units

    def fear(self) -> np.ndarray:
        """Mean fear per neighbourhood (0-1). Read-only: shared by every caller."""
        return self._mood_views()[1]

    def trust(self) -> np.ndarray:
        """Mean trust in police per neighbourhood (0-1). Read-only: shared by every caller."""
        return self._mood_views()[2]

    def moods(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fear, trust, economic activity) at once: one check of the moods they are made of. Read-only: shared."""
        return self._mood_views()[1:]

    def _mood_views(self) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
        """(key, fear, trust, economic activity), kept until the moods they are made of change.

        Levels and shock sums change once a step (``perception``, in place), when someone's shocks leave
        (in place) and at the census (replaced), while fear, trust and activity are asked for about seven
        times a step; the views are recomputed when the four arrays' contents differ from those they were
        computed from (a comparison of their bytes).
        """
        hood = self.hood
        key = b"".join((hood.fear_level.tobytes(), hood.fear_shock_sum.tobytes(), hood.trust_level.tobytes(),
                        hood.trust_shock_sum.tobytes()))
        cached = self._moods_seen
        if cached is None or cached[0] != key:
            moods = np.empty((3, self.residents.size))
            _moods(hood.fear_level, hood.fear_shock_sum, hood.trust_level, hood.trust_shock_sum, self.residents,
                   self.scenario.perception.activity_fear_elasticity, moods)
            moods.flags.writeable = False  # (and so the rows taken from it)
            fear, trust, activity = moods
            cached = self._moods_seen = (key, fear, trust, activity)
        return cached

    def trust_shocks(self, ids: np.ndarray) -> np.ndarray:
        """The personal trust shocks of residents ``ids`` as they stand now (decayed since they were taken)."""
        shock = self.people.trust_shock[ids]
        if np.count_nonzero(shock):  # most victims carry no shock: a zero shock decays to the same zero
            shock = self.people.decayed(self.people.trust_shock, self.people.trust_time, ids, self.t, self.trust_decay)
        return shock

    def personal_trust(self, ids: np.ndarray, hoods: np.ndarray) -> np.ndarray:
        """Trust in police of residents ``ids`` living in ``hoods``: their neighbourhood's plus their own shock."""
        return unit(self.hood.trust_level[hoods] + self.trust_shocks(ids))

    def presence(self) -> np.ndarray:
        """Total gang control per neighbourhood (0-1). Read-only: shared by every caller."""
        return self._control_views()[1]

    def control_held(self) -> np.ndarray:
        """Gang control per neighbourhood summed over gangs, unclipped. Read-only: shared by every caller."""
        return self._control_views()[0]

    def _control_views(self) -> tuple[np.ndarray, np.ndarray]:
        """(control summed over gangs, the same clipped to [0, 1]), kept until the control changes.

        Control moves once a step (in ``economy``, in place) and at calibration (replaced), while
        processes ask for presence about eight times a step; the views are recomputed when the
        control's contents differ from those they were computed from (a comparison of its bytes).
        """
        control = self.control
        key = control.tobytes()
        cached = self._control_seen
        if cached is None or cached[0] != key or cached[1] != control.shape:
            views = np.empty((2, self.world.n_neighbourhoods))
            _held_control(control, views)
            views.flags.writeable = False  # (and so the rows taken from it)
            held, presence = views
            cached = self._control_seen = (key, control.shape, held, presence)
        return cached[2], cached[3]

    def activity(self) -> np.ndarray:
        """Economic activity per neighbourhood: 1 with no fear; falls as fear rises. Read-only: shared."""
        return self._mood_views()[3]

    def gun_factor(self) -> np.ndarray:
        """Guns in gang hands here relative to the city's start (1 = as at the start). Read-only: shared."""
        return self._gun_views()[0]

    def lethality(self) -> np.ndarray:
        """Relative chance violence kills, from gun availability (figures.md s1: ~80% by firearm). Read-only: shared."""
        return self._gun_views()[1]

    def _gun_views(self) -> tuple[np.ndarray, np.ndarray]:
        """(gun factor, lethality), kept until a gang's weapons, the member counts, the control or the lethal
        share of guns change: crime and rivalry ask for them in the same step with nothing changed in between
        (weapons wear out once a step, in economy). Without gangs, new arrays on every call."""
        share = self.scenario.crime.gun_lethality
        if not self.gang_list:
            factor = np.ones(self.world.n_neighbourhoods)
            lethality = (1.0 - share) + share * factor
            factor.flags.writeable = lethality.flags.writeable = False  # (read-only, as with gangs)
            return factor, lethality
        presence = self.presence()  # brings the control views up to date
        members, control_seen, weapons = member_views(self), self._control_seen, [g.weapons for g in self.gang_list]
        cached = self._gun_seen
        if (cached is None or cached[0] is not members or cached[1] is not control_seen or cached[2] != weapons
                or cached[3] != self._gun_reference or cached[4] != share):
            # each gang's guns per free member (as Gang.weapons_per_member divides), times its control here: a
            # matrix product, numpy's, outside the kernel
            carried = (np.array(weapons) / members.counts_or_one) @ self.control
            factor, lethality = np.empty(presence.size), np.empty(presence.size)
            _guns(carried, presence, 0.3 * self.scenario.gangs.weapons_per_member, self._gun_reference, share, factor,
                  lethality)
            factor.flags.writeable = lethality.flags.writeable = False
            cached = self._gun_seen = (members, control_seen, weapons, self._gun_reference, share, factor, lethality)
        return cached[5], cached[6]

    def instant_certainty(self) -> np.ndarray:
        """Chance an offence here ends in a conviction, as the justice chain stands today.

        The product of reporting (trust, intimidation), clearance (police presence, tips,
        corruption) and prosecution and conviction (courts), averaged over crime types with
        the scenario's baseline mix. Offenders perceive it with a lag (:meth:`certainty`).
        """
        # the report probabilities of every crime type at once, as rows of a grid
        mix, clearance, report_base, intimidated = self._crime_types()
        report = reporting.report_probability_grid(self, report_base, intimidated, self.trust())
        lv, j = self.levers, self.scenario.justice
        chance = np.empty(report.shape[1])
        _conviction_chance(mix, clearance, report, enforcement.police_factor(self), enforcement.tip_factor(self),
                           self.police.corrupt_share, self.presence(), j.prosecution_probability, lv.prosecution,
                           j.conviction_probability, lv.conviction, chance)
        return chance

    def _crime_types(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Over the crime types in the calibrated mix: the mix weights, the types' clearance, their reporting base
        and intimidation x their sensitivity to it. Kept until one of these four calibrated arrays is replaced or the
        scenario's intimidation changes (the arrays are replaced, never changed in place).
        """
        cal = self.cal
        intimidation = self.scenario.gangs.intimidation
        cached = self._types_of_mix
        if (cached is None or cached[0] is not cal.crime_mix or cached[1] is not cal.clearance
                or cached[2] is not cal.report_base or cached[3] is not cal.report_sensitivity
                or cached[4] != intimidation):
            mix = np.asarray(cal.crime_mix)
            types = np.flatnonzero(mix != 0)
            intimidated = intimidation * cal.report_sensitivity[types]
            cached = self._types_of_mix = (cal.crime_mix, cal.clearance, cal.report_base, cal.report_sensitivity,
                                           intimidation, mix[types], cal.clearance[types],
                                           cal.report_base[types], intimidated)
        return cached[5:]

    def certainty(self) -> np.ndarray:
        """Perceived certainty of conviction: a one-year memory of :meth:`instant_certainty`."""
        return self.hood.perceived_certainty

    def certainty_ratio(self) -> np.ndarray:
        """Perceived certainty relative to the start (1 where there was none to start with)."""
        return self._certainty_views()[0]

    def deterrence(self) -> np.ndarray:
        """Crime multiplier from perceived certainty (1 at the start; below 1 if certainty rises)."""
        return self._certainty_views()[1]

    def _certainty_views(self) -> tuple[np.ndarray, np.ndarray]:
        """(certainty ratio, deterrence), read-only and shared by every caller.

        Both inputs are replaced, never changed in place (by :meth:`remember` and calibration), so the
        views are kept until either is replaced; processes ask for them several times a step.
        """
        held, start = self.hood.perceived_certainty, self.cal.certainty_start
        cached = self._certainty_seen
        if cached is None or cached[0] is not held or cached[1] is not start:
            ratio, bounded = views = np.empty((2, held.size))
            _certainty_ratio(held, start, views)
            deterrence = bounded ** -self.scenario.justice.deterrence  # (a power: numpy's, outside the kernel)
            ratio.flags.writeable = deterrence.flags.writeable = False
            cached = self._certainty_seen = (held, start, ratio, deterrence)
        return cached[2], cached[3]

    def gang_pull(self) -> np.ndarray:
        """Pull of gang life here: net income per member of the gangs present, relative to the start."""
        if not self.gang_list:
            return np.zeros(self.world.n_neighbourhoods)
        # a handful of gangs: Python floats make the same divisions, clip and (correctly rounded) square root
        pull = []
        for gang, members, reference in zip(self.gang_list, member_views(self).counts.tolist(),
                                            self.cal.income_reference.tolist(), strict=True):
            ratio = gang.income_memory / max(members, 1) / reference if reference > 0 else 1.0  # income per member
            pull.append(math.sqrt(min(max(ratio, 0.25), 4.0)))
        pulled = np.array(pull) @ self.control  # (a matrix product: numpy's, outside the kernel)
        out = np.empty(pulled.size)
        _per_held(pulled, self.control_held(), out)
        return out

    def mood_targets(self) -> np.ndarray:
        """Where fear (row 0) and trust in police (row 1) are heading in each neighbourhood (a new array).

        Fear follows the homicide rate of the one-year memory against the calibrated rate and the gangs' presence
        against the start; trust falls with corruption beyond the start, moves with the certainty of conviction
        relative to the start, and rises with programmes' legitimacy (see :func:`_mood_targets`).
        """
        p, sc = self.scenario.perception, self.scenario
        out = np.empty((2, self.world.n_neighbourhoods))
        _mood_targets(self.hood.homicide_memory, float(self.memory_steps["homicides"]), float(self.steps_per_year),
                      self.residents, p.initial_fear, p.homicide_fear, sc.crime.homicide_rate, p.gang_fear,
                      self.presence(), self._presence_reference, self.police.corrupt_share, sc.police.corrupt_share,
                      p.initial_trust, p.corruption_distrust, p.impunity_distrust, self.certainty_ratio(),
                      self.levers.legitimacy, out)
        return out

    def recent_by_neighbourhood(self, by: str) -> np.ndarray:
        """Recent level of an outcome per neighbourhood (for ranking top-k targets)."""
        if by == "gang_members":
            return self.gang_members.sum(axis=0).astype(float)
        if by == "fear":
            return self.fear().copy()
        return self.hood.recent[by].copy()

    # ------------------------------------------------------------------------------ flows
    def deliver_drugs(self, kg: float) -> None:
        """Drugs left in the city's market go to the gangs in proportion to their territory."""
        if not self.gang_list or kg <= 0:
            return
        share = self._territory_shares()
        recent = 1.0 - self.memory_decay["recent"]
        for gang in self.gang_list:
            gang.drug_stock_kg += kg * share[gang.gang_id]
            # a running average of daily supply (decayed in begin_step), comparable to the reference
            gang.supply_memory_kg += recent * kg * share[gang.gang_id]

    def _territory_shares(self) -> list[float]:
        """Each gang's share of the residents under gang control (Python floats), kept with the control views: it
        changes only when the control does (once a step), and the drugs are delivered most days."""
        self._control_views()  # brings the control views up to date
        kept = self._territory_seen
        if kept is None or kept[0] is not self._control_seen:
            territory = self.control @ self.residents
            kept = self._territory_seen = (self._control_seen, (territory / max(territory.sum(), 1e-12)).tolist())
        return kept[1]

    def deliver_guns(self, guns: int) -> None:
        """Smuggled guns go to the gangs in proportion to their cash (the richer outbid the poorer)."""
        if not self.gang_list or guns <= 0:
            return
        cash = np.array([g.cash for g in self.gang_list])
        share = cash / cash.sum() if cash.sum() > 0 else np.full(cash.size, 1.0 / cash.size)
        for gang in self.gang_list:
            gang.weapons += guns * share[gang.gang_id]

    def collect_extortion(self, hoods: np.ndarray, gang: np.ndarray) -> None:
        """Extortion payments go to the gang that demanded them."""
        payment = self.scenario.gangs.extortion_payment_usd
        self.tally.count("extortion_paid_usd", hoods, payment)
        paid = gang.tolist()  # (Python ints: a day's few payments counted per gang without a numpy call)
        for g, demanding in enumerate(self.gang_list):  # (a handful of gangs)
            count = paid.count(g)
            if count:
                demanding.revenue_today += payment * count

    # ------------------------------------------------------------------------------ construction
    def _neighbourhood_state(self) -> NeighbourhoodState:
        k = self.world.n_neighbourhoods
        z = np.zeros(k)
        p = self.scenario.perception
        return NeighbourhoodState(
            fear_level=np.full(k, p.initial_fear), fear_shock_sum=z.copy(),
            trust_level=np.full(k, p.initial_trust), trust_shock_sum=z.copy(),
            efficacy=self.world.collective_efficacy.copy(), retaliation_memory=z.copy(),
            homicide_memory=z.copy(), reported_memory=z.copy(), offence_memory=z.copy(),
            conviction_memory=z.copy(), perceived_certainty=z.copy(), recent=Rows(np.zeros((len(RANKED), k)), RANKED),
            youth=z.copy(), youth_offending=z.copy(), enrolled=z.copy(), enrolled_offending=z.copy(),
            unserved_rows=np.zeros(0, np.int32),
        )

    def _build_gangs(self, rng: np.random.Generator) -> None:
        """Place each gang around a home turf, recruit its members there, and set its territory."""
        sc = self.scenario
        k = self.world.n_neighbourhoods
        g_count = sc.gangs.count
        people = self.people
        self.gang_members = np.zeros((g_count, k), np.int64)
        self.control = np.zeros((g_count, k))
        self.cash_outflow_usd = np.zeros(g_count)
        self.gang_list: list[Gang] = []
        self._gun_reference = 1.0
        if g_count == 0:
            self._presence_reference = np.zeros(k)
            return
        pos = self.world.position
        dis = self.world.disadvantage
        weight = dis**2 if (dis**2).sum() > 0 else np.ones(k)  # a city with no disadvantage anywhere
        homes = [int(rng.choice(k, p=weight / weight.sum()))]
        while len(homes) < g_count:  # farthest-point: rival turfs start apart
            d = np.min([((pos - pos[h]) ** 2).sum(axis=1) for h in homes], axis=0)
            homes.append(int(np.argmax(d + 1e-9 * rng.random(k))))
        total = int(round(sc.gangs.members_per_100k * people.size / 1e5))
        affinity = np.stack([np.exp(-np.sqrt(((pos - pos[h]) ** 2).sum(axis=1)) / 0.25) * (0.2 + dis) ** 1.5
                             for h in homes])
        share = affinity / affinity.sum(axis=0, keepdims=True) * affinity.sum(axis=0) / affinity.sum()
        counts = rng.multinomial(total, share.ravel() / share.sum()).reshape(g_count, k)
        def eligible(ids: np.ndarray) -> np.ndarray:
            return people.founding_weight(ids, self.day)  # (nobody is detained yet)

        for g in range(g_count):
            hoods = np.repeat(np.arange(k), counts[g])
            ids = sample_in_blocks(rng, people.block_start, hoods, eligible)
            ids = np.unique(ids[ids >= 0])
            people.gang[ids] = g
            np.add.at(self.gang_members, (g, people.home[ids]), 1)
        wpm = sc.gangs.weapons_per_member
        cash0 = 500.0  # cash in hand per member at the start (only ratios to it matter)
        for g in range(g_count):
            members = int(self.gang_members[g].sum())
            self.gang_list.append(Gang(self, g, cash=cash0 * members, weapons=wpm * members))
        # territory at its equilibrium with the neighbourhoods' resistance, scaled so that
        # gangs hold about half of the city (resident-weighted) at the start
        self.settle_territory()
        self.set_references()

    def settle_territory(self, held: float = 0.5) -> None:
        """Set territory at its equilibrium, with resistance scaled so gangs hold ``held`` of the city.

        Called at construction and again once custody has taken its members off the street.
        """
        if not self.gang_list:
            return
        strength = economy.strength(self)
        n = self.world.residents.astype(float)
        self.hood.resistance_scale = 1.0
        unit = economy.resistance(self)  # resistance per unit of scale
        self.hood.resistance_scale = economy.resistance_scale(strength, unit, n, held, 1e-6, 1e6, 60)
        self.control = economy.territory_target(self)

    def set_references(self) -> None:
        """Starting levels that gang-related multipliers are measured against (all 1 at the start)."""
        if not self.gang_list:
            return
        self._presence_reference = self.presence().copy()
        self._gun_reference = 1.0
        n = self.world.residents.astype(float)
        self._gun_reference = float((self.gun_factor() * n).sum() / n.sum()) or 1.0

    def _build_police(self, rng: np.random.Generator) -> None:
        sc = self.scenario.police
        k = self.world.n_neighbourhoods
        officers = sc.officers_per_100k * self.people.size / 1e5
        n_units = max(1, int(np.ceil(officers / sc.unit_size)))
        each = officers / n_units
        spread = 20.0
        corrupt = rng.beta(sc.corrupt_share * spread + 1e-9, (1 - sc.corrupt_share) * spread + 1e-9, n_units) \
            if 0 < sc.corrupt_share < 1 else np.full(n_units, sc.corrupt_share)
        self.police = PoliceForce(
            unit_hood=np.full(n_units, -1, np.int64),
            unit_officers=np.full(n_units, each),
            unit_nominal=np.full(n_units, each),
            unit_corrupt=corrupt,
            effective=np.zeros(k), corrupt_share=np.zeros(k), per_1000=np.zeros(k),
        )
        self._units = [PoliceUnit(self, u) for u in range(n_units)]
        # a first posting by need (disadvantage) until reported crime accrues
        prior = self.world.residents * (0.5 + self.world.disadvantage)
        self.hood.reported_memory = prior / prior.sum()

    def _trafficking_state(self) -> TraffickingState:
        net = self.world.network
        inbound = np.zeros((len(net.crossing_names), len(net.edges)))
        for e, (_, b) in enumerate(net.edges):
            if b in net.crossing_names:
                inbound[net.crossing_names.index(b), e] = 1.0
        self.crossing_inbound = inbound
        risk = net.base_seizure.copy()
        return TraffickingState(perceived_risk=risk, route_share=np.full(net.n_paths, 1.0 / net.n_paths))


# ------------------------------------------------------------------------------ kernels
# The model's own neighbourhood arithmetic, as loops over neighbourhoods compiled by numba (model.compiled).
# ``0.0 if x <= 0.0 else 1.0 if x >= 1.0 else x`` is numpy's clip to [0, 1] (common.unit: np.maximum(x, 0.0) then
# np.minimum(.., 1.0)), bit for bit: a tie gives the bound (+0.0 for -0.0) and a NaN stays NaN (model.compiled).

@kernel
def _decay_memories(homicides, offences, convictions, reported, retaliation, recent, homicides_f, year_f, recent_f,
                    retaliation_f):
    """Each memory, in place, times its per-step decay factor: homicides (a year's), offences and convictions (a
    year), reported crimes and the ranked outcomes (rows of ``recent``: ~90 days), rivalry killings (retaliation)."""
    for h in range(homicides.size):
        homicides[h] *= homicides_f
        offences[h] *= year_f
        convictions[h] *= year_f
        reported[h] *= recent_f
        retaliation[h] *= retaliation_f
        for r in range(recent.shape[0]):
            recent[r, h] *= recent_f


@kernel
def _fold_in(today, crimes_row, reported_row, ranked_rows, offences, reported, recent, year_f, certainty, instant,
             out):
    """Today's tally (``today``: the tally's block) into the memories, in place, and tomorrow's perceived
    certainty of conviction into ``out``, per neighbourhood h:

        offences += crimes today;  reported += crimes reported today;  recent_r += today's ranked outcome r
        out = year_f * certainty + (1 - year_f) * instant     (a one-year memory of the instant certainty)
    """
    remembered = 1.0 - year_f
    for h in range(out.size):
        offences[h] += today[crimes_row, h]
        reported[h] += today[reported_row, h]
        for r in range(ranked_rows.size):
            recent[r, h] += today[ranked_rows[r], h]
        out[h] = year_f * certainty[h] + remembered * instant[h]


@kernel
def _moods(fear_level, fear_shock_sum, trust_level, trust_shock_sum, residents, activity_fear_elasticity, out):
    """Mean fear, trust in police and economic activity per neighbourhood h, as the rows of ``out``:

        fear     = unit(fear level + fear shocks / residents)
        trust    = unit(trust level + trust shocks / residents)
        activity = 1 - activity_fear_elasticity * fear
    """
    for h in range(residents.size):
        fear = fear_level[h] + fear_shock_sum[h] / residents[h]
        fear = 0.0 if fear <= 0.0 else 1.0 if fear >= 1.0 else fear
        trust = trust_level[h] + trust_shock_sum[h] / residents[h]
        out[0, h] = fear
        out[1, h] = 0.0 if trust <= 0.0 else 1.0 if trust >= 1.0 else trust
        out[2, h] = 1.0 - activity_fear_elasticity * fear


@kernel
def _held_control(control, out):
    """Gang control per neighbourhood summed over the gangs (rows of ``control``, added in order from 0, as numpy's
    reduction) and the same clipped to [0, 1] (presence), as the rows of ``out`` (0 where there are no gangs)."""
    gangs = control.shape[0]
    for h in range(out.shape[1]):
        if out.shape[1] == 1 and gangs >= 8:  # numpy adds one neighbourhood's gangs pairwise (see model.compiled)
            partial = control[:8, h].copy()
            g = 8
            while g + 8 <= gangs:
                for j in range(8):
                    partial[j] += control[g + j, h]
                g += 8
            held = ((partial[0] + partial[1]) + (partial[2] + partial[3])) \
                + ((partial[4] + partial[5]) + (partial[6] + partial[7]))
            for rest in range(g, gangs):
                held += control[rest, h]
        else:  # one gang after another
            held = 0.0
            for g in range(gangs):
                held += control[g, h]
        out[0, h] = held
        out[1, h] = 0.0 if held <= 0.0 else 1.0 if held >= 1.0 else held


@kernel
def _guns(carried, presence, street, reference, lethal_share, factor, lethality):
    """The gun factor and lethality per neighbourhood h, into ``factor`` and ``lethality``: with ``carried`` the guns
    the gangs' members carry here (each gang's guns per member x its control) and ``street`` the guns per unit of the
    city gangs do not hold,

        factor    = (carried + (1 - presence) * street) / reference
        lethality = (1 - lethal_share) + lethal_share * factor
    """
    for h in range(presence.size):
        factor[h] = (carried[h] + (1.0 - presence[h]) * street) / reference
        lethality[h] = (1.0 - lethal_share) + lethal_share * factor[h]


@kernel
def _per_held(pulled, held, out):
    """The gangs' pull per unit of control they hold per neighbourhood h, into ``out`` (1 where none is held, as
    np.divide's ``where=held > 0`` into ones):

        out = pulled / held if held > 0 else 1
    """
    for h in range(out.size):
        out[h] = pulled[h] / held[h] if held[h] > 0.0 else 1.0


@kernel
def _conviction_chance(mix, clearance, report, police, tips, corrupt_share, presence, prosecution_probability,
                       prosecution, conviction_probability, conviction, out):
    """Chance an offence ends in a conviction per neighbourhood h, into ``out``. Over the crime types c of the mix
    (``report``: their report probabilities, rows), with the police's capacity to clear crimes (``police``), the
    tips reaching them, the corrupt share of the officers and the gangs' presence:

        clear_c = unit(clearance_c * (police * tips) * (1 - corrupt_share * presence))
        courts  = unit(prosecution_probability * prosecution) * unit(conviction_probability * conviction)
        chance  = (mix_0 * report_0 * clear_0 + mix_1 * report_1 * clear_1 + ...) * courts
    """
    for h in range(out.size):
        clear_base = police[h] * tips[h]
        honest = 1.0 - corrupt_share[h] * presence[h]
        chance = 0.0
        for c in range(mix.size):
            clear = clearance[c] * clear_base * honest
            clear = 0.0 if clear <= 0.0 else 1.0 if clear >= 1.0 else clear
            term = mix[c] * report[c, h] * clear
            chance += term  # (numpy's sum down the types: from 0, one after another, as there are fewer than 8)
        prosecuted = prosecution_probability * prosecution[h]
        prosecuted = 0.0 if prosecuted <= 0.0 else 1.0 if prosecuted >= 1.0 else prosecuted
        convicted = conviction_probability * conviction[h]
        convicted = 0.0 if convicted <= 0.0 else 1.0 if convicted >= 1.0 else convicted
        out[h] = chance * (prosecuted * convicted)


@kernel
def _mood_targets(homicide_memory, memory_steps, steps_per_year, residents, initial_fear, homicide_fear, homicide_rate,
                  gang_fear, presence, presence_reference, corrupt_share, corrupt_start, initial_trust,
                  corruption_distrust, impunity_distrust, certainty_ratio, legitimacy, out):
    """Fear's and trust's targets per neighbourhood h, as the rows of ``out`` (figures in the scenario's units):

        homicide rate = homicide memory / memory steps * steps per year / residents * 100,000
        fear target   = unit(initial fear + homicide_fear * (homicide rate - calibrated rate)
                             + gang_fear * (presence - presence at the start))
        certainty     = certainty ratio - 1, within [-1, 1]
        trust target  = unit(initial trust - corruption_distrust * (corrupt share - corrupt share at the start)
                             + impunity_distrust * certainty + legitimacy)
    """
    for h in range(residents.size):
        rate = homicide_memory[h] / memory_steps * steps_per_year / residents[h] * 1e5
        fear = initial_fear + homicide_fear * (rate - homicide_rate) + gang_fear * (presence[h] - presence_reference[h])
        out[0, h] = 0.0 if fear <= 0.0 else 1.0 if fear >= 1.0 else fear  # (np.maximum, then np.minimum)
        certainty = certainty_ratio[h] - 1.0
        certainty = -1.0 if certainty <= -1.0 else 1.0 if certainty >= 1.0 else certainty
        corrupt = corrupt_share[h] - corrupt_start
        trust = initial_trust - corruption_distrust * corrupt + impunity_distrust * certainty + legitimacy[h]
        out[1, h] = 0.0 if trust <= 0.0 else 1.0 if trust >= 1.0 else trust


@kernel
def _certainty_ratio(held, start, out):
    """Perceived certainty relative to the start per neighbourhood (1 where there was none to start with), and the
    same bounded to [0.2, 5] (for deterrence), as the rows of ``out``."""
    for h in range(held.size):
        ratio = held[h] / start[h] if start[h] > 0.0 else 1.0
        out[0, h] = ratio
        out[1, h] = 0.2 if ratio <= 0.2 else 5.0 if ratio >= 5.0 else ratio  # (np.maximum, then np.minimum)
