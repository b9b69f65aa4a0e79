"""Small helpers shared by processes: memories, killings, drawing members, views of the member counts,
thinning counts and Poisson counts per neighbourhood."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from model import draws
from model.compiled import kernel
from model.population import Status, sample_in_blocks

if TYPE_CHECKING:
    from collections.abc import Callable

    from model.model import SecurityModel

# 0-d float64 bounds: np.maximum/np.minimum with them give the bits they give with the Python floats 0.0 and 1.0,
# without numpy converting a Python scalar on every call (~0.2 us each on arrays of 60 neighbourhoods)
ZERO, ONE = np.array(0.0), np.array(1.0)
ZERO.flags.writeable = ONE.flags.writeable = False


def unit(x: np.ndarray) -> np.ndarray:
    """``x`` clipped to [0, 1], in place (as np.clip, but -0.0 becomes +0.0; a third of its call overhead on small
    arrays)."""
    return np.minimum(np.maximum(x, ZERO, out=x), ONE, out=x)


FEW = 16  # up to this many items (incidents, neighbourhoods), a Python loop beats array calls
# up to this many neighbourhoods to draw for, scalar draws one by one beat model.draws' compiled loop
FEW_POISSONS = 2
FEW_BINOMIALS = 4


def half_life_factor(step_days: float, half_life_days: float) -> float:
    """Per-step decay factor of a memory with the given half-life."""
    return float(0.5 ** (step_days / half_life_days))


def time_constant_factor(step_days: float, days: float) -> float:
    """Per-step decay of an exponential memory with mean age ``days``."""
    return float(np.exp(-step_days / days))


class MemberViews:
    """Arrays that depend on the gang-member counts alone (read-only, shared by the processes of a step),
    worked out together (:func:`_member_arrays`) when the counts change.

    ``by_hood``: free members per neighbourhood, all gangs together; ``near``: the same plus half of the members of
    adjacent neighbourhoods (who can come over); ``gang_near``: ``near`` per gang, as floats (gangs x neighbourhoods);
    ``counts``: free members of each gang across the city; ``counts_or_one``: the same, at least 1 (a divisor for
    per-member amounts).
    """

    def __init__(self, model: SecurityModel) -> None:
        members = model.gang_members
        self._bytes, self._shape, self._dtype = members.tobytes(), members.shape, members.dtype
        gangs, k = members.shape
        self.by_hood, self.counts = np.empty(k, np.int64), np.empty(gangs, np.int64)  # (int64: numpy sums ints so)
        self.near, self.gang_near = np.empty(k), np.empty((gangs, k))
        world = model.world
        _member_arrays(members, world.spread_from, world.spread_weight, self.by_hood, self.near, self.gang_near,
                      self.counts)
        self.counts_or_one = np.maximum(self.counts, 1)
        for view in (self.by_hood, self.near, self.gang_near, self.counts, self.counts_or_one):
            view.flags.writeable = False  # shared: whoever needs to change it must copy

    def describe(self, members: np.ndarray) -> bool:
        """Whether these views describe ``members`` as it stands (the same contents, shape and type)."""
        return members.tobytes() == self._bytes and members.shape == self._shape and members.dtype == self._dtype


@kernel
def _member_arrays(members, spread_from, spread_weight, by_hood, near, gang_near, counts):
    """:class:`MemberViews` of ``members`` (gang x neighbourhood counts, integers: their sums are exact in any order).

    Per neighbourhood h, with spread(x)_h what adjacent neighbourhoods send to h (each sum starts at 0 and adds its
    products in slot order, as World.spread; the slots after a neighbourhood's links are its padding, which adds
    0 x 0 to a sum that is not -0: nothing):

        by_hood_h     = sum over gangs of members_gh
        near_h        = by_hood_h + 0.5 * spread(by_hood)_h
        gang_near_gh  = members_gh + 0.5 * spread(members_g)_h
        counts_g      = sum over neighbourhoods of members_gh
    """
    gangs, k = members.shape
    for g in range(gangs):
        counts[g] = 0
    for h in range(k):
        by_hood[h] = 0
        for g in range(gangs):
            by_hood[h] += members[g, h]
            counts[g] += members[g, h]
    for h in range(k):
        arriving = 0.0
        for slot in range(spread_from.shape[0]):
            origin = spread_from[slot, h]
            if origin == k:  # no more links
                break
            arriving += spread_weight[slot, h] * by_hood[origin]
        near[h] = by_hood[h] + 0.5 * arriving
        for g in range(gangs):
            arriving = 0.0
            for slot in range(spread_from.shape[0]):
                origin = spread_from[slot, h]
                if origin == k:
                    break
                arriving += spread_weight[slot, h] * members[g, origin]
            gang_near[g, h] = members[g, h] + 0.5 * arriving


def gang_near(counts: np.ndarray, spread: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Members of each gang (rows, float) per neighbourhood plus half of those in adjacent ones."""
    spread_by_gang = np.stack([spread(m) for m in counts]) if counts.size else counts
    return counts + 0.5 * spread_by_gang


