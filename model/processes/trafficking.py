"""Regional trafficking: shipments choose routes by risk-weighted cost, are seized at legs and
crossings, and leave drugs in the city's market; guns come in and bulk cash goes out through the
city's crossings. Traffickers learn the seizure risk of the legs they use, so interdiction at some
crossings moves flows to others (the balloon effect, figures.md s5: Magliocca et al. 2019).

A day's loads are routed, tried at their legs and accounted for one at a time in a compiled loop
(:func:`_carry_loads`); tests/test_fast_paths.py checks it against the same shipment worked out by arrays.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from model.compiled import kernel
from model.processes.common import NUMPY_SEQUENTIAL_SUM

if TYPE_CHECKING:
    from model.model import SecurityModel
    from model.world import TraffickingNetwork

ROUTE_TEMPERATURE = 0.5
LOAD_SIZE_LOG_MEAN, LOAD_SIZE_LOG_SD = -0.045, 0.3  # a load's size relative to the mean (lognormal, mean ~1)


class _Routes:
    """Tables derived once from a model's (fixed) trafficking network, plus today's seizure odds.

    The network never changes during a run, so its route-by-edge table and the city crossings' inbound
    edges are built on first use. Seizure probabilities depend only on the levers (interdiction,
    intelligence), which are usually the same from one step to the next: they are recomputed only when
    those lever values change (the same function of the same inputs).
    """

    def __init__(self, model: SecurityModel) -> None:
        net = model.world.network
        self.inbound = model.crossing_inbound  # built once with the network; identity checked on use
        self.path_edges = np.stack(net.path_edges)  # (paths, 3): leg, crossing, onward
        self.path_via_city = net.city_crossing[net.crossing_of_path]
        city = self.inbound[net.city_crossing]
        self.city_inbound = city
        self.city_inbound_count = np.maximum(city.sum(axis=1), 1)
        self.lever_key: tuple[bytes, float] | None = None
        self.p_edge = np.zeros(0)
        self.p_city = 0.0
        self.supply_key: float | None = None
        self.supply = np.zeros(0)

    def today(self, model: SecurityModel) -> float:
        """Bring today's terms up to date and return the mean seizure probability at the city's crossings.

        Per edge, the seizure probabilities (:attr:`p_edge`, kept while the levers stay); per path, the
        share of a load's spill that reaches the city's market (:attr:`supply`): all of it via the city's
        crossings, ``other_crossing_supply`` via the others (a scenario setting, kept while it stays).
        """
        levers = model.levers
        key = (levers.crossing_seizure.tobytes(), levers.intelligence)
        if key != self.lever_key:
            self.p_edge = seizure_probabilities(model)
            self.p_city = float(np.mean(self.city_inbound @ self.p_edge / self.city_inbound_count))
            self.lever_key = key
        other_crossing_supply = model.scenario.trafficking.other_crossing_supply
        if other_crossing_supply != self.supply_key:
            self.supply = np.where(self.path_via_city, 1.0, other_crossing_supply)
            self.supply_key = other_crossing_supply
        return self.p_city


_ROUTES: dict[int, _Routes] = {}  # by id of the network; an entry is dropped when its network is freed


def _routes(model: SecurityModel) -> _Routes:
    """The derived tables of this model's network (built on first use)."""
    net: TraffickingNetwork = model.world.network
    routes = _ROUTES.get(id(net))
    if routes is None or routes.inbound is not model.crossing_inbound:
        routes = _Routes(model)
        _ROUTES[id(net)] = routes
        weakref.finalize(net, _ROUTES.pop, id(net), None)
    return routes


def seizure_probabilities(model: SecurityModel) -> np.ndarray:
    """Per-edge seizure probability today: baseline, plus interdiction at crossings, times intelligence."""
    net = model.world.network
    p = net.base_seizure.copy()
    extra = model.levers.crossing_seizure
    into = model.crossing_inbound  # (crossings, edges) incidence of edges entering each crossing
    edge_extra = extra @ into
    p = 1.0 - (1.0 - p) * (1.0 - np.clip(edge_extra, 0.0, 0.95))
    return np.clip(p * model.levers.intelligence, 0.0, 0.95)


