"""Residents held as arrays (struct of arrays), sorted into contiguous neighbourhood blocks.

Person ``i`` lives in neighbourhood ``home[i]``; the people of neighbourhood ``k`` are the
rows ``block_start[k]:block_start[k + 1]``. Processes never loop over people: they draw the
few people an event touches with :func:`sample_in_blocks` (Poisson thinning / rejection inside
a block), so the work of a step follows the number of events, not the head count.

Personal fear and trust are a neighbourhood level plus a personal shock that decays
exponentially; the neighbourhood sums of the shocks decay by the same factor each step, so the
mean of a neighbourhood is known exactly without touching every person.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from model.compiled import kernel

if TYPE_CHECKING:
    from model.scenario import Scenario

__all__ = ["Population", "Status", "build_population", "sample_in_blocks", "YOUTH_AGES"]

YOUTH_AGES = (12, 24)


class Status:
    """Bit flags in ``Population.status``."""

    SCHOOL = np.uint8(1)
    EMPLOYED = np.uint8(2)
    ENROLLED = np.uint8(4)  # in a youth programme now
    GRADUATE = np.uint8(8)  # completed a youth programme
    DETAINED = np.uint8(16)  # in police custody, awaiting trial, or in prison


@dataclass
class Population:
    """All residents; every array has one row per person."""

    home: np.ndarray  # int32 neighbourhood
    age0: np.ndarray  # int8 age in whole years at t=0
    birthday: np.ndarray  # uint16 day of year of the birthday
    risk: np.ndarray  # float32 personal propensity (mean 1, capped at RISK_CAP)
    status: np.ndarray  # uint8 Status flags
    gang: np.ndarray  # int8 gang id, -1 none
    victimisations: np.ndarray  # uint16 times victimised during the run
    fear_shock: np.ndarray  # float32 personal fear at fear_time
    fear_time: np.ndarray  # int32 step of the last fear shock
    trust_shock: np.ndarray  # float32 personal trust change at trust_time
    trust_time: np.ndarray  # int32
    peers: np.ndarray  # (N, 2) int32 friends in the same neighbourhood
    block_start: np.ndarray  # int64 (K + 1)

    RISK_CAP = 4.0

    @property
    def size(self) -> int:
        return int(self.home.size)

    def nbytes(self) -> int:
        """Bytes of per-person state: every array of a row per person, that is every field but ``block_start``
        (one row per neighbourhood). The model's memory per resident is this over N."""
        return int(sum(getattr(self, f.name).nbytes for f in fields(self) if f.name != "block_start"))

    def age(self, ids: np.ndarray, day: int) -> np.ndarray:
        """Ages in whole years of people ``ids`` on simulated day ``day``."""
        return self.age0[ids] + np.add(self.birthday[ids], day, dtype=np.int32) // 365  # int32, as age0 promotes

    def age_of(self, i: int, day: int) -> int:
        """:meth:`age` of one person as a Python integer (the same whole years: floor division, as numpy's)."""
        return self.age0.item(i) + (self.birthday.item(i) + day) // 365

    def founding_weight(self, ids: np.ndarray, day: int) -> np.ndarray:
        """Acceptance of ``ids`` as members placed by the city's builder and calibration: free, aged 14-35,
        in no gang yet, in proportion to risk."""
        age = self.age(ids, day)
        ok = (age >= 14) & (age <= 35) & (self.gang[ids] < 0) & self.free(ids)
        return ok * self.risk[ids] / self.RISK_CAP

    def is_youth(self, ids: np.ndarray, day: int) -> np.ndarray:
        a = self.age(ids, day)
        return (a >= YOUTH_AGES[0]) & (a <= YOUTH_AGES[1])

    def free(self, ids: np.ndarray) -> np.ndarray:
        """Not detained (can act, be recruited, be arrested)."""
        return (self.status[ids] & Status.DETAINED) == 0

    def has(self, ids: np.ndarray, flag: np.uint8) -> np.ndarray:
        return (self.status[ids] & flag) != 0

    def set_flag(self, ids: np.ndarray, flag: np.uint8, on: bool = True) -> None:
        if on:
            self.status[ids] |= flag
        else:
            self.status[ids] &= np.uint8(~flag & 0xFF)

    def decayed(self, shock: np.ndarray, time: np.ndarray, ids: np.ndarray, t: int,
                decay: float) -> np.ndarray:
        """Personal shocks of ``ids`` as they stand at step ``t``."""
        return shock[ids] * np.power(decay, (t - time[ids]).astype(np.float64))