_member_views: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def member_views(model: SecurityModel) -> MemberViews:
    """The :class:`MemberViews` of the model's gang-member counts as they stand now.

    The counts change only when someone joins, leaves, is arrested, released or killed, or at the census
    (in place or by replacement), far less often than every step; the views are recomputed when the
    counts' contents differ from those they were computed from.
    """
    views = _member_views.get(model)
    if views is None or not views.describe(model.gang_members):
        views = _member_views[model] = MemberViews(model)
    return views


def binomial_counts(rng: np.random.Generator, counts: np.ndarray,
                    probability: Callable[[], np.ndarray]) -> np.ndarray | int:
    """How many of each neighbourhood's ``counts`` pass, each with ``probability()`` clipped to [0, 1].

    The draws of ``rng.binomial(counts, p)``: a zero count draws nothing, so when few neighbourhoods
    have any, one scalar draw each, in order, is the same stream without the array call's overhead.
    ``probability`` (a full per-neighbourhood array) is only asked for if some count is nonzero;
    with none, 0 is returned (no draws).
    """
    nonzero = counts.nonzero()[0]  # (flatnonzero, as a method: cheaper)
    if nonzero.size > FEW_BINOMIALS:
        return draws.binomial(rng, counts.astype(np.int64), np.minimum(np.maximum(probability(), 0.0), 1.0))
    if nonzero.size == 0:
        return 0
    out = np.zeros(counts.size, np.int64)
    for h, k in _few_binomials(rng, counts, nonzero, probability):
        out[h] = k
    return out


def add_binomial_counts(rng: np.random.Generator, counts: np.ndarray, probability: Callable[[], np.ndarray],
                        out: np.ndarray) -> None:
    """Add :func:`binomial_counts` (the same draws) to ``out``, a per-neighbourhood row of counts.

    With few neighbourhoods to draw for, only those that pass any are added to (adding 0 to a count
    changes nothing).
    """
    nonzero = counts.nonzero()[0]
    if nonzero.size > FEW_BINOMIALS:
        out += draws.binomial(rng, counts.astype(np.int64), np.minimum(np.maximum(probability(), 0.0), 1.0))
    elif nonzero.size:
        for h, k in _few_binomials(rng, counts, nonzero, probability):
            out[h] += k


def _few_binomials(rng: np.random.Generator, counts: np.ndarray, nonzero: np.ndarray,
                   probability: Callable[[], np.ndarray]) -> list[tuple[int, int]]:
    """(neighbourhood, passed) where any pass, of one scalar binomial draw per nonzero count, in order.

    A draw with probability 0 consumes nothing and gives 0 (as in the array call), so it is not made.
    """
    binomial, p_all = rng.binomial, probability()
    passed = []
    for h in nonzero.tolist():
        p = p_all.item(h)
        if not 0.0 < p <= 1.0:  # (rare) clip as the array call does, with Python floats
            p = min(max(p, 0.0), 1.0)
            if not p:  # (a NaN is drawn with, and raises as in the array call)
                continue
        k = binomial(int(counts.item(h)), p)  # (int truncates as astype(np.int64) does)
        if k:
            passed.append((h, k))
    return passed


def poisson_counts(rng: np.random.Generator, rates: np.ndarray) -> np.ndarray | int:
    """``rng.poisson(rates)`` for a per-neighbourhood array of nonnegative expected counts (the same draws).

    A zero rate draws nothing, so when few neighbourhoods have one, one scalar draw each, in order, is
    the same stream without the array call's overhead. With none drawn above 0, 0 is returned.
    """
    nonzero = rates.nonzero()[0]
    if nonzero.size > FEW_POISSONS:
        return draws.poisson(rng, rates)
    poisson = rng.poisson
    out: np.ndarray | int = 0
    for h, rate in zip(nonzero.tolist(), rates[nonzero].tolist(), strict=True):
        k = poisson(rate)  # (a NaN or negative rate raises as in the array call)
        if k:
            if isinstance(out, int):
                out = np.zeros(rates.size, np.int64)
            out[h] = k
    return out


