"""Police deployment, corruption and vetting, and the guardianship police presence provides.

Units are reassigned every ``reallocate_days`` by the force's strategy; each step the honest
officer-equivalents per neighbourhood are summed from the units posted there, plus any extra
patrol officers programmes add (hot-spot patrol). Vetting removes corrupt officers (capacity
returns as replacements are hired); without vetting, corruption drifts back to its baseline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.compiled import kernel

if TYPE_CHECKING:
    from model.model import SecurityModel

REHIRE_PER_YEAR = 1.0  # vetted-out officers are replaced within about a year
RECORRUPTION_PER_YEAR = 0.05  # pull of corruption back towards its baseline share
BEAT_SPILL = 0.4  # share of a unit's time on the beats of adjacent neighbourhoods


def strategy_weights(model: SecurityModel) -> np.ndarray:
    """Relative claim of each neighbourhood on police units under the force's strategy."""
    n = model.residents  # as floats (fixed: read, never changed)
    reported = model.hood.reported_memory
    total = reported.sum()
    share_reported = reported / total if total > 0 else n / n.sum()
    strategy = model.scenario.police.strategy
    if strategy == "uniform":
        return n / n.sum()
    if strategy == "reported_crime":
        return 0.4 * n / n.sum() + 0.6 * share_reported
    if strategy == "hotspot":
        k = n.size
        top = np.argsort(-share_reported, kind="stable")[: max(1, k // 10)]  # ties by neighbourhood
        hot = np.zeros(k)
        hot[top] = share_reported[top] / share_reported[top].sum() if share_reported[top].sum() else 1 / top.size
        return 0.5 * n / n.sum() + 0.5 * hot
    weights = n * (1.0 + model.world.disadvantage)  # community: presence where need is greatest
    return weights / weights.sum()


def allocate_units(weights: np.ndarray, n_units: int) -> np.ndarray:
    """Largest-remainder allocation of units to neighbourhoods; returns each unit's post."""
    raw = weights / np.add.reduce(weights) * n_units  # (add.reduce: the reduction of .sum(), with less overhead)
    counts = np.floor(raw).astype(np.int64)
    # largest remainder first, ties by neighbourhood (a stable sort of counts - raw, which is -(raw - counts));
    # array methods, not np.argsort / np.repeat, whose Python-level wrappers cost more than the work here
    order = (counts - raw).argsort(kind="stable")
    counts[order[: n_units - int(np.add.reduce(counts))]] += 1
    return np.arange(weights.size).repeat(counts)


def redeploy(model: SecurityModel) -> None:
    """Post every unit by the strategy; only units whose post changes move."""
    force = model.police
    posts = allocate_units(strategy_weights(model), force.unit_hood.size)
    moved = (posts != force.unit_hood).nonzero()[0]
    for unit_id, post in zip(moved.tolist(), posts[moved].tolist(), strict=True):
        model.police_units[unit_id].take_post(post)


@kernel
def _presence(unit_hood, nominal, vetting, baseline_corrupt, dt, patrol_officers, residents, spread_from,
              spread_weight, officers, corrupt, out):
    """The units' strength and corruption over the step (``officers``, ``corrupt``: in place), then honest
    presence per neighbourhood into ``out`` (rows: corrupt share, effective officers, effective per 1,000).

    Per unit u, posted in neighbourhood h:

        vet       = vetting_h * dt                                       (where vet is not 0:)
        officers  = officers - officers * corrupt * vet                  (the corrupt are found and removed)
        corrupt   = clip(corrupt * (1 - vet) / max(1 - corrupt * vet, 1e-12), 0, 1)
        officers += (nominal - officers) * min(REHIRE_PER_YEAR * dt, 1)  (replacements hired)
        corrupt  += max((baseline - corrupt) * RECORRUPTION_PER_YEAR * dt, 0), or 0 where vet > 0

    Per neighbourhood h, with beat(x)_h = (1 - BEAT_SPILL) * x_h + BEAT_SPILL * (x spread from the neighbours)_h
    (each spread sum starts at 0 and adds its products in slot order, as World.spread) of the officers posted
    at h and of their corrupt time (each a sum from 0 in unit order, as np.bincount):

        officer time  = beat(officers at h),  corrupt time = beat(officers * corrupt at h)
        corrupt share = corrupt time / officer time (0 where there is no officer time)
        effective     = officer time - corrupt time + patrol officers
        per 1,000     = effective / residents * 1000

    A unit's update with vet 0, or with no gap to its nominal strength, leaves it as it is (shares lie in [0, 1]
    and strengths are not negative): the same numbers as skipping it.
    """
    rehire = min(REHIRE_PER_YEAR * dt, 1.0)
    k = out.shape[1]
    posted = np.zeros((2, k))  # officers and their corrupt time at each post
    for u in range(unit_hood.size):
        h = unit_hood[u]
        vet = vetting[h] * dt
        if vet != 0.0:
            officers[u] -= officers[u] * corrupt[u] * vet
            # (the clips as numpy's np.maximum and np.minimum give signed zeros and NaN: see model.compiled)
            remaining = 1.0 - corrupt[u] * vet
            kept = corrupt[u] * (1.0 - vet) / (1e-12 if remaining <= 1e-12 else remaining)
            kept = 0.0 if kept <= 0.0 else kept
            corrupt[u] = 1.0 if kept >= 1.0 else kept
        officers[u] += (nominal[u] - officers[u]) * rehire
        drift = (baseline_corrupt - corrupt[u]) * RECORRUPTION_PER_YEAR * dt
        drift = 0.0 if drift <= 0.0 else drift  # (as np.maximum(drift, 0.0))
        corrupt[u] += 0.0 if vet > 0.0 else drift
        posted[0, h] += officers[u]
        posted[1, h] += officers[u] * corrupt[u]
    for h in range(k):
        from_officers = from_corrupt = 0.0
        for slot in range(spread_from.shape[0]):
            origin = spread_from[slot, h]
            if origin == k:  # no more links: World.spread's padding would add 0 x 0 to a sum that is not -0
                break
            from_officers += spread_weight[slot, h] * posted[0, origin]
            from_corrupt += spread_weight[slot, h] * posted[1, origin]
        officer_time = (1.0 - BEAT_SPILL) * posted[0, h] + BEAT_SPILL * from_officers
        corrupt_time = (1.0 - BEAT_SPILL) * posted[1, h] + BEAT_SPILL * from_corrupt
        out[0, h] = corrupt_time / (officer_time if officer_time > 0 else 1.0)
        out[1, h] = officer_time - corrupt_time + patrol_officers[h]
        out[2, h] = out[1, h] / residents[h] * 1000.0


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Deploy, vet, and compute honest officer presence per neighbourhood."""
    del rng  # deployment is deterministic given the state
    force = model.police
    police = model.scenario.police
    if model.t % max(round(police.reallocate_days / model.step_days), 1) == 0:  # days -> steps
        redeploy(model)
    presence = np.empty((3, model.residents.size))
    _presence(force.unit_hood, force.unit_nominal, model.levers.vetting, police.corrupt_share, model.dt_years,
              model.levers.patrol_officers, model.residents, model.world.spread_from, model.world.spread_weight,
              force.unit_officers, force.unit_corrupt, presence)
    # new arrays every step, as rows of one block (indexed: cheaper than unpacking the rows)
    force.corrupt_share, force.effective, force.per_1000 = presence[0], presence[1], presence[2]