# ---- decay factors of personal shocks, from tables ---------------------------------------------------
# Population.decayed computes decay ** k with np.power on an array of whole steps k. numpy's power gives
# each element the same bits whatever the array's length or the element's place in it (checked on this
# machine's AVX-512 build for every k from -4,000 to 40,000 and 42 decays), so tables made by np.power hold
# the same numbers; Python's own ** (the C library's pow) differs from it in the last bit for ~9% of
# inputs and must not be used. tests/test_fast_paths.py compares both tables with np.power.
POWERS_KEPT = 16  # decay factors with tables (one per memory length and step length in use)
POWER_BLOCK = 256  # a scalar table grows this many steps at a time
_power_arrays: dict[float, np.ndarray] = {}  # decay -> decay ** [0, 1, 2, ...]


def decay_powers(decay: float, longest: int) -> np.ndarray:
    """``np.power(decay, np.arange(n).astype(np.float64))`` for some ``n > longest``: the kept table (read-only)."""
    table = _power_arrays.get(decay)
    if table is None or table.size <= longest:
        size = max(longest + 1, 2 * (0 if table is None else table.size), 1024)
        with np.errstate(over="ignore"):  # (a decay above 1 would overflow where no shock is that old)
            table = np.power(decay, np.arange(size).astype(np.float64))
        table.flags.writeable = False  # shared by every census of every model
        if decay not in _power_arrays and len(_power_arrays) >= POWERS_KEPT:
            _power_arrays.clear()
        _power_arrays[decay] = table
    return table


def decay_factor(decay: float, steps: int) -> float:
    """``np.power(decay, float(steps))`` as :func:`decay_powers`' table holds it, for one whole number of steps
    (any sign), as a Python float from a table filled ``POWER_BLOCK`` steps at a time."""
    powers = _power_table(decay)
    factor = powers.get(steps)
    if factor is None:
        start = steps - steps % POWER_BLOCK
        with np.errstate(over="ignore"):  # decay ** (very negative k) may not be asked for at all
            values = np.power(decay, np.arange(start, start + POWER_BLOCK).astype(np.float64))
        powers.update(zip(range(start, start + POWER_BLOCK), values.tolist(), strict=True))
        factor = powers[steps]
    return factor


@functools.lru_cache(maxsize=POWERS_KEPT)
def _power_table(decay: float) -> dict[int, float]:
    """The scalar table of ``decay ** k`` by whole steps ``k`` (bounded: one entry per step of the run)."""
    return {}


def build_population(scenario: Scenario, residents: np.ndarray, disadvantage: np.ndarray,
                     rng: np.random.Generator) -> Population:
    """Draw everyone's age, risk, schooling and work, and friendship ties, neighbourhood by block."""
    city = scenario.city
    n = int(residents.sum())
    k = residents.size
    block_start = np.concatenate([[0], np.cumsum(residents)]).astype(np.int64)
    home = np.repeat(np.arange(k, dtype=np.int32), residents)
    d = disadvantage[home]

    # ages: 0-11, 12-24 (youth), 25-79 in the shares the scenario gives
    child_share = 0.24
    u = rng.random(n)
    age = np.where(
        u < child_share,
        rng.integers(0, 12, n),
        np.where(u < child_share + city.youth_share, rng.integers(12, 25, n), rng.integers(25, 80, n)),
    ).astype(np.int8)
    birthday = rng.integers(0, 365, n).astype(np.uint16)

    risk = rng.lognormal(-0.18, 0.6, n) * (0.6 + 0.8 * d)
    risk = np.minimum(risk / risk.mean(), Population.RISK_CAP).astype(np.float32)

    status = np.zeros(n, dtype=np.uint8)
    youth = (age >= 12) & (age <= 24)
    # disadvantaged neighbourhoods keep fewer young people in school and in work
    p_school = np.clip(city.school_enrolment * (1.3 - 0.6 * d), 0, 1)
    p_work = np.clip(city.youth_employment * (1.3 - 0.6 * d), 0, 1)
    v = rng.random(n)
    status[youth & (v < p_school)] |= Status.SCHOOL
    status[youth & (v >= p_school) & (v < p_school + p_work)] |= Status.EMPLOYED
    status[(age < 12) & (age >= 6)] |= Status.SCHOOL
    status[(age >= 25) & (rng.random(n) < 0.6)] |= Status.EMPLOYED

    # two friends each, drawn in the neighbourhood with an age within 5 years where possible
    peers = np.empty((n, 2), dtype=np.int32)
    lo, hi = block_start[home], block_start[home + 1]
    for j in range(2):
        pick = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
        for _ in range(4):
            bad = np.abs(age[pick].astype(np.int16) - age.astype(np.int16)) > 5
            if not bad.any():
                break
            idx = np.flatnonzero(bad)
            pick[idx] = lo[idx] + (rng.random(idx.size) * (hi[idx] - lo[idx])).astype(np.int64)
        peers[:, j] = pick

    return Population(
        home=home,
        age0=age,
        birthday=birthday,
        risk=risk,
        status=status,
        gang=np.full(n, -1, dtype=np.int8),
        victimisations=np.zeros(n, dtype=np.uint16),
        fear_shock=np.zeros(n, dtype=np.float32),
        fear_time=np.zeros(n, dtype=np.int32),
        trust_shock=np.zeros(n, dtype=np.float32),
        trust_time=np.zeros(n, dtype=np.int32),
        peers=peers,
        block_start=block_start,
    )