@kernel
def _route_utility(risk, path_edges, path_cost, risk_aversion, out):
    """Each route's logit utility, less the largest, into ``out``: with the perceived ``risk`` of its three edges
    (transit leg, border crossing, onward to the market),

        survive_r = (1 - risk_leg) * (1 - risk_crossing) * (1 - risk_onward)
        utility_r = (path_cost_r + risk_aversion * (1 - survive_r)) / -ROUTE_TEMPERATURE
    """
    best = -np.inf
    for r in range(out.size):
        survive = (1.0 - risk[path_edges[r, 0]]) * (1.0 - risk[path_edges[r, 1]]) * (1.0 - risk[path_edges[r, 2]])
        # -(x) / T is x / -T exactly (rounding is symmetric in sign)
        out[r] = (path_cost[r] + risk_aversion * (1.0 - survive)) / -ROUTE_TEMPERATURE
        best = best if best > out[r] or best != best else out[r]  # (np.maximum.reduce's order: see model.compiled)
    for r in range(out.size):
        out[r] -= best


def route_shares(model: SecurityModel, routes: _Routes | None = None) -> np.ndarray:
    """Traffickers' route choice: a logit over risk-weighted costs of every route (:func:`_route_utility`).

    ``routes`` are the network's tables (:func:`_routes`) if the caller has them already.
    """
    net = model.world.network
    path_edges = (routes or _routes(model)).path_edges
    utility = np.empty(path_edges.shape[0])
    _route_utility(model.traffic.perceived_risk, path_edges, net.path_cost, model.scenario.trafficking.risk_aversion,
                   utility)
    w = np.exp(utility, out=utility)  # (numpy's exp and pairwise sum: not in the kernel)
    w /= np.add.reduce(w)
    return w


class Shipped(NamedTuple):
    """What a day's loads did: kg seized, kg left in the city's market, loads through the city's crossings, and per
    edge the loads that tried it and the loads seized there (whole counts)."""

    seized_kg: float
    spilled: float
    via_city: int
    tried: np.ndarray
    caught: np.ndarray


def _seized_kg(kg: np.ndarray, spill: np.ndarray, first: np.ndarray) -> float:
    """kg seized, from each load's kg, what it left in the city and the leg it was seized at (3: none): all of a
    load seized before the crossing, the rest of it after (numpy's sums, leg by leg)."""
    onward = (kg - spill)[first == 2]
    return float(np.add.reduce(kg[first == 0]) + np.add.reduce(kg[first == 1]) + np.add.reduce(onward))


@kernel
def _carry_loads(sizes, u_route, u_legs, load_kg, spill_share, shares, path_edges, supply, via_city, p_edge,
                 cdf, kg, spill, first, tried, caught):
    """Each load i along its route, seized or not at each leg: per load ``kg``, ``spill`` and ``first``, per edge
    ``tried`` and ``caught`` (counted from 0 by the caller). Returns the loads through the city's crossings, the
    loads seized, the kg seized at each leg (transit, crossing, onward) and the kg left in the city.

        cdf_r    = (shares_0 + ... + shares_r) / cdf's last sum   (numpy's cumsum: one after another)
        route_i  = the first route r with cdf_r > u_route_i   (the inverse CDF of the shares)
        kg_i     = load_kg * size_i;   spill_i = kg_i * spill_share * supply_route
        at each leg in turn: tried_edge += 1; seized where u_leg < p_edge, which stops the load (caught_edge += 1,
        first_i = the leg): before the crossing, all of kg_i is seized and spill_i = 0; after it, kg_i - spill_i

    The sums add load after load from 0: numpy's own order below NUMPY_SEQUENTIAL_SUM loads.
    """
    cdf[0] = shares[0]
    for r in range(1, cdf.size):
        cdf[r] = cdf[r - 1] + shares[r]
    total = cdf[cdf.size - 1]
    for r in range(cdf.size):
        cdf[r] /= total
    via, seizures = 0, 0
    lost_leg, lost_crossing, lost_onward, spilled = 0.0, 0.0, 0.0, 0.0
    for i in range(sizes.size):
        route = 0
        while route < cdf.size - 1 and cdf[route] <= u_route[i]:  # (cdf ends at exactly 1, above any uniform)
            route += 1
        if via_city[route]:
            via += 1
        kg[i] = load_kg * sizes[i]
        spill[i] = kg[i] * spill_share * supply[route]
        first[i] = 3
        for leg in range(3):
            edge = path_edges[route, leg]
            tried[edge] += 1
            if u_legs[i, leg] < p_edge[edge]:
                caught[edge] += 1
                first[i] = leg
                seizures += 1
                if leg == 0:
                    lost_leg += kg[i]
                elif leg == 1:
                    lost_crossing += kg[i]
                else:
                    lost_onward += kg[i] - spill[i]
                if leg < 2:  # seized before the crossing: nothing reached the city
                    spill[i] = 0.0
                break
        spilled += spill[i]
    return via, seizures, lost_leg, lost_crossing, lost_onward, spilled


