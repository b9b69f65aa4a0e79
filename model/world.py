"""The city and the region: neighbourhood graph with attributes, and the trafficking network.

Built once per run from the scenario and the ``world`` random stream; afterwards these are
read-only facts the processes consult (adjacency, sizes, disadvantage, routes).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from model.scenario import Scenario

ONWARD_SEIZURE = 0.02  # seizure on the way from a crossing to the northern market

__all__ = ["World", "TraffickingNetwork", "build_world", "build_trafficking_network"]


@dataclass
class TraffickingNetwork:
    """Sources -> transit legs -> border crossings -> northern market (a networkx DiGraph).

    ``paths`` enumerates every source-to-market route as edge indices; ``crossing_of_path``
    says which crossing each route uses. Routes through the first ``city_crossings`` crossings
    leave part of each load in the city's market.
    """

    graph: nx.DiGraph
    edges: list[tuple[str, str]]
    base_seizure: np.ndarray  # per edge
    path_edges: list[np.ndarray]
    path_cost: np.ndarray  # logistics cost per route (relative units)
    crossing_of_path: np.ndarray
    crossing_names: list[str]
    crossing_edge: np.ndarray  # edge index of crossing -> market, per crossing
    city_crossing: np.ndarray  # bool per crossing

    @property
    def n_paths(self) -> int:
        return len(self.path_edges)


@dataclass
class World:
    """Neighbourhoods: sizes, positions, attributes and adjacency."""

    graph: nx.Graph
    residents: np.ndarray  # int64 per neighbourhood
    position: np.ndarray  # (K, 2)
    disadvantage: np.ndarray
    collective_efficacy: np.ndarray
    commerce: np.ndarray  # relative density of businesses, mean 1
    adjacency: sp.csr_matrix  # row-normalised (each row sums to 1, or 0 for isolated nodes)
    network: TraffickingNetwork
    block_start: np.ndarray = field(init=False)
    hood_ids: np.ndarray = field(init=False, repr=False)  # the neighbourhoods' numbers, 0, 1, ... (read-only)
    # the transposed adjacency as (slot, neighbourhood) tables (see __post_init__), read-only: where each
    # neighbourhood's s-th incoming link comes from (K where it has none) and its weight (0 where none)
    spread_from: np.ndarray = field(init=False, repr=False)
    spread_weight: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.block_start = np.concatenate([[0], np.cumsum(self.residents)]).astype(np.int64)
        self.hood_ids = np.arange(self.residents.size)
        self.hood_ids.flags.writeable = False
        # The transposed adjacency as (slot, neighbourhood) tables, padded with zero weights: row s holds
        # each neighbourhood's s-th incoming link in sparse-matrix order, so summing down the slots adds
        # the same products in the same order as the sparse product would. spread() reads them, and so do
        # the kernels that spread over the links (member views, police presence, displaced crime).
        m = self.adjacency.T.tocsr()
        k = m.shape[0]
        links = np.diff(m.indptr)
        to = np.repeat(np.arange(k), links)
        slot = np.arange(m.nnz) - np.repeat(m.indptr[:-1], links)
        width = int(links.max()) if k and m.nnz else 0
        self.spread_from = np.full((width, k), k, np.int64)  # padding reads an appended 0
        self.spread_weight = np.zeros((width, k))
        self.spread_from[slot, to] = m.indices
        self.spread_weight[slot, to] = m.data
        self.spread_from.flags.writeable = self.spread_weight.flags.writeable = False

    @property
    def n_neighbourhoods(self) -> int:
        return int(self.residents.size)

    def attribute(self, name: str) -> np.ndarray:
        """A neighbourhood attribute by name (used by targeting rules)."""
        return np.asarray(getattr(self, name), dtype=float)

    def spread(self, values: np.ndarray) -> np.ndarray:
        """Distribute per-neighbourhood amounts to neighbours in proportion to adjacency.

        ``values`` has one row per neighbourhood (and any number of columns). The result equals
        ``adjacency.T @ values``, bit for bit: each sum starts at 0 and adds its products in order.
        """
        values = np.asarray(values, dtype=float)
        values = np.concatenate((values, np.zeros((1,) + values.shape[1:])))
        weight = self.spread_weight if values.ndim == 1 else self.spread_weight[:, :, None]
        return np.add.reduce(weight * values[self.spread_from], axis=0, initial=0.0)


def _layout(k: int, layout: str, rng: np.random.Generator) -> tuple[np.ndarray, nx.Graph]:
    if layout == "grid":
        side = int(np.ceil(np.sqrt(k)))
        pos = np.array([(i % side, i // side) for i in range(k)], dtype=float) / max(side - 1, 1)
        graph = nx.Graph()
        graph.add_nodes_from(range(k))
        for i in range(k):
            x = i % side
            if x + 1 < side and i + 1 < k:
                graph.add_edge(i, i + 1)
            if i + side < k:
                graph.add_edge(i, i + side)
        return pos, graph
    pos = rng.random((k, 2))
    radius = float(np.sqrt(5.0 / (np.pi * max(k, 1))))
    graph = nx.random_geometric_graph(
        k, radius, pos={i: tuple(p) for i, p in enumerate(pos)}, seed=int(rng.integers(2**31))
    )
    # join components through their closest pair of nodes, so the city is one connected place
    components = sorted(nx.connected_components(graph), key=min)
    for a, b in itertools.pairwise(components):
        a_ids, b_ids = np.fromiter(a, int), np.fromiter(b, int)
        d = ((pos[a_ids, None, :] - pos[None, b_ids, :]) ** 2).sum(-1)
        i, j = np.unravel_index(np.argmin(d), d.shape)
        graph.add_edge(int(a_ids[i]), int(b_ids[j]))
    for node in graph.nodes:
        graph.nodes[node].pop("pos", None)
    return pos, graph


def _split(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Integer shares of ``total`` proportional to ``weights``, each at least ``minimum``."""
    k = weights.size
    spare = total - minimum * k
    raw = weights / weights.sum() * spare
    counts = np.floor(raw).astype(np.int64)
    remainder = spare - counts.sum()
    order = np.lexsort((np.arange(k), -(raw - counts)))
    counts[order[:remainder]] += 1
    return counts + minimum