Acceptance = Callable[[np.ndarray], np.ndarray]
# With a scalar acceptance (see sample_in_blocks), requests of up to FEW_ENTRIES entries draw with Python numbers,
# in rounds of up to FEW_CANDIDATES candidates (acceptance is asked for only up to the first accepted one, so a
# round's cost follows the acceptance rate more than its size); beyond them, array calls are cheaper.
FEW_ENTRIES = 8
FEW_CANDIDATES = 128


def sample_in_blocks(
    rng: np.random.Generator,
    block_start: np.ndarray,
    hoods: np.ndarray,
    accept: Acceptance | None = None,
    max_rounds: int = 6,
) -> np.ndarray:
    """Draw one person per entry of ``hoods`` (neighbourhood ids), uniformly in that block.

    ``accept(ids)`` returns a boolean array (eligibility) or a float array of acceptance
    probabilities in [0, 1] (thinning: people are then drawn in proportion to them). Candidates
    are drawn in rounds with growing oversampling; entries still unfilled after ``max_rounds``
    scan their block exactly. Entries with nobody eligible come back as -1. The draw for every
    entry costs O(1 / acceptance rate), never O(block size) unless acceptance is that rare.

    An acceptance of probabilities may also carry ``accept.one(i)``: the same probability for one
    person ``i`` as a Python float. A small request then draws with Python numbers, in the same rounds
    with the same draws, without the fixed cost of numpy calls on a handful of values.
    """
    hoods = np.asarray(hoods, dtype=np.int64)
    m = hoods.size
    if m == 0:
        return np.empty(0, dtype=np.int64)
    blocks = _blocks(block_start)
    sizes, none_empty = blocks[1], blocks[2]
    one = getattr(accept, "one", None)
    if one is not None and m <= FEW_ENTRIES:  # a few entries: in Python numbers
        return np.array(_draw_few(rng, blocks[3], blocks[4], hoods.tolist(), accept, one, max_rounds), np.int64)
    if m == 1 and accept is not None:  # the commonest request: one person, with Python scalars, no bookkeeping
        hood = hoods[0]
        if hood < 0:
            return np.full(1, -1, np.int64)
        return np.array([_draw_one(rng, blocks[3][hood], blocks[4][hood], accept, max_rounds)], np.int64)
    lo_all = block_start[hoods]
    size_all = sizes[hoods]
    if np.minimum.reduce(hoods) < 0:  # no block: nobody (as block_start[h + 1] - block_start[h] < 0)
        size_all = np.where(hoods >= 0, size_all, 0)
        none_empty = False
    if max_rounds > 0 and none_empty:
        # The usual case, every block has people: the first round (two candidates per entry) on all
        # entries at once, without the bookkeeping of the general rounds below. The draws are the
        # general loop's: rng.random((m, 2)) is rng.random(m * 2) in the same order.
        u = rng.random((m, 2))
        if accept is None:  # everyone is eligible: the first candidate
            return lo_all + (u[:, 0] * size_all).astype(np.int64)
        cand = np.empty((m, 2), np.int64)
        _candidates(block_start, sizes, hoods, u, cand)
        ok = _accepted(rng, cand.reshape(-1), accept).reshape(m, 2)
        first = ok[:, 0]
        out = np.where(first, cand[:, 0], cand[:, 1])  # the first accepted candidate
        hit = first | ok[:, 1]
        if np.count_nonzero(hit) == m:  # all filled (count_nonzero: a fifth of the call overhead of .all())
            return out
        todo = np.flatnonzero(~hit)
        out[todo] = -1
        factor, rounds = 8, max_rounds - 1
    else:
        out = np.full(m, -1, dtype=np.int64)
        todo = np.flatnonzero(size_all > 0)  # an empty block has nobody to draw (not its neighbour's rows)
        factor, rounds = 2, max_rounds
    for done in range(rounds):
        m = todo.size
        if m == 0:
            return out
        if m == 1:  # one entry left: its remaining rounds with Python scalars (the same draws)
            entry = todo[0]
            out[entry] = _draw_one(rng, int(lo_all[entry]), int(size_all[entry]), accept, rounds - done, factor)
            return out
        # ``factor`` candidates per entry still to fill, as rows (the draws in the order of a flat array)
        cand = np.empty((m, factor), np.int64)
        _candidates(lo_all, size_all, todo, rng.random((m, factor)), cand)
        ok = _accepted(rng, cand.reshape(-1), accept).reshape(m, factor)
        first = ok.argmax(axis=1)  # the first accepted candidate of each row, if any
        rows = np.arange(m)
        hit = ok[rows, first]
        out[todo] = np.where(hit, cand[rows, first], -1)
        todo = todo[~hit]
        factor *= 4
    if todo.size:  # eligibility is sparse in these blocks: scan them exactly
        _scan_each(rng, block_start, hoods, todo, accept, out)
    return out


