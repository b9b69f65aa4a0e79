"""Police deployment, corruption and vetting, and the guardianship police presence provides.

Units are reassigned every ``reallocate_days`` by the force's strategy; each step the honest
officer-equivalents per neighbourhood are summed from the units posted there, plus any extra
patrol officers programmes add (hot-spot patrol). Vetting removes corrupt officers (capacity
returns as replacements are hired); without vetting, corruption drifts back to its baseline.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

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


def beat(model: SecurityModel, at_post: np.ndarray) -> np.ndarray:
    """Officer time by neighbourhood: a unit spends part of its time in adjacent neighbourhoods.

    ``at_post`` has one row per neighbourhood (and may have several columns, spread alike).
    """
    return (1.0 - BEAT_SPILL) * at_post + BEAT_SPILL * model.world.spread(at_post)


def _beat_padded(model: SecurityModel, padded: np.ndarray) -> np.ndarray:
    """:func:`beat` of one row given with a 0 after its values (the same bits): the padded layout
    ``World.spread_rows`` takes, so the row is spread without ``World.spread``'s copy into a padded array."""
    return (1.0 - BEAT_SPILL) * padded[:-1] + BEAT_SPILL * model.world.spread_rows(padded[None])[0]


class _Posts:
    """What stays while the units keep their posts and strengths: all officer time on the beat.

    Units move only at redeployment and their strength only while vetted-out officers are being
    replaced, so this is usually the same from one step to the next; it is kept, with the posts and
    strengths (as bytes) it was computed from, and recomputed when either differs.
    """

    def __init__(self, model: SecurityModel, key: tuple[bytes, bytes]) -> None:
        force = model.police
        k = model.world.n_neighbourhoods
        self.key = key
        self.world = model.world
        self.officers = beat(model, np.bincount(force.unit_hood, force.unit_officers, minlength=k))
        # Corrupt time is at most officer time, so it is 0 where that is: dividing by 1 there gives the share's 0.
        self.divisor = np.where(self.officers > 0, self.officers, 1.0)
        self.officers.flags.writeable = self.divisor.flags.writeable = False  # shared between steps


_POSTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # by model


def _posts(model: SecurityModel) -> _Posts:
    """The :class:`_Posts` of the units as they stand now."""
    force = model.police
    key = (force.unit_hood.tobytes(), force.unit_officers.tobytes())
    held = _POSTS.get(model)
    if held is None or held.key != key or held.world is not model.world:
        held = _POSTS[model] = _Posts(model, key)
    return held


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Deploy, vet, and compute honest officer presence per neighbourhood."""
    del rng  # deployment is deterministic given the state
    force = model.police
    police = model.scenario.police
    if model.t % max(round(police.reallocate_days / model.step_days), 1) == 0:  # days -> steps
        redeploy(model)
    dt = model.dt_years
    vetting = model.levers.vetting
    vetted = None
    # With no vetting anywhere the removal and the rescaling below change nothing (they would
    # subtract zeros and divide by one, and shares already lie in [0, 1]), so they are skipped.
    if np.count_nonzero(vetting):
        vet = vetting[force.unit_hood] * dt
        removed = force.unit_officers * force.unit_corrupt * vet
        force.unit_officers -= removed
        kept = force.unit_corrupt * (1.0 - vet) / np.maximum(1.0 - force.unit_corrupt * vet, 1e-12)
        force.unit_corrupt = np.minimum(np.maximum(kept, 0.0), 1.0)
        vetted = vet > 0
    # Units at full strength (the usual case) have no one to rehire: the update would add zeros.
    if force.unit_officers.tobytes() != force.unit_nominal.tobytes():
        gap = force.unit_nominal - force.unit_officers
        force.unit_officers += gap * min(REHIRE_PER_YEAR * dt, 1.0)
    drift = police.corrupt_share - force.unit_corrupt
    drift *= RECORRUPTION_PER_YEAR  # in place: the same products, in the same order, as (x * R) * dt
    drift *= dt
    np.maximum(drift, 0.0, out=drift)
    force.unit_corrupt += drift if vetted is None else np.where(vetted, 0.0, drift)

    # all officer time is kept while posts and strengths stay; the corrupt share of it moves every step
    posts = _posts(model)
    officers = posts.officers
    k = model.world.n_neighbourhoods
    # corrupt time at the posts, with a 0 after the last neighbourhood (no unit is posted there)
    corrupt = _beat_padded(model, np.bincount(force.unit_hood, force.unit_officers * force.unit_corrupt,
                                              minlength=k + 1))
    force.corrupt_share = corrupt / posts.divisor
    force.effective = officers - corrupt + model.levers.patrol_officers
    force.per_1000 = force.effective / model.residents * 1000.0