def draw_members(model: SecurityModel, rng: np.random.Generator, hoods: np.ndarray,
                 gang: np.ndarray | None = None) -> np.ndarray:
    """One free gang member per entry of ``hoods`` (of gang ``gang[i]`` if given; -1 any).

    Returns person ids, -1 where the neighbourhood has no such member.
    """
    people = model.people
    if gang is None:
        def accept(ids: np.ndarray) -> np.ndarray:
            return (people.gang[ids] >= 0) & people.free(ids)
        return sample_in_blocks(rng, people.block_start, hoods, accept)
    def accept_gang(g: int) -> Callable[[np.ndarray], np.ndarray]:
        def accept_g(ids: np.ndarray) -> np.ndarray:
            ok = people.gang[ids] >= 0 if g < 0 else people.gang[ids] == g
            return ok & people.free(ids)
        return accept_g

    gangs = sorted(set(gang.tolist()))  # np.unique's values and order, without its cost on a few entries
    if len(gangs) == 1:  # (the usual request: one gang, in order, as its selection of every entry)
        return sample_in_blocks(rng, people.block_start, hoods, accept_gang(gangs[0]))
    out = np.full(hoods.size, -1, np.int64)
    for g in gangs:
        sel = np.flatnonzero(gang == g)
        out[sel] = sample_in_blocks(rng, people.block_start, hoods[sel], accept_gang(g))
    return out


def leave_gang(model: SecurityModel, ids: np.ndarray) -> None:
    """People ``ids`` (free members) leave their gang."""
    people = model.people
    g = people.gang[ids].astype(np.int64)
    np.add.at(model.gang_members, (g, people.home[ids]), -1)
    people.gang[ids] = -1


def kill(model: SecurityModel, victims: np.ndarray) -> None:
    """Homicide victims die; a newcomer of the same age takes their row (stationary population).

    Members leave their gang's count; personal fear and trust shocks are removed from the
    neighbourhood sums so the means stay exact.
    """
    victims = np.unique(victims[victims >= 0])
    if victims.size == 0:
        return
    people = model.people
    members = victims[(people.gang[victims] >= 0) & people.free(victims)]
    if members.size:
        leave_gang(model, members)
    people.gang[victims] = -1
    t = model.t
    hood = people.home[victims]
    fear_now = people.decayed(people.fear_shock, people.fear_time, victims, t, model.fear_decay)
    trust_now = people.decayed(people.trust_shock, people.trust_time, victims, t, model.trust_decay)
    np.add.at(model.hood.fear_shock_sum, hood, -fear_now)
    np.add.at(model.hood.trust_shock_sum, hood, -trust_now)
    people.fear_shock[victims] = 0.0
    people.trust_shock[victims] = 0.0
    people.victimisations[victims] = 0
    people.set_flag(victims, Status.ENROLLED | Status.GRADUATE, on=False)


# numpy's pairwise summation (pairwise_sum, numpy/_core/src/umath/loops_utils.h.src) adds fewer than 8 terms
# one after another from 0.0; from 8 terms on it keeps eight partial sums (its loop is unrolled by 8) and adds
# them in pairs, another order. A Python loop gives numpy's bits only below this many terms.
NUMPY_SEQUENTIAL_SUM = 8


def gang_by_control(model: SecurityModel, rng: np.random.Generator, hoods: np.ndarray) -> np.ndarray:
    """One gang per entry of ``hoods``, drawn in proportion to its control there (int8, as Incidents keeps it).

    The gang behind a crime (crime) and the attacker in a rivalry (rivalry): one uniform per entry.
    """
    control = model.control
    u = rng.random(hoods.size)
    if control.shape[0] >= NUMPY_SEQUENTIAL_SUM and hoods.size == 1:
        # one entry's gangs are a contiguous column, which numpy sums pairwise from this many: its own arrays
        return gang_by_control_arrays(control, hoods, u)
    # One loop over the entries: the arrays' sums, products and comparisons (down the gangs of several entries,
    # or fewer than NUMPY_SEQUENTIAL_SUM of one, numpy adds one after another; cumsum always does).
    picked = np.empty(hoods.size, np.int8)
    _gangs_by_control(control, hoods, u, picked)
    return picked


def gang_by_control_arrays(control: np.ndarray, hoods: np.ndarray, u: np.ndarray) -> np.ndarray:
    """:func:`gang_by_control` in numpy's arrays, with the entries' uniforms ``u``: cumulative control (plus 1e-12,
    so that where nobody holds control every gang is as likely) against ``u`` times the total, at most the last."""
    held = control[:, hoods] + 1e-12
    target = u * held.sum(axis=0)
    return np.minimum((np.cumsum(held, axis=0) < target).sum(axis=0), control.shape[0] - 1).astype(np.int8)


@kernel
def _gangs_by_control(control, hoods, u, out):
    """The gang drawn for each entry (int8, into ``out``): at the entry's neighbourhood h, with held_g = control_gh
    + 1e-12 (where nobody holds control, every gang is as likely),

        gang = the number of gangs whose running total of held lies below u * (the total held), at most the last
    """
    gangs = control.shape[0]
    for i in range(hoods.size):
        h = hoods[i]
        total = 0.0
        for g in range(gangs):
            total += control[g, h] + 1e-12
        target = u[i] * total
        running, below = 0.0, 0
        for g in range(gangs):
            running += control[g, h] + 1e-12
            below += running < target
        out[i] = min(below, gangs - 1)
