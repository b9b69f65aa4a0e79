"""Regional trafficking: shipments choose routes by risk-weighted cost, are seized at legs and
crossings, and leave drugs in the city's market; guns come in and bulk cash goes out through the
city's crossings. Traffickers learn the seizure risk of the legs they use, so interdiction at some
crossings moves flows to others (the balloon effect, figures.md s5: Magliocca et al. 2019).

Most days nothing is seized, or a handful of legs: up to ``FEW`` seized legs are accounted for one load at
a time with Python numbers (cheaper than ~25 array calls); beyond it (monthly steps, many shipments) by
arrays. Both give the same bits (tests/test_fast_paths.py).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from model.processes.common import FEW

if TYPE_CHECKING:
    from model.model import SecurityModel
    from model.world import TraffickingNetwork

ROUTE_TEMPERATURE = 0.5
LEGS = np.arange(3)  # a route's legs in order: transit leg, border crossing, onward to the market


class _Routes:
    """Tables derived once from a model's (fixed) trafficking network, plus today's seizure odds.

    The network never changes during a run, so its route-by-edge matrix and the city crossings'
    inbound edges are built on first use. Seizure probabilities depend only on the levers
    (interdiction, intelligence), which are usually the same from one step to the next: they
    are recomputed only when those lever values change (the same function of the same inputs).
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

    def market_supply(self, other_crossing_supply: float) -> np.ndarray:
        """Per path, the share of a load's spill that reaches the city's market: all of it via the city's
        crossings, ``other_crossing_supply`` via the others (a scenario setting: kept while it stays)."""
        if other_crossing_supply != self.supply_key:
            self.supply = np.where(self.path_via_city, 1.0, other_crossing_supply)
            self.supply_key = other_crossing_supply
        return self.supply

    def seizure_today(self, model: SecurityModel) -> tuple[np.ndarray, float]:
        """Per-edge seizure probabilities and the mean at the city's crossings, for today's levers."""
        levers = model.levers
        key = (levers.crossing_seizure.tobytes(), levers.intelligence)
        if key != self.lever_key:
            self.p_edge = seizure_probabilities(model)
            self.p_city = float(np.mean(self.city_inbound @ self.p_edge / self.city_inbound_count))
            self.lever_key = key
        return self.p_edge, self.p_city


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


def route_shares(model: SecurityModel, routes: _Routes | None = None) -> np.ndarray:
    """Traffickers' route choice: a logit over risk-weighted costs of every route.

    ``routes`` are the network's tables (:func:`_routes`) if the caller has them already.
    """
    net = model.world.network
    risk = model.traffic.perceived_risk
    path_edges = (routes or _routes(model)).path_edges
    # each route's chance to pass all three legs (leg, crossing, onward), multiplied in that order
    survive = np.multiply.reduce((1.0 - risk)[path_edges], axis=1)
    # -(x) / T is x / -T exactly (rounding is symmetric in sign); one operation fewer
    utility = (net.path_cost + model.scenario.trafficking.risk_aversion * (1.0 - survive)) / -ROUTE_TEMPERATURE
    utility -= np.maximum.reduce(utility)
    w = np.exp(utility)
    return w / np.add.reduce(w)


def choose_routes(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """``n`` routes drawn with probabilities ``shares``.

    The same draws and arithmetic as ``rng.choice(shares.size, size=n, p=shares)`` (inverse CDF
    on one uniform each), without its input checks, which cost more than the draw itself.
    """
    cdf = shares.cumsum()
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(n), side="right")


def _seizures(seized_at: np.ndarray, edges: np.ndarray, kg: np.ndarray, spill: np.ndarray,
              attempted: np.ndarray) -> tuple[float, np.ndarray]:
    """Account for the loads seized today, one by one: kg seized, and what traffickers saw.

    Called with up to ``FEW`` seized legs (the loops run over those, so they are bounded by ``FEW``);
    :func:`_seizures_by_arrays` does the same accounting for more, with the same bits.

    A load stops at the first leg where it is seized (leg, border crossing, onward). It leaves nothing
    in the city if seized before the crossing (``spill`` set to 0 in place), and the legs after the
    seizure were never tried (taken off ``attempted``, which counted every leg of every load).
    Returns the kg seized and the observed seizure share of each edge.

    The kg are summed as ``np.add.reduce`` over the loads seized at each leg, in load order, and the
    three legs' sums added in order (a sum of one load is that load; of several, numpy's own reduction).
    """
    first: dict[int, int] = {}  # load -> first leg seized at (nonzero lists loads in order, legs ascending)
    loads, legs = seized_at.nonzero()
    for load, leg in zip(loads.tolist(), legs.tolist(), strict=True):
        if load not in first:
            first[load] = leg
    caught: dict[int, int] = {}  # edge -> loads seized there
    lost: tuple[list[float], ...] = ([], [], [])
    for load, leg in first.items():
        route = edges[load].tolist()
        caught[route[leg]] = caught.get(route[leg], 0) + 1
        for edge in route[leg + 1:]:
            attempted[edge] -= 1
        if leg < 2:
            lost[leg].append(float(kg[load]))
            spill[load] = 0.0
        else:  # seized after the crossing: what spilled in the city stays there
            lost[leg].append(float(kg[load]) - float(spill[load]))
    # caught / attempted, 0 on edges where nothing was caught; whole counts, so Python's division of
    # the two ints is numpy's of the two doubles (both correctly rounded)
    observed = np.zeros(attempted.size)
    for edge, count in caught.items():
        observed[edge] = count / max(int(attempted[edge]), 1)
    by_leg = [(values[0] if len(values) == 1 else float(np.add.reduce(np.array(values)))) if values else 0.0
              for values in lost]
    return by_leg[0] + by_leg[1] + by_leg[2], observed