@kernel
def _candidates(lo, size, todo, u, cand):
    """Into ``cand[r, j]``: row ``lo[e] + int(u[r, j] * size[e])`` of block ``e = todo[r]``, as numpy's
    ``lo[todo][:, None] + (u * size[todo][:, None]).astype(np.int64)`` computes it (the double product, truncated),
    without its three temporaries the size of ``u`` (a late round draws millions of candidates). ``lo`` and
    ``size`` are per block (``todo``: blocks) or per entry (``todo``: entries)."""
    for r in range(todo.size):
        e = todo[r]
        first = lo[e]
        rows = float(size[e])
        for j in range(u.shape[1]):
            cand[r, j] = first + np.int64(u[r, j] * rows)


def _scan_each(rng: np.random.Generator, block_start: np.ndarray, hoods: np.ndarray, entries: np.ndarray,
               accept: Acceptance | None, out: np.ndarray) -> None:
    """:func:`_scan` for each of ``entries`` (of people in non-empty blocks ``hoods``) in turn, into ``out``: the same
    draws (one uniform per entry whose block has anyone acceptable, in the entries' order) and the same picks, with
    each block's acceptance and running total worked out once instead of once per entry (hundreds of entries may
    scan the same few blocks)."""
    blocks, block_of = np.unique(hoods[entries], return_inverse=True)
    starts = block_start.tolist()
    scans = [_block_weights(starts[h], starts[h + 1] - starts[h], accept) for h in blocks.tolist()]
    drawn = np.array([total > 0 for _, _, total in scans])[block_of]  # who draws (as _scan: total > 0)
    u = np.zeros(entries.size)
    u[drawn] = rng.random(np.count_nonzero(drawn))
    out[entries[~drawn]] = -1
    for b, (ids, cumulative, total) in enumerate(scans):
        if total > 0:
            mine = block_of == b
            out[entries[mine]] = ids[np.searchsorted(cumulative, u[mine] * total, side="right")]


def _block_weights(lo: int, size: int, accept: Acceptance | None) -> tuple[np.ndarray, np.ndarray, np.float64]:
    """A block's rows, running total of acceptance and total acceptance (the sum numpy adds pairwise), as _scan."""
    ids = np.arange(lo, lo + size)
    weights = np.ones(ids.size) if accept is None else np.asarray(accept(ids), dtype=float)
    return ids, np.cumsum(weights), weights.sum()


