"""Regional trafficking: shipments choose routes by risk-weighted cost, are seized at legs and
crossings, and leave drugs in the city's market; guns come in and bulk cash goes out through the
city's crossings. Traffickers learn the seizure risk of the legs they use, so interdiction at some
crossings moves flows to others (the balloon effect, figures.md s5: Magliocca et al. 2019).

A day brings a handful of shipments: up to ``FEW`` loads are routed, tried at their legs and accounted for one
at a time with Python numbers (cheaper than ~25 array calls on a few values); beyond it (monthly steps, many
shipments) by arrays. Both make the same draws and give the same bits (tests/test_fast_paths.py).
"""

from __future__ import annotations

import weakref
from bisect import bisect_right
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from model.processes.common import FEW, NUMPY_SEQUENTIAL_SUM

if TYPE_CHECKING:
    from model.model import SecurityModel
    from model.world import TraffickingNetwork

ROUTE_TEMPERATURE = 0.5
LEGS = np.arange(3)  # a route's legs in order: transit leg, border crossing, onward to the market
LOAD_SIZE_LOG_MEAN, LOAD_SIZE_LOG_SD = -0.045, 0.3  # a load's size relative to the mean (lognormal, mean ~1)


class _Routes:
    """Tables derived once from a model's (fixed) trafficking network, plus today's seizure odds.

    The network never changes during a run, so its route-by-edge matrix and the city crossings'
    inbound edges are built on first use (also as Python lists, for a few loads). Seizure probabilities
    depend only on the levers (interdiction, intelligence), which are usually the same from one step to
    the next: they are recomputed only when those lever values change (the same function of the same
    inputs).
    """

    def __init__(self, model: SecurityModel) -> None:
        net = model.world.network
        self.inbound = model.crossing_inbound  # built once with the network; identity checked on use
        self.path_edges = np.stack(net.path_edges)  # (paths, 3): leg, crossing, onward
        self.path_via_city = net.city_crossing[net.crossing_of_path]
        self.legs_by_path = np.ascontiguousarray(self.path_edges.T)  # (3, paths): each leg's edges, in rows
        self.route_legs = self.path_edges.tolist()  # the same tables in Python numbers, for a few loads
        self.route_via_city = self.path_via_city.tolist()
        city = self.inbound[net.city_crossing]
        self.city_inbound = city
        self.city_inbound_count = np.maximum(city.sum(axis=1), 1)
        self.lever_key: tuple[bytes, float] | None = None
        self.p_edge = np.zeros(0)
        self.p_edge_list: list[float] = []
        self.p_city = 0.0
        self.supply_key: float | None = None
        self.supply = np.zeros(0)
        self.supply_list: list[float] = []

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
            self.p_edge_list = self.p_edge.tolist()
            self.p_city = float(np.mean(self.city_inbound @ self.p_edge / self.city_inbound_count))
            self.lever_key = key
        other_crossing_supply = model.scenario.trafficking.other_crossing_supply
        if other_crossing_supply != self.supply_key:
            self.supply = np.where(self.path_via_city, 1.0, other_crossing_supply)
            self.supply_list = self.supply.tolist()
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


def route_shares(model: SecurityModel, routes: _Routes | None = None) -> np.ndarray:
    """Traffickers' route choice: a logit over risk-weighted costs of every route.

    ``routes`` are the network's tables (:func:`_routes`) if the caller has them already.
    """
    net = model.world.network
    risk = model.traffic.perceived_risk
    legs = (routes or _routes(model)).legs_by_path
    # each route's chance to pass all three legs (leg, crossing, onward), multiplied in that order (down the
    # rows of the (leg, path) table: cheaper than along each path's short row, the same products)
    survive = np.multiply.reduce((1.0 - risk)[legs], axis=0)
    # -(x) / T is x / -T exactly (rounding is symmetric in sign); one operation fewer
    utility = (net.path_cost + model.scenario.trafficking.risk_aversion * (1.0 - survive)) / -ROUTE_TEMPERATURE
    utility -= np.maximum.reduce(utility)
    w = np.exp(utility, out=utility)  # (in place: this call's own array)
    w /= np.add.reduce(w)
    return w