def _seizures_by_arrays(seized_at: np.ndarray, edges: np.ndarray, kg: np.ndarray, spill: np.ndarray,
                        attempted: np.ndarray) -> tuple[float, np.ndarray]:
    """:func:`_seizures` by arrays, for days with more than ``FEW`` seized legs (the same outputs and bits).

    ``first`` is each load's first seized leg (3 if none); ``spill`` is set to 0 in place for loads seized
    before the crossing, and ``attempted`` is overwritten with the legs tried (up to the first seized).
    """
    first = np.where(np.logical_or.reduce(seized_at, axis=1), seized_at.argmax(axis=1), 3)
    spill[first < 2] = 0.0  # seized before the crossing: nothing reached the city
    seized_kg = float(np.add.reduce(kg[first == 0]) + np.add.reduce(kg[first == 1])
                      + np.add.reduce((kg - spill)[first == 2]))
    # whole counts, so one bincount gives the same floats as many
    attempted[:] = np.bincount(edges[first[:, None] >= LEGS], minlength=attempted.size)
    caught = np.bincount(edges[first[:, None] == LEGS], minlength=attempted.size)
    return seized_kg, caught / np.maximum(attempted, 1)


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Move today's shipments, guns and cash; record seizures; update traffickers' beliefs."""
    net = model.world.network
    tr = model.scenario.trafficking
    state = model.traffic
    tally = model.tally.city
    routes = _routes(model)
    p_edge, p_city = routes.seizure_today(model)
    shares = route_shares(model, routes)
    state.route_share = shares

    n = int(rng.poisson(tr.shipments_per_year * model.dt_years))
    if n:
        kg = tr.transit_tonnes_per_year * 1000.0 / tr.shipments_per_year * rng.lognormal(-0.045, 0.3, n)
        path = choose_routes(rng, shares, n)
        edges = routes.path_edges[path]  # (n, 3): leg, crossing, onward
        seized_at = rng.random(edges.shape) < p_edge[edges]
        # what each load leaves in the city's market if it passes the border (set to 0 below if it does not)
        spill = kg * state.spill_fraction * routes.market_supply(tr.other_crossing_supply)[path]
        # Learning: the observed seizure share on each edge used today. Whole counts, so one bincount
        # gives the same floats as many. On the usual day nothing is seized: every leg was passed.
        attempted = np.bincount(edges.ravel(), minlength=p_edge.size)
        observed = 0.0
        seized = np.count_nonzero(seized_at)
        if seized:  # a few seized legs one load at a time (Python numbers), more by arrays: the same bits
            account = _seizures if seized <= FEW else _seizures_by_arrays
            seized_kg, observed = account(seized_at, edges, kg, spill, attempted)
            tally["seizures_kg"] += seized_kg
        spilled = float(np.add.reduce(spill))
        tally["contraband_inflow_kg"] += spilled
        tally["shipments"] += n
        tally["shipments_via_city"] += float(np.count_nonzero(routes.path_via_city[path]))
        used = attempted > 0
        rate = tr.learning_rate
        # used edges move towards the observed rate, unused ones drift slowly back to the baseline
        target = np.where(used, observed, net.base_seizure)
        speed = np.where(used, rate, 0.2 * rate)
        state.perceived_risk += speed * (target - state.perceived_risk)
        model.deliver_drugs(spilled)

    # guns come in and cash goes out through the city's crossings
    guns = int(rng.poisson(tr.guns_per_100k_year * model.people.size / 1e5 * model.dt_years))
    guns_seized = int(rng.binomial(guns, p_city)) if guns else 0
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