def _draw_one(rng: np.random.Generator, lo: int, size: int, accept: Acceptance | None, max_rounds: int,
              factor: int = 2) -> int:
    """:func:`sample_in_blocks` for one entry (block rows ``lo`` to ``lo + size``): the same draws, round by round.

    ``max_rounds`` rounds are left, the first with ``factor`` candidates.
    """
    if size == 0:
        return -1
    for _ in range(max_rounds):
        cand = lo + (rng.random(factor) * size).astype(np.int64)
        ok = _accepted(rng, cand, accept)
        first = ok.argmax()  # the first accepted candidate, if any
        if ok[first]:
            return int(cand[first])
        factor *= 4
    return _scan(rng, lo, size, accept)


def _draw_few(rng: np.random.Generator, starts: list[int], sizes: list[int], hoods: list[int],
              accept: Acceptance, one: Callable[[int], float], max_rounds: int) -> list[int]:
    """:func:`sample_in_blocks` for a few entries with a scalar acceptance ``one``: the same rounds and draws.
    ``starts`` and ``sizes``: the blocks' first rows and sizes as Python ints (:func:`_blocks`).

    Round after round, every entry still to fill draws ``factor`` candidates (2, then 8, 32, ...) and then
    one thinning uniform per candidate, each as one array of the entries' draws in order; entries left
    after ``max_rounds`` rounds scan their block. Rounds of up to FEW_CANDIDATES candidates are worked out
    with Python numbers: ``int(u * size)`` is the same double product truncated as ``astype(np.int64)``
    truncates it, and ``v < p`` the same comparison. Acceptance draws nothing, so it is asked for only
    up to each entry's first accepted candidate.
    """
    out = [-1] * len(hoods)
    # (no block or an empty one: nobody)
    todo = [(e, starts[h], sizes[h]) for e, h in enumerate(hoods) if h >= 0 and sizes[h] > 0]
    factor, rounds = 2, max_rounds
    if len(todo) == 1:  # one entry (the commonest request): its rounds without the bookkeeping of several
        e, lo, size = todo[0]
        while rounds and factor <= FEW_CANDIDATES:
            uv = rng.random(2 * factor).tolist()
            for j in range(factor):
                candidate = lo + int(uv[j] * size)
                if uv[factor + j] < one(candidate):
                    out[e] = candidate
                    return out
            factor *= 4
            rounds -= 1
    for _ in range(rounds):
        if not todo:
            return out
        n = len(todo) * factor
        left = []  # the entries this round leaves unfilled
        if n > FEW_CANDIDATES:
            for entry, pick in zip(todo, _first_accepted(rng, todo, factor, accept), strict=True):
                if pick < 0:
                    left.append(entry)
                else:
                    out[entry[0]] = pick
        else:
            uv = rng.random(2 * n).tolist()  # the candidates' n uniforms, then the n for thinning: one stream
            for start, entry in zip(range(0, n, factor), todo, strict=True):
                lo, size = entry[1], entry[2]
                for j in range(start, start + factor):
                    candidate = lo + int(uv[j] * size)
                    if uv[n + j] < one(candidate):
                        out[entry[0]] = candidate
                        break
                else:  # no candidate accepted
                    left.append(entry)
        todo = left
        factor *= 4
    for e, lo, size in todo:  # rare: eligibility is sparse in this block; scan it exactly
        out[e] = _scan(rng, lo, size, accept)
    return out


def _first_accepted(rng: np.random.Generator, todo: list[tuple[int, int, int]], factor: int,
                    accept: Acceptance) -> list[int]:
    """One array round of :func:`_draw_few`: the first accepted of ``factor`` candidates per (entry, lo, size)."""
    m = len(todo)
    lo = np.array([entry[1] for entry in todo])[:, None]
    size = np.array([entry[2] for entry in todo])[:, None]
    cand = lo + (rng.random((m, factor)) * size).astype(np.int64)
    ok = _accepted(rng, cand.reshape(-1), accept).reshape(m, factor)
    first = ok.argmax(axis=1)
    rows = np.arange(m)
    return np.where(ok[rows, first], cand[rows, first], -1).tolist()