def choose_routes(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """``n`` routes drawn with probabilities ``shares``.

    The same draws and arithmetic as ``rng.choice(shares.size, size=n, p=shares)`` (inverse CDF
    on one uniform each), without its input checks, which cost more than the draw itself.
    """
    return _route_cdf(shares).searchsorted(rng.random(n), side="right")


def _route_cdf(shares: np.ndarray) -> np.ndarray:
    """The routes' cumulative shares, scaled to end at exactly 1."""
    cdf = shares.cumsum()
    cdf /= cdf[-1]
    return cdf


class Shipped(NamedTuple):
    """What a day's loads did: kg seized (None if nothing was), kg left in the city's market, loads through
    the city's crossings, the edges tried (bool per edge) and the observed seizure share per edge."""

    seized_kg: float | None
    spilled: float
    via_city: int
    used: np.ndarray
    observed: np.ndarray | float


def ship_by_arrays(rng: np.random.Generator, n: int, load_kg: float, spill_share: float, shares: np.ndarray,
                   routes: _Routes) -> Shipped:
    """Move ``n`` loads (of ``load_kg`` on average; ``spill_share`` of a load that crosses into the city is left
    in its market) along routes drawn with ``shares``, each seized at a leg with the edge's probability today.

    A load stops at the first leg where it is seized (leg, border crossing, onward). It leaves nothing in the
    city if seized before the crossing; the legs after the seizure were never tried. Traffickers observe, on
    each edge tried, the share of loads seized there.
    """
    p_edge = routes.p_edge
    kg = load_kg * rng.lognormal(LOAD_SIZE_LOG_MEAN, LOAD_SIZE_LOG_SD, n)
    path = choose_routes(rng, shares, n)
    edges = routes.path_edges[path]  # (n, 3): leg, crossing, onward
    seized_at = rng.random(edges.shape) < p_edge[edges]
    # what each load leaves in the city's market if it passes the border (set to 0 below if it does not)
    spill = kg * spill_share * routes.supply[path]
    via_city = int(np.count_nonzero(routes.path_via_city[path]))
    # Whole counts, so one bincount gives the same floats as many
    attempted = np.bincount(edges.ravel(), minlength=p_edge.size)
    if not seized_at.any():  # the usual day: every leg was passed
        return Shipped(None, float(np.add.reduce(spill)), via_city, attempted > 0, 0.0)
    first = np.where(np.logical_or.reduce(seized_at, axis=1), seized_at.argmax(axis=1), 3)
    spill[first < 2] = 0.0  # seized before the crossing: nothing reached the city
    seized_kg = float(np.add.reduce(kg[first == 0]) + np.add.reduce(kg[first == 1])
                      + np.add.reduce((kg - spill)[first == 2]))
    attempted = np.bincount(edges[first[:, None] >= LEGS], minlength=p_edge.size)  # legs tried, up to the first seized
    caught = np.bincount(edges[first[:, None] == LEGS], minlength=p_edge.size)
    return Shipped(seized_kg, float(np.add.reduce(spill)), via_city, attempted > 0, caught / np.maximum(attempted, 1))


def ship_few(rng: np.random.Generator, n: int, load_kg: float, spill_share: float, shares: np.ndarray,
             routes: _Routes) -> Shipped:
    """:func:`ship_by_arrays` for up to ``FEW`` loads, one at a time with Python numbers (the loop over loads is
    bounded by ``FEW``, over legs by 3): the same draws in the same order (lognormal sizes, one uniform per load
    for its route, three per load for its legs) and the same floating-point operations, so the same bits.

    Routes: the first index whose cumulative share exceeds the uniform (``bisect_right`` on the same
    cumulative shares is ``searchsorted(side="right")``). Sums over loads add in load order, as numpy's
    reduction does below ``NUMPY_SEQUENTIAL_SUM`` terms (numpy's own from there).
    """
    sizes = rng.lognormal(LOAD_SIZE_LOG_MEAN, LOAD_SIZE_LOG_SD, n).tolist()
    bounds = _route_cdf(shares).tolist()
    paths = [bisect_right(bounds, u) for u in rng.random(n).tolist()]
    tries = rng.random(3 * n).tolist()  # the (n, 3) uniforms of the array path, row after row
    p_edge, route_legs, supply, via = routes.p_edge_list, routes.route_legs, routes.supply_list, routes.route_via_city
    tried: list[int] = []  # the edges tried, load after load, up to each load's first seizure
    caught: dict[int, int] = {}  # edge -> loads seized there
    lost: tuple[list[float], ...] = ([], [], [])  # kg seized at each leg, in load order
    spill = []
    for path, size, first_try in zip(paths, sizes, range(0, 3 * n, 3), strict=True):
        kg = load_kg * size
        left = kg * spill_share * supply[path]
        for leg, edge in enumerate(route_legs[path]):
            tried.append(edge)
            if tries[first_try + leg] < p_edge[edge]:
                caught[edge] = caught.get(edge, 0) + 1
                if leg < 2:  # seized before the crossing: nothing reached the city
                    lost[leg].append(kg)
                    left = 0.0
                else:  # seized after the crossing: what spilled in the city stays there
                    lost[2].append(kg - left)
                break
        spill.append(left)
    used = np.zeros(len(p_edge), bool)
    used[tried] = True
    via_city = sum(via[path] for path in paths)
    if not caught:
        return Shipped(None, _sum(spill), via_city, used, 0.0)
    # caught / tried, 0 on edges where nothing was caught; whole counts, so Python's division of the two
    # ints is numpy's of the two doubles (both correctly rounded)
    observed = np.zeros(len(p_edge))
    for edge, count in caught.items():
        observed[edge] = count / tried.count(edge)
    seized_kg = _sum(lost[0]) + _sum(lost[1]) + _sum(lost[2])
    return Shipped(seized_kg, _sum(spill), via_city, used, observed)


def _sum(values: list[float]) -> float:
    """``float(np.add.reduce(np.array(values)))``: one after another below NUMPY_SEQUENTIAL_SUM terms."""
    if len(values) >= NUMPY_SEQUENTIAL_SUM:
        return float(np.add.reduce(np.array(values)))
    total = 0.0  # (numpy's sum starts from +0.0 too: a sum of -0.0s is +0.0)
    for value in values:
        total += value
    return total


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
        ship = ship_few if n <= FEW else ship_by_arrays  # a handful (the usual day) in Python numbers: the same bits
        shipped = ship(rng, n, tr.transit_tonnes_per_year * 1000.0 / tr.shipments_per_year, state.spill_fraction,
                       shares, routes)
        if shipped.seized_kg is not None:
            tally["seizures_kg"] += shipped.seized_kg
        tally["contraband_inflow_kg"] += shipped.spilled
        tally["shipments"] += n
        tally["shipments_via_city"] += float(shipped.via_city)
        rate = tr.learning_rate
        # Learning: edges used today move towards the observed seizure share, unused ones drift slowly back to
        # the baseline: risk += speed x (target - risk), in place on the fresh target
        step_to = np.where(shipped.used, shipped.observed, net.base_seizure)
        step_to -= state.perceived_risk
        step_to *= np.where(shipped.used, rate, 0.2 * rate)
        state.perceived_risk += step_to
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