def ship(rng: np.random.Generator, n: int, load_kg: float, spill_share: float, shares: np.ndarray,
         routes: _Routes) -> Shipped:
    """Move ``n`` loads (of ``load_kg`` on average; ``spill_share`` of a load that crosses into the city is left in
    its market) along routes drawn with ``shares``, each seized at a leg with the edge's probability today.

    A load stops at the first leg where it is seized (leg, border crossing, onward). It leaves nothing in the city
    if seized before the crossing; the legs after the seizure were never tried. Draws: the loads' lognormal sizes,
    one uniform per load for its route, three per load for its legs; the loads one at a time in
    :func:`_carry_loads`, the sums over many loads as numpy's.
    """
    sizes = rng.lognormal(LOAD_SIZE_LOG_MEAN, LOAD_SIZE_LOG_SD, n)
    u_route = rng.random(n)
    u_legs = rng.random((n, 3))
    (kg, spill), first = np.empty((2, n)), np.empty(n, np.int64)
    tried, caught = np.zeros((2, routes.p_edge.size), np.int64)
    via, seizures, lost_leg, lost_crossing, lost_onward, spilled = _carry_loads(
        sizes, u_route, u_legs, load_kg, spill_share, shares, routes.path_edges, routes.supply, routes.path_via_city,
        routes.p_edge, np.empty(shares.size), kg, spill, first, tried, caught)
    # numpy adds NUMPY_SEQUENTIAL_SUM terms or more in another order: from there, its own sums
    if n >= NUMPY_SEQUENTIAL_SUM:
        spilled = np.add.reduce(spill)
    if seizures >= NUMPY_SEQUENTIAL_SUM:
        seized = _seized_kg(kg, spill, first)
    else:  # (0.0 without seizures)
        seized = lost_leg + lost_crossing + lost_onward
    return Shipped(float(seized), float(spilled), via, tried, caught)


@kernel
def _learn(tried, caught, base_seizure, rate, risk):
    """Traffickers' perceived seizure risk per edge, moved in place: ``risk += speed * (target - risk)``, towards
    the share of loads seized there (caught / tried) at ``rate`` on the edges tried today, back towards the
    baseline at ``0.2 * rate`` on the others."""
    for e in range(risk.size):
        if tried[e] > 0:
            risk[e] += (caught[e] / tried[e] - risk[e]) * rate
        else:
            risk[e] += (base_seizure[e] - risk[e]) * (0.2 * rate)


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Move today's shipments, guns and cash; record seizures; update traffickers' beliefs."""
    net = model.world.network
    tr = model.scenario.trafficking
    state = model.traffic
    tally = model.tally.city
    routes = _routes(model)
    p_city = routes.today(model)
    shares = route_shares(model, routes)
    state.route_share = shares

    n = int(rng.poisson(tr.shipments_per_year * model.dt_years))
    if n:
        shipped = ship(rng, n, tr.transit_tonnes_per_year * 1000.0 / tr.shipments_per_year, state.spill_fraction,
                       shares, routes)
        tally["seizures_kg"] += shipped.seized_kg  # (+0.0 on a day without seizures: no change)
        tally["contraband_inflow_kg"] += shipped.spilled
        tally["shipments"] += n
        tally["shipments_via_city"] += float(shipped.via_city)
        _learn(shipped.tried, shipped.caught, net.base_seizure, tr.learning_rate, state.perceived_risk)
        model.deliver_drugs(shipped.spilled)

    # guns come in and cash goes out through the city's crossings
    guns = int(rng.poisson(tr.guns_per_100k_year * model.people.size / 1e5 * model.dt_years))
    if guns:  # (most days none: adding 0 to the tallies and delivering none would change nothing)
        guns_seized = int(rng.binomial(guns, p_city))
        tally["guns_inflow"] += guns - guns_seized
        tally["guns_seized"] += guns_seized
        model.deliver_guns(guns - guns_seized)
    outflow = model.cash_outflow_usd
    outflow_usd = outflow.tolist()  # Python floats: the same arithmetic as on numpy's scalars
    for gang in model.gang_list:
        out = outflow_usd[gang.gang_id]
        if out > 0:
            seized = out * float(rng.binomial(20, p_city)) / 20.0  # cash moves in ~20 loads a day
            gang.seized_today += seized  # suppliers must be paid again
            tally["cash_seized_usd"] += seized
            outflow[gang.gang_id] = 0.0