def sample_among(rng: np.random.Generator, rows: np.ndarray, block_start: np.ndarray, entries: np.ndarray,
                 accept: Acceptance) -> np.ndarray:
    """One person per entry, ``entries[h]`` of them in block ``h``, among the listed ``rows`` of the block, in
    proportion to ``accept`` (-1 where none of them is acceptable now).

    The same distribution as :func:`sample_in_blocks` when every acceptable person of the block is listed,
    at a cost that follows the list instead of ``1 / acceptance``: for people who are few in their blocks
    (a census's list of them, say), where rejection would draw thousands of candidates per entry and scan
    the block. ``rows`` must be ascending (blocks are contiguous rows, so each block's part is one slice).
    Entries come back block by block.
    """
    hoods = np.flatnonzero(entries)
    lo, hi = np.searchsorted(rows, block_start[hoods]), np.searchsorted(rows, block_start[hoods + 1])
    listed = hi - lo
    start = np.cumsum(listed) - listed  # where each block's part starts among the candidates
    candidates = rows[np.arange(listed.sum()) - np.repeat(start - lo, listed)]
    block = np.repeat(np.arange(hoods.size), entries[hoods])
    u = rng.random(block.size)
    if candidates.size == 0:
        return np.full(block.size, -1, np.int64)
    # cumulative[i] is the acceptance of candidates before i; block b's are cumulative[start_b:end_b + 1]
    cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(accept(candidates), dtype=float))])
    before = cumulative[start][block]
    weight = cumulative[start + listed][block] - before
    # the candidate whose share holds the point (never one of zero weight: its share is empty)
    pick = np.searchsorted(cumulative, before + u * weight, side="right") - 1
    pick = np.minimum(pick, (start + listed)[block] - 1)  # (a point rounded up onto the block's end)
    return np.where(weight > 0, candidates[np.maximum(pick, 0)], -1)


def _scan(rng: np.random.Generator, lo: int, size: int, accept: Acceptance | None) -> int:
    """One person of a whole block, in proportion to acceptance (-1 if nobody is acceptable)."""
    ids, cumulative, total = _block_weights(lo, size, accept)
    if total > 0:
        return int(ids[np.searchsorted(cumulative, rng.random() * total, side="right")])
    return -1


# Block sizes per block_start array, by the array's id: an entry holds a weak reference to its array (checked on
# every lookup, so an id reused by another array never matches) and is dropped when the array is freed, so it
# cannot outlive the population it describes. Entries are whole tuples, read once: models stepped in turn or in
# other threads never see another population's sizes, nor half of an update.
_block_sizes_kept: dict[int, tuple[weakref.ref, np.ndarray, bool, list[int], list[int]]] = {}


def _blocks(block_start: np.ndarray) -> tuple[weakref.ref, np.ndarray, bool, list[int], list[int]]:
    """(the array, people per block, whether every block has someone, the starts and the sizes as Python ints), kept per
    ``block_start`` array: blocks never change size (residents stay in their neighbourhood's rows), and
    callers pass the same array every step, so this is worked out once instead of on every draw. An entry
    is one tuple (read once: safe with threads) and goes when its array is freed.
    """
    held = _block_sizes_kept.get(id(block_start))
    if held is None or held[0]() is not block_start:
        sizes = np.diff(block_start)
        sizes.flags.writeable = False  # shared by every draw in this population's blocks
        held = (weakref.ref(block_start), sizes, bool((sizes > 0).all()), block_start.tolist(), sizes.tolist())
        _block_sizes_kept[id(block_start)] = held
        weakref.finalize(block_start, _block_sizes_kept.pop, id(block_start), None)
    return held


def anyone_in(rng: np.random.Generator, block_start: np.ndarray, hoods: list[int]) -> list[int]:
    """One resident of each neighbourhood in ``hoods`` (ids >= 0), drawn uniformly in its block, for a few draws.

    ``sample_in_blocks(rng, block_start, hoods)`` with Python numbers: the same draws (two uniforms
    per person, as ``rng.random((m, 2))`` in order, of which the first picks, as nobody is refused) and
    the same people. A city with an empty block is left to sample_in_blocks' own rules (never in practice).
    """
    _, _, none_empty, start, size = _blocks(block_start)
    if not none_empty:
        return sample_in_blocks(rng, block_start, np.array(hoods, np.int64)).tolist()
    first = rng.random(2 * len(hoods)).tolist()[::2]
    return [start[h] + int(u * size[h]) for h, u in zip(hoods, first, strict=True)]


def _accepted(rng: np.random.Generator, ids: np.ndarray, accept: Acceptance | None) -> np.ndarray:
    if accept is None:
        return np.ones(ids.size, dtype=bool)
    result = np.asarray(accept(ids))
    if result.dtype == bool:
        return result
    return rng.random(ids.size) < result