def build_world(scenario: Scenario, rng: np.random.Generator) -> World:
    """Draw the city's neighbourhoods and the regional network for one run."""
    city = scenario.city
    k = city.neighbourhoods
    pos, graph = _layout(k, city.layout, rng)
    weights = rng.lognormal(0.0, city.size_spread, k) if city.size_spread > 0 else np.ones(k)
    residents = _split(city.residents, weights, 20)

    adjacency = nx.to_scipy_sparse_array(graph, nodelist=range(k), format="csr", dtype=float)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    inv = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    row_norm = sp.csr_matrix(sp.diags(inv) @ adjacency)

    noise = rng.normal(0.0, 1.0, k)
    smooth = 0.5 * noise + 0.5 * (row_norm @ noise)  # spatially correlated disadvantage
    smooth = (smooth - smooth.mean()) / (smooth.std() or 1.0)
    disadvantage = np.clip(city.disadvantage_mean + city.disadvantage_spread * smooth, 0.0, 1.0)
    efficacy = np.clip(
        city.collective_efficacy_mean
        - 0.5 * (disadvantage - city.disadvantage_mean)
        + 0.08 * rng.normal(0.0, 1.0, k),
        0.0,
        1.0,
    )
    commerce = rng.lognormal(0.0, 0.6, k)
    commerce /= commerce.mean()
    for i in range(k):
        graph.nodes[i].update(
            residents=int(residents[i]),
            disadvantage=float(disadvantage[i]),
            collective_efficacy=float(efficacy[i]),
            commerce=float(commerce[i]),
        )
    return World(
        graph=graph,
        residents=residents,
        position=pos,
        disadvantage=disadvantage,
        collective_efficacy=efficacy,
        commerce=commerce,
        adjacency=row_norm,
        network=build_trafficking_network(scenario, rng),
    )


def build_trafficking_network(scenario: Scenario, rng: np.random.Generator) -> TraffickingNetwork:
    """The regional network: two sources, four transit legs, the border crossings, one market."""
    tr = scenario.trafficking
    sources = ["source_pacific", "source_caribbean"]
    transit = ["pacific_sea", "caribbean_sea", "air_bridge", "land_corridor"]
    crossings = [f"crossing_{i}" for i in range(tr.crossings)]
    graph = nx.DiGraph()
    edges: list[tuple[str, str]] = []
    seizure: list[float] = []
    cost: dict[tuple[str, str], float] = {}

    def add(a: str, b: str, p: float, c: float) -> None:
        graph.add_edge(a, b, seizure=p, cost=c)
        edges.append((a, b))
        seizure.append(p)
        cost[(a, b)] = c

    reach = {"source_pacific": ["pacific_sea", "air_bridge", "land_corridor"],
             "source_caribbean": ["caribbean_sea", "air_bridge", "land_corridor"]}
    for s in sources:
        for t in reach[s]:
            add(s, t, tr.transit_seizure, float(rng.uniform(0.8, 1.2)))
    for t in transit:  # the border check happens on the legs into each crossing
        for c in crossings:
            add(t, c, tr.crossing_seizure, float(rng.uniform(0.5, 1.5)))
    for c in crossings:
        add(c, "northern_market", ONWARD_SEIZURE, float(rng.uniform(0.8, 1.2)))

    index = {e: i for i, e in enumerate(edges)}
    paths, path_cost, crossing_of = [], [], []
    for s in sources:
        for t in reach[s]:
            for ci, c in enumerate(crossings):
                route = [(s, t), (t, c), (c, "northern_market")]
                paths.append(np.array([index[e] for e in route], dtype=np.int64))
                path_cost.append(sum(cost[e] for e in route))
                crossing_of.append(ci)
    city = np.zeros(tr.crossings, dtype=bool)
    city[: tr.city_crossings] = True
    return TraffickingNetwork(
        graph=graph,
        edges=edges,
        base_seizure=np.asarray(seizure, dtype=float),
        path_edges=paths,
        path_cost=np.asarray(path_cost, dtype=float),
        crossing_of_path=np.asarray(crossing_of, dtype=np.int64),
        crossing_names=crossings,
        crossing_edge=np.array([index[(c, "northern_market")] for c in crossings], dtype=np.int64),
        city_crossing=city,
    )
