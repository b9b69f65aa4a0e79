"""Regional trafficking: shipments choose routes by risk-weighted cost, are seized at legs and
crossings, and leave drugs in the city's market; guns come in and bulk cash goes out through the
city's crossings. Traffickers learn the seizure risk of the legs they use, so interdiction at some
crossings moves flows to others (the balloon effect, figures.md s5: Magliocca et al. 2019).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.model import SecurityModel

ROUTE_TEMPERATURE = 0.5


def seizure_probabilities(model: SecurityModel) -> np.ndarray:
    """Per-edge seizure probability today: baseline, plus interdiction at crossings, times intelligence."""
    net = model.world.network
    p = net.base_seizure.copy()
    extra = model.levers.crossing_seizure
    into = model.crossing_inbound  # (crossings, edges) incidence of edges entering each crossing
    edge_extra = extra @ into
    p = 1.0 - (1.0 - p) * (1.0 - np.clip(edge_extra, 0.0, 0.95))
    return np.clip(p * model.levers.intelligence, 0.0, 0.95)


def route_shares(model: SecurityModel) -> np.ndarray:
    """Traffickers' route choice: a logit over risk-weighted costs of every route."""
    net = model.world.network
    tr = model.scenario.trafficking
    risk = model.traffic.perceived_risk
    survive = np.prod(1.0 - risk[np.stack(net.path_edges)], axis=1)  # each route's (leg, crossing, onward)
    utility = -(net.path_cost + tr.risk_aversion * (1.0 - survive)) / ROUTE_TEMPERATURE
    utility -= utility.max()
    w = np.exp(utility)
    return w / w.sum()


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Move today's shipments, guns and cash; record seizures; update traffickers' beliefs."""
    net = model.world.network
    tr = model.scenario.trafficking
    state = model.traffic
    tally = model.tally.city
    p_edge = seizure_probabilities(model)
    shares = route_shares(model)
    state.route_share = shares

    n = int(rng.poisson(tr.shipments_per_year * model.dt_years))
    if n:
        kg = tr.transit_tonnes_per_year * 1000.0 / tr.shipments_per_year * rng.lognormal(-0.045, 0.3, n)
        path = rng.choice(net.n_paths, size=n, p=shares)
        edges = np.stack(net.path_edges)[path]  # (n, 3): leg, crossing, onward
        seized_at = rng.random(edges.shape) < p_edge[edges]
        first = np.where(seized_at.any(axis=1), seized_at.argmax(axis=1), 3)
        via_city = net.city_crossing[net.crossing_of_path[path]]
        reached_crossing = first >= 2  # passed the leg and the border check
        weight = np.where(via_city, 1.0, tr.other_crossing_supply)
        spill = np.where(reached_crossing, kg * state.spill_fraction * weight, 0.0)
        tally["seizures_kg"] += float(kg[first == 0].sum() + kg[first == 1].sum()
                                      + (kg - spill)[first == 2].sum())
        tally["contraband_inflow_kg"] += float(spill.sum())
        tally["shipments"] += n
        tally["shipments_via_city"] += float(via_city.sum())
        # learning: observed seizure share on each edge used today
        attempted = np.zeros(p_edge.size)
        caught = np.zeros(p_edge.size)
        for j in range(3):  # whole counts: the same floats as adding ones one by one
            attempted += np.bincount(edges[first >= j, j], minlength=p_edge.size)
            caught += np.bincount(edges[first == j, j], minlength=p_edge.size)
        used = attempted > 0
        rate = tr.learning_rate
        state.perceived_risk[used] += rate * (caught[used] / attempted[used] - state.perceived_risk[used])
        state.perceived_risk[~used] += 0.2 * rate * (net.base_seizure[~used] - state.perceived_risk[~used])
        model.deliver_drugs(float(spill.sum()))

    # guns come in and cash goes out through the city's crossings
    inbound = model.crossing_inbound[net.city_crossing]
    p_city = float(np.mean(inbound @ p_edge / np.maximum(inbound.sum(axis=1), 1)))
    guns = int(rng.poisson(tr.guns_per_100k_year * model.people.size / 1e5 * model.dt_years))
    guns_seized = int(rng.binomial(guns, p_city)) if guns else 0
    tally["guns_inflow"] += guns - guns_seized
    tally["guns_seized"] += guns_seized
    model.deliver_guns(guns - guns_seized)
    for gang in model.gang_list:
        out = model.cash_outflow_usd[gang.gang_id]
        if out > 0:
            seized = out * float(rng.binomial(20, p_city)) / 20.0  # cash moves in ~20 loads a day
            gang.seized_today += seized  # suppliers must be paid again
            tally["cash_seized_usd"] += seized
            model.cash_outflow_usd[gang.gang_id] = 0.0
