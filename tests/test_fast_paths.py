"""Fast paths give the bits of the plain code they stand in for.

Where a step works something out in a cheaper form (a grid instead of one type at a time, Python
numbers for a handful of events instead of arrays), the results must be exactly those of the plain
form: the same numbers and, where random numbers are drawn, the same draws. The fingerprints of
``benchmarks/fingerprint.py`` proved it when each path was written; these tests keep it so.

Each pair is run on many seeded random inputs (edge cases included: nothing, one, exactly a threshold,
one beyond it) and must give the same outputs bit for bit and leave the random generator in the same
state. A fast path that cannot be called on its own is checked through whole runs with its module's
threshold at 0 (the array code always) and at a million (the Python-number code always) against the
default. Where the plain code was replaced rather than kept (policing's lexsort), its earlier version is
kept here as the reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simkit

from model.model import SecurityModel
from model.processes import reporting
from model.scenario import Scenario


def _model(seed: int, steps: int, **extra) -> SecurityModel:
    scenario = Scenario(city={"residents": 6000, "neighbourhoods": 12}, years=0.2, spin_up_years=0, **extra)
    return SecurityModel(scenario, seed=seed).run(steps)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reporting_grid_is_report_probability_type_by_type(seed: int) -> None:
    m = _model(seed, 20 * seed + 5, interventions=[{"type": "community_policing"}])
    mix, _, base, intimidated = m._crime_types()
    trust = m.trust()
    grid = reporting.report_probability_grid(m, base, intimidated, trust)
    types = np.flatnonzero(np.asarray(m.cal.crime_mix) != 0)
    hoods = np.arange(m.world.n_neighbourhoods)
    assert grid.shape == (types.size, hoods.size)
    for row, c in enumerate(types):
        plain = reporting.report_probability(m, np.full(hoods.size, c), hoods, trust)
        assert np.array_equal(grid[row], plain)


# ---------------------------------------------------------------------------------------------
# Helpers


def _bits(values) -> bytes:
    """The bytes of ``values`` as float64 (a difference in any bit, a zero's sign or a NaN's payload shows)."""
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64)).tobytes()


def _bits_any_nan(values) -> bytes:
    """:func:`_bits` with every NaN made the same NaN (where NaNs meet, the x86 sign of the result depends on the
    order of the operands within a SIMD loop: two layouts of the same sums may differ there, and only there)."""
    values = np.asarray(values, dtype=np.float64)
    return _bits(np.where(np.isnan(values), np.nan, values))


def _twins(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    return np.random.default_rng(seed), np.random.default_rng(seed)


def _blocks(rng: np.random.Generator, k: int) -> np.ndarray:
    """Block starts of ``k`` neighbourhoods, some of them empty (a new array: sample_in_blocks keys on it)."""
    sizes = rng.integers(1, 400, k)
    sizes[rng.random(k) < 0.2] = 0
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def _probabilities(rng: np.random.Generator, n: int) -> np.ndarray:
    """Acceptance probabilities of ``n`` people, one kind at random: dense, sparse, near zero, or nobody."""
    kind = rng.integers(4)
    if kind == 0:
        p = rng.random(n)
    elif kind == 1:
        p = np.where(rng.random(n) < 0.02, rng.random(n), 0.0)
    elif kind == 2:
        p = rng.random(n) * 1e-3
    else:
        p = np.zeros(n)
    return p.astype(np.float32) if rng.random() < 0.3 else p  # (enforcement's acceptance is float32)


def _scalar_acceptance(p: np.ndarray):
    """An acceptance of probabilities ``p`` with its scalar form ``one``, as crime's and enforcement's."""
    def accept(ids: np.ndarray) -> np.ndarray:
        return p[ids]

    def one(i: int) -> float:
        return float(p[i])

    accept.one = one
    return accept


def _without_one(accept):
    """The same acceptance without ``one``: sample_in_blocks then takes its array path."""
    def plain(ids: np.ndarray) -> np.ndarray:
        return accept(ids)

    assert getattr(plain, "one", None) is None
    return plain


# ---------------------------------------------------------------------------------------------
# population.sample_in_blocks: a few entries in Python numbers (_draw_few) vs the array rounds


def test_sample_in_blocks_few_entries_draw_as_the_array_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``accept.one`` (up to FEW_ENTRIES entries) the same people and generator state as without it."""
    from model import population

    calls: dict[str, int] = {}

    def counting(name: str):
        plain = getattr(population, name)

        def counted(*args):
            calls[name] = calls.get(name, 0) + 1
            return plain(*args)
        return counted

    for name in ("_draw_few", "_first_accepted", "_scan"):  # count the paths taken
        monkeypatch.setattr(population, name, counting(name))
    setup = np.random.default_rng(2024)
    sizes = [1, 2, 3, population.FEW_ENTRIES - 1, population.FEW_ENTRIES, population.FEW_ENTRIES + 1]
    for case in range(4000):
        k = int(setup.integers(1, 12))
        block_start = _blocks(setup, k)
        p = _probabilities(setup, int(block_start[-1]) + 1)
        m = sizes[case % len(sizes)] if case % 3 else int(setup.integers(0, population.FEW_ENTRIES + 2))
        hoods = setup.integers(-1, k, m)  # -1: no block (nobody)
        max_rounds = int(setup.integers(0, 7))
        fast_rng, plain_rng = _twins(case)
        accept = _scalar_acceptance(p)
        fast = population.sample_in_blocks(fast_rng, block_start, hoods, accept, max_rounds)
        plain = population.sample_in_blocks(plain_rng, block_start, hoods, _without_one(accept), max_rounds)
        assert fast.dtype == plain.dtype and np.array_equal(fast, plain), (case, hoods, max_rounds, fast, plain)
        assert fast_rng.bit_generator.state == plain_rng.bit_generator.state, (case, hoods, max_rounds)
    # the Python-number path was taken, also with rounds beyond FEW_CANDIDATES and exact scans of a block
    assert calls["_draw_few"] > 3000 and calls["_first_accepted"] > 100 and calls["_scan"] > 100, calls


def test_sample_in_blocks_python_rounds_match_array_rounds_of_draw_few(monkeypatch: pytest.MonkeyPatch) -> None:
    """Within _draw_few, rounds in Python numbers (up to FEW_CANDIDATES candidates) equal its array rounds."""
    from model import population

    setup = np.random.default_rng(7)
    for case in range(800):
        k = int(setup.integers(1, 8))
        block_start = _blocks(setup, k)
        accept = _scalar_acceptance(_probabilities(setup, int(block_start[-1]) + 1))
        hoods = setup.integers(-1, k, int(setup.integers(1, population.FEW_ENTRIES + 1)))
        max_rounds = int(setup.integers(0, 7))
        fast_rng, plain_rng = _twins(case)
        fast = population.sample_in_blocks(fast_rng, block_start, hoods, accept, max_rounds)
        with monkeypatch.context() as patch:
            patch.setattr(population, "FEW_CANDIDATES", 0)  # every round of _draw_few by _first_accepted
            plain = population.sample_in_blocks(plain_rng, block_start, hoods, accept, max_rounds)
        assert np.array_equal(fast, plain), (case, hoods, max_rounds, fast, plain)
        assert fast_rng.bit_generator.state == plain_rng.bit_generator.state, (case, hoods, max_rounds)


def _plain_sample_in_blocks(rng: np.random.Generator, block_start: np.ndarray, hoods: np.ndarray, accept,
                            max_rounds: int) -> np.ndarray:
    """sample_in_blocks as its docstring states it, in plain numpy: rounds of 2, 8, 32, ... candidates for each
    entry still unfilled (their uniforms, then a thinning uniform per candidate for a float acceptance), then an
    exact scan of its block for each entry left, one entry after another (one uniform each, where anyone in
    the block is acceptable)."""
    sizes = np.diff(block_start)
    lo, size = block_start[hoods], np.where(hoods >= 0, sizes[hoods], 0)
    out = np.full(hoods.size, -1, np.int64)
    todo, factor = np.flatnonzero(size > 0), 2
    for _ in range(max_rounds):
        if todo.size == 0:
            return out
        cand = lo[todo][:, None] + (rng.random((todo.size, factor)) * size[todo][:, None]).astype(np.int64)
        result = np.asarray(accept(cand.reshape(-1)))
        ok = (result if result.dtype == bool else rng.random(cand.size) < result).reshape(cand.shape)
        first = ok.argmax(axis=1)
        hit = ok[np.arange(todo.size), first]
        out[todo[hit]] = cand[np.arange(todo.size), first][hit]
        todo, factor = todo[~hit], factor * 4
    for entry in todo:
        ids = np.arange(lo[entry], lo[entry] + size[entry])
        weights = np.asarray(accept(ids), dtype=float)
        if weights.sum() > 0:
            out[entry] = ids[np.searchsorted(np.cumsum(weights), rng.random() * weights.sum(), side="right")]
    return out


def test_sample_in_blocks_array_rounds_and_scans_are_the_plain_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The array path (compiled candidates, every block scanned once for all its entries left) gives the plain
    rounds' people and generator state, for eligibility and for probabilities, with many entries per block."""
    from model import population

    scanned: list[int] = []
    plain_scan_each = population._scan_each

    def counted(rng, block_start, hoods, entries, accept, out):
        scanned.append(entries.size)
        return plain_scan_each(rng, block_start, hoods, entries, accept, out)

    monkeypatch.setattr(population, "_scan_each", counted)
    setup = np.random.default_rng(11)
    for case in range(600):
        k = int(setup.integers(1, 10))
        block_start = _blocks(setup, k)
        p = _probabilities(setup, int(block_start[-1]) + 1)
        accept = _without_one(_scalar_acceptance(p))
        if case % 2:  # eligibility instead of probabilities
            eligible = p > 0.5 * p.max() if p.max() > 0 else p > 0

            def accept(ids: np.ndarray, eligible=eligible) -> np.ndarray:
                return eligible[ids]
        hoods = setup.integers(-1, k, int(setup.integers(0, 300)))
        max_rounds = int(setup.integers(0, 7))
        fast_rng, plain_rng = _twins(case)
        fast = population.sample_in_blocks(fast_rng, block_start, hoods, accept, max_rounds)
        plain = _plain_sample_in_blocks(plain_rng, block_start, hoods, accept, max_rounds)
        assert np.array_equal(fast, plain), (case, max_rounds)
        assert fast_rng.bit_generator.state == plain_rng.bit_generator.state, (case, max_rounds)
    # blocks were scanned for many entries at once, not only for one
    assert len(scanned) > 100 and sum(n > 20 for n in scanned) > 20, scanned


# ---------------------------------------------------------------------------------------------
# crime: victim acceptances, the few incidents' offender gang and lethality, the spread of rows


def _shuffled_people(m: SecurityModel, seed: int) -> None:
    """Give the residents every status byte, victimisation counts 0-5 and gang ids at random (in place)."""
    rng = np.random.default_rng(seed)
    people = m.people
    n = people.size
    people.status[:] = rng.integers(0, 256, n)
    people.victimisations[:] = rng.integers(0, 6, n)
    people.gang[:] = np.where(rng.random(n) < 0.3, rng.integers(0, max(len(m.gang_list), 1), n), -1)


@pytest.mark.parametrize("seed", [0, 1])
def test_victim_and_offender_acceptance_one_equals_the_array_for_every_person(seed: int) -> None:
    """crime.repeat_weight, crime.business_victim and enforcement.offender: ``one(i)`` is accept([i]) bit for bit."""
    from model.processes import crime, enforcement

    m = _model(seed, 3 + 40 * seed)
    _shuffled_people(m, seed)
    ids = np.arange(m.people.size)
    for make in (crime.repeat_weight, crime.business_victim, enforcement.offender):
        accept = make(m)
        plain = np.asarray(accept(ids), dtype=np.float64)
        one = np.array([accept.one(i) for i in ids.tolist()], dtype=np.float64)
        assert _bits(one) == _bits(plain), make.__name__


class _Stub:
    """A stand-in for the model with only the attributes a function reads (weak-referenceable)."""

    def __init__(self, **fields) -> None:
        self.__dict__.update(fields)


def test_gang_by_control_is_the_array_draw() -> None:
    """common.gang_by_control: one compiled loop over the entries gives the arrays' draw (cumulative control against
    one uniform each) for any number of entries (crime's offender gangs, rivalry's attackers) and of gangs (numpy
    sums down several entries' gangs one after another, and one entry's 8 or more gangs pairwise)."""
    from model.processes import common

    setup = np.random.default_rng(11)
    for case in range(3000):
        gangs = int(setup.integers(1, 13))
        k = int(setup.integers(1, 30))
        control = setup.random((gangs, k)) * (setup.random((gangs, k)) < 0.6)
        if case % 7 == 0:
            control[:] = 0.0
        model = _Stub(control=control)
        hoods = setup.integers(0, k, [0, 1, 2, 16, 17, int(setup.integers(0, 300))][case % 6])
        fast_rng, plain_rng = _twins(case)
        fast = common.gang_by_control(model, fast_rng, hoods)
        plain = common.gang_by_control_arrays(control, hoods, plain_rng.random(hoods.size))
        assert fast.dtype == plain.dtype == np.int8 and np.array_equal(fast, plain), (case, control, hoods)
        assert fast_rng.bit_generator.state == plain_rng.bit_generator.state, case


def test_lethal_crimes_are_the_uniforms_below_their_chance() -> None:
    """crime._lethal (its kernel, for any number of crimes): crime i turns lethal when the i-th of n uniforms is
    below p_kill * lethality where it happened; None if none does; the generator draws exactly n uniforms."""
    from model.processes import crime

    setup = np.random.default_rng(12)
    for case in range(3000):
        k = int(setup.integers(1, 30))
        lethality = setup.random(k) * setup.choice([0.0, 1.0, 3.0, 50.0])
        p_kill = float(setup.choice([0.0, 0.01, 0.3, 1.0]))
        hoods = setup.integers(0, k, [0, 1, 16, 17, int(setup.integers(0, 200))][case % 5])
        rng, plain_rng = _twins(case)
        got = crime._lethal(rng, hoods, p_kill, lethality)
        want = plain_rng.random(hoods.size) < p_kill * lethality[hoods]
        if want.any():
            assert got is not None and got.dtype == bool and np.array_equal(got, want), case
        else:
            assert got is None, case
        assert rng.bit_generator.state == plain_rng.bit_generator.state, case


@pytest.mark.parametrize(("neighbourhoods", "layout"),
                         [(1, "grid"), (12, "grid"), (30, "geometric"), (60, "geometric")])
def test_police_presence_spreads_officer_time_as_world_spread(neighbourhoods: int, layout: str) -> None:
    """policing's kernel (its own spread over the links, stopping at a neighbourhood's last) gives the beat as
    World.spread does, bit for bit: officer time = (1 - spill) x at post + spill x spread(at post), the same for
    corrupt time, the corrupt share (0 without officer time), effective officers and per 1,000 (units anywhere,
    several at one post, none with any time, tiny and huge strengths)."""
    from model.processes import policing

    m = simkit.build(100 * neighbourhoods, neighbourhoods, seed=neighbourhoods, city={"layout": layout})
    k, spill, residents = m.world.n_neighbourhoods, policing.BEAT_SPILL, m.residents
    rng = np.random.default_rng(19)
    for case in range(300):
        units = int(rng.integers(1, 3 * k + 2))
        posts = rng.integers(0, k, units) if case % 3 else np.full(units, int(rng.integers(k)))
        officers = rng.random(units) * rng.choice([0.0, 1.0, 1e-300, 1e300]) * (rng.random(units) < 0.8)
        corrupt = rng.random(units) * (rng.random(units) < 0.7)
        patrol = rng.random(k) * (rng.random(k) < 0.5)
        # vetting 0, strength at its nominal and no drift back to corruption (baseline 0): the units stay as they are
        got = np.empty((3, k))
        policing._presence(posts, officers.copy(), np.zeros(k), 0.0, 1 / 365, patrol, residents, m.world.spread_from,
                           m.world.spread_weight, officers.copy(), corrupt.copy(), got)
        with np.errstate(invalid="ignore", over="ignore"):
            at_post = np.bincount(posts, officers, minlength=k)
            corrupt_at_post = np.bincount(posts, officers * corrupt, minlength=k)
            officer_time = (1.0 - spill) * at_post + spill * m.world.spread(at_post)
            corrupt_time = (1.0 - spill) * corrupt_at_post + spill * m.world.spread(corrupt_at_post)
            share = np.divide(corrupt_time, officer_time, out=np.zeros(k), where=officer_time > 0)
            effective = officer_time - corrupt_time + patrol
            want = np.array([share, effective, effective / residents * 1000.0])
        assert _bits_any_nan(got) == _bits_any_nan(want), case
        if np.isfinite(want).all():
            assert _bits(got) == _bits(want), case


def test_displaced_street_crime_is_world_spread_of_the_deterred() -> None:
    """crime's kernel moves the displacement lever's share of the deterred crime (rate without levers less the rate,
    at least 0) to the neighbours as World.spread does, bit for bit, and no rate falls below 0 (diffusion too)."""
    from model.processes import crime

    m = simkit.build(3000, 30, seed=4, city={"layout": "geometric"})
    m.begin_step()
    rng = np.random.default_rng(8)
    k = m.world.n_neighbourhoods
    for case in range(100):
        m.levers.property_guardianship[:] = 1.0 + 3.0 * rng.random(k) * (rng.random(k) < 0.3)
        m.levers.guardianship[:] = 1.0 + rng.random(k) * (rng.random(k) < 0.3)
        m.levers.patrol_officers[:] = 20.0 * rng.random(k) * (rng.random(k) < 0.2)
        m.levers.displacement[:] = rng.uniform(-1.0, 1.0, k) * (rng.random(k) < 0.5)
        free = crime.expected_street_crime(m, with_levers=False)
        rates = crime.expected_street_crime(m)
        got = crime.expected_street_crime(m, displace=True)
        for c in crime.STREET_TYPES:
            moved = m.levers.displacement * np.maximum(free[c] - rates[c], 0.0)
            want = np.maximum(rates[c] + m.world.spread(moved), 0.0)
            assert _bits(got[c]) == _bits(want), (case, c)


# ---------------------------------------------------------------------------------------------
# census and perception: decay factors from tables of numpy's power; perception's few shocks and draws


def test_decay_powers_are_numpy_power() -> None:
    """population.decay_powers (the census's kept table of a decay's powers, grown as longer ages are asked for)
    holds np.power(decay, steps as float64) at every whole number of steps, bit for bit."""
    from model.population import decay_powers

    rng = np.random.default_rng(3)
    decays = [0.5, 0.9, 0.99, 0.999, 0.99995, 1.0, 1.0001, 0.0, *rng.random(6).tolist()]
    for case in range(600):
        decay = decays[case % len(decays)]
        longest = int(rng.choice([1, 10, 1500, 5000, 40000]))
        steps = rng.integers(0, longest, int(rng.integers(0, 300))).astype(np.int32)
        with np.errstate(over="ignore", divide="ignore"):
            table = decay_powers(decay, int(steps.max()) if steps.size else 0)
            plain = np.power(decay, steps.astype(np.float64))
        assert _bits(table[steps]) == _bits(plain), (case, decay)


def test_decay_factor_of_one_number_of_steps_is_numpy_power() -> None:
    """population.decay_factor (a table filled block after block; perception's few shocks) holds np.power's numbers."""
    from model.population import POWER_BLOCK, decay_factor

    rng = np.random.default_rng(4)
    for decay in [0.5, 0.97, 0.9993, 1.0, *rng.random(3).tolist()]:
        steps = rng.integers(-600, 3 * POWER_BLOCK, 300)
        with np.errstate(over="ignore", divide="ignore"):
            fast = [decay_factor(decay, k) for k in steps.tolist()]
            plain = np.power(decay, steps.astype(np.float64))
        assert _bits(fast) == _bits(plain), decay


def test_add_shock_of_few_people_is_the_array_update(monkeypatch: pytest.MonkeyPatch) -> None:
    """perception.add_shock: up to FEW people one at a time (_add_few) change shocks, times and sums as the arrays."""
    import copy

    from model.processes import perception

    base = _model(5, 30)
    rng = np.random.default_rng(5)
    people = base.people
    n = people.size
    with_shock = rng.random(n) < 0.5
    people.fear_shock[:] = np.where(with_shock, rng.random(n), 0.0)
    people.trust_shock[:] = np.where(with_shock, rng.normal(0.0, 0.5, n), 0.0)
    people.fear_time[:] = rng.integers(0, 30, n)
    people.trust_time[:] = rng.integers(0, 30, n)
    fields = ("fear_shock", "fear_time", "trust_shock", "trust_time")
    for case in range(400):
        twins = []
        for _ in range(2):
            people_copy = copy.copy(people)
            for name in fields:
                setattr(people_copy, name, getattr(people, name).copy())
            twins.append(_Stub(people=people_copy, hood=_Stub(fear_shock_sum=base.hood.fear_shock_sum.copy(),
                                                              trust_shock_sum=base.hood.trust_shock_sum.copy()),
                               t=30 + case % 7, fear_decay=base.fear_decay, trust_decay=base.trust_decay))
        size = [1, 2, perception.FEW, int(rng.integers(0, perception.FEW + 1))][case % 4]
        ids = rng.integers(0, min(n, 40) if case % 3 == 0 else n, size)  # (repeats, when drawn from a few)
        which = "fear" if case % 2 else "trust"
        amount = rng.normal(0.0, 0.8, size) if case % 5 < 3 else float(rng.normal(0.0, 0.8))
        low, high = (0.0, 1.0) if which == "fear" else (-1.0, 1.0)
        perception.add_shock(twins[0], which, ids, amount, low, high)
        with monkeypatch.context() as patch:
            patch.setattr(perception, "FEW", -1)
            perception.add_shock(twins[1], which, ids, amount, low, high)
        fast, plain = twins
        for name in fields:
            a, b = getattr(fast.people, name), getattr(plain.people, name)
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), (case, name)
        for name in ("fear_shock_sum", "trust_shock_sum"):
            assert _bits(getattr(fast.hood, name)) == _bits(getattr(plain.hood, name)), (case, name)


def test_anyone_in_draws_as_sample_in_blocks() -> None:
    """population.anyone_in (a few draws, nobody refused) gives sample_in_blocks' people and generator state."""
    from model.population import anyone_in, sample_in_blocks

    setup = np.random.default_rng(6)
    for case in range(1500):
        k = int(setup.integers(1, 15))
        sizes = setup.integers(1, 500, k)
        if case % 3 == 0:
            sizes[setup.random(k) < 0.3] = 0  # empty blocks (anyone_in defers to sample_in_blocks if asked there)
        block_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        hoods = setup.integers(0, k, [1, 2, 16, 17, int(setup.integers(1, 20))][case % 5]).tolist()
        fast_rng, plain_rng = _twins(case)
        fast = anyone_in(fast_rng, block_start, hoods)
        plain = sample_in_blocks(plain_rng, block_start, np.array(hoods, np.int64)).tolist()
        assert fast == plain, (case, hoods)
        assert fast_rng.bit_generator.state == plain_rng.bit_generator.state, case


# ---------------------------------------------------------------------------------------------
# recruitment: a handful of candidates weighed in Python numbers


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_few_hazards_are_person_hazard(seed: int) -> None:
    """recruitment._few_hazards equals person_hazard for every resident (status bytes, gangs, ages, levers)."""
    from model.processes import recruitment

    m = _model(seed, [0, 50, 200][seed], gangs={"peer_influence": [0.0, 0.5, 1.7][seed]})
    _shuffled_people(m, seed)
    m.levers.enrolled_recruitment = [1.0, 0.6, 0.3][seed]
    m.levers.graduate_recruitment = [1.0, 0.8, 0.45][seed]
    ids = np.arange(m.people.size)
    fast = recruitment._few_hazards(m, ids.tolist())
    plain = recruitment.person_hazard(m, ids)
    assert _bits(fast) == _bits(plain)


# ---------------------------------------------------------------------------------------------
# common: thinning and Poisson counts by scalar draws where few neighbourhoods have any


def _counts_and_probabilities(rng: np.random.Generator, case: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-neighbourhood counts (0, 1, FEW_BINOMIALS, FEW_BINOMIALS + 1 or any number nonzero; floats as the
    tally's) and probabilities that need clipping (below 0, -0, 0, 1, above 1)."""
    from model.processes import common

    k = int(rng.integers(common.FEW_BINOMIALS + 2, 70))
    nonzero = [0, 1, common.FEW_BINOMIALS, common.FEW_BINOMIALS + 1, int(rng.integers(0, k + 1))][case % 5]
    counts = np.zeros(k)
    counts[rng.choice(k, nonzero, replace=False)] = rng.integers(1, 40, nonzero)
    if case % 2:
        counts = counts.astype(np.int64)
    p = rng.choice([-0.3, -0.0, 0.0, 1.0, 1.7, 0.2, 0.5, 0.999], k) if case % 3 == 0 else rng.random(k)
    return counts, p


def test_binomial_counts_are_the_array_binomial() -> None:
    """common.binomial_counts: rng.binomial(counts, clip(p, 0, 1))'s values (0 if none) and generator state."""
    from model.processes.common import binomial_counts

    setup = np.random.default_rng(8)
    for case in range(2000):
        counts, p = _counts_and_probabilities(setup, case)
        fast_rng, plain_rng = _twins(case)
        fast = binomial_counts(fast_rng, counts, lambda p=p: p)
        plain = plain_rng.binomial(counts.astype(np.int64), np.minimum(np.maximum(p, 0.0), 1.0))
        if isinstance(fast, int):
            assert fast == 0 and not counts.any(), case
            fast = np.zeros(counts.size, np.int64)
        assert fast.dtype == plain.dtype and np.array_equal(fast, plain), case
        assert fast_rng.bit_generator.state == plain_rng.bit_generator.state, case


def test_add_binomial_counts_adds_the_array_binomial() -> None:
    """common.add_binomial_counts adds rng.binomial(counts, clip(p, 0, 1)) to a row, with the same draws."""
    from model.processes.common import add_binomial_counts

    setup = np.random.default_rng(9)
    for case in range(2000):
        counts, p = _counts_and_probabilities(setup, case)
        row = setup.integers(0, 5, counts.size).astype(float)
        fast_row, plain_row = row.copy(), row.copy()
        fast_rng, plain_rng = _twins(case)
        add_binomial_counts(fast_rng, counts, lambda p=p: p, fast_row)
        plain_row += plain_rng.binomial(counts.astype(np.int64), np.minimum(np.maximum(p, 0.0), 1.0))
        assert _bits(fast_row) == _bits(plain_row), case
        assert fast_rng.bit_generator.state == plain_rng.bit_generator.state, case


def test_poisson_counts_are_the_array_poisson() -> None:
    """common.poisson_counts: rng.poisson(rates)'s values (0 if all are 0) and generator state."""
    from model.processes import common

    setup = np.random.default_rng(10)
    for case in range(2000):
        k = int(setup.integers(1, 70))
        nonzero = min(k, [0, 1, common.FEW_POISSONS, common.FEW_POISSONS + 1, int(setup.integers(0, k + 1))][case % 5])
        rates = np.zeros(k)
        rates[setup.choice(k, nonzero, replace=False)] = setup.choice([1e-9, 0.01, 0.5, 3.0, 40.0, 2000.0], nonzero)
        fast_rng, plain_rng = _twins(case)
        fast = common.poisson_counts(fast_rng, rates)
        plain = plain_rng.poisson(rates)
        if isinstance(fast, int):
            assert fast == 0 and not plain.any(), case
            fast = np.zeros(k, np.int64)
        assert fast.dtype == plain.dtype and np.array_equal(fast, plain), case
        assert fast_rng.bit_generator.state == plain_rng.bit_generator.state, case


# ---------------------------------------------------------------------------------------------
# enforcement: a few reports cleared one by one


def test_cleared_reports_of_few_are_the_array_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    """enforcement._cleared: up to FEW reports one by one in Python floats, as the array formula (and draws)."""
    from model.processes import enforcement

    setup = np.random.default_rng(13)
    for case in range(2000):
        k, n = int(setup.integers(1, 20)), int(setup.integers(0, 40))
        incidents = _Stub(hood=setup.integers(0, k, n), kind=setup.integers(0, 5, n).astype(np.int8),
                          gang=setup.integers(-1, 3, n).astype(np.int8))
        police = _Stub(per_1000=setup.random(k) * setup.choice([1.0, 5.0, 30.0]) - (case % 6 == 0),
                       reference_per_1000=float(setup.choice([0.5, 2.0, 3.3])),
                       corrupt_share=setup.random(k) * setup.choice([0.0, 0.4, 1.0]))
        model = _Stub(incidents=incidents, police=police,
                      cal=_Stub(clearance=setup.random(5) * setup.choice([0.3, 1.0, 2.5])))
        tips = setup.random(k) * setup.choice([0.5, 1.5, 4.0])
        reported = setup.random(n) < 0.7
        rep = reported.nonzero()[0][: [0, 1, enforcement.FEW, enforcement.FEW + 1, n][case % 5]]
        fast_rng, plain_rng = _twins(case)
        fast = enforcement._cleared(model, fast_rng, rep, tips)
        with monkeypatch.context() as patch:
            patch.setattr(enforcement, "FEW", -1)
            plain = enforcement._cleared(model, plain_rng, rep, tips)
        assert fast.dtype == plain.dtype and np.array_equal(fast, plain), case
        assert fast_rng.bit_generator.state == plain_rng.bit_generator.state, case


# ---------------------------------------------------------------------------------------------
# policing: largest remainders and hot spots ordered by a stable argsort (was: lexsort, index as tie-break)


def _allocate_units_by_lexsort(weights: np.ndarray, n_units: int) -> np.ndarray:
    raw = weights / weights.sum() * n_units
    counts = np.floor(raw).astype(np.int64)
    order = np.lexsort((np.arange(weights.size), -(raw - counts)))
    counts[order[: n_units - counts.sum()]] += 1
    return np.repeat(np.arange(weights.size), counts)


def test_allocate_units_orders_remainders_as_lexsort() -> None:
    """policing.allocate_units (stable argsort of counts - raw) posts units as the lexsort with index tie-break."""
    from model.processes.policing import allocate_units

    rng = np.random.default_rng(14)
    for case in range(3000):
        k = int(rng.integers(1, 70))
        weights = rng.integers(0, 4, k).astype(float) if case % 2 else rng.random(k)  # ties, zeros
        weights[int(rng.integers(k))] += 1.0  # someone has a claim
        n_units = int(rng.integers(0, 4 * k + 5))
        assert np.array_equal(allocate_units(weights, n_units), _allocate_units_by_lexsort(weights, n_units)), case


def test_hotspot_weights_rank_as_lexsort() -> None:
    """policing.strategy_weights("hotspot") picks and weighs the top tenth as the lexsort with index tie-break."""
    from model.processes.policing import strategy_weights

    rng = np.random.default_rng(15)
    for case in range(1500):
        k = int(rng.integers(1, 70))
        residents = rng.integers(20, 3000, k).astype(float)
        reported = rng.integers(0, 3, k).astype(float) * (case % 5 != 0) if case % 2 else rng.random(k)
        model = _Stub(residents=residents, hood=_Stub(reported_memory=reported),
                      scenario=_Stub(police=_Stub(strategy="hotspot")), world=_Stub(disadvantage=rng.random(k)))
        total = reported.sum()
        share = reported / total if total > 0 else residents / residents.sum()
        top = np.lexsort((np.arange(k), -share))[: max(1, k // 10)]
        hot = np.zeros(k)
        hot[top] = share[top] / share[top].sum() if share[top].sum() else 1 / top.size
        plain = 0.5 * residents / residents.sum() + 0.5 * hot
        assert _bits(strategy_weights(model)) == _bits(plain), case


# ---------------------------------------------------------------------------------------------
# trafficking: a day's few loads moved one by one


def _shipped_bits(shipped: object) -> tuple:
    """A trafficking.Shipped as comparable bits (floats by their bytes, arrays by dtype, shape and bytes)."""
    out = []
    for value in shipped:
        if isinstance(value, np.ndarray):
            out.append((value.dtype.str, value.shape, value.tobytes()))
        elif isinstance(value, float):
            out.append(("float", _bits(value)))
        else:
            out.append((type(value).__name__, value))
    return tuple(out)


LEGS = np.arange(3)  # a route's legs in order: transit leg, border crossing, onward to the market


def _ship_by_arrays(rng: np.random.Generator, n: int, load_kg: float, spill_share: float, shares: np.ndarray,
                    routes) -> tuple:
    """trafficking.ship's shipment worked out by arrays (numpy's routes by inverse CDF, seizures, sums): the
    reference the compiled loop is checked against."""
    from model.processes import trafficking

    p_edge = routes.p_edge
    kg = load_kg * rng.lognormal(trafficking.LOAD_SIZE_LOG_MEAN, trafficking.LOAD_SIZE_LOG_SD, n)
    cdf = shares.cumsum()
    cdf /= cdf[-1]
    path = cdf.searchsorted(rng.random(n), side="right")
    edges = routes.path_edges[path]  # (n, 3): leg, crossing, onward
    seized_at = rng.random(edges.shape) < p_edge[edges]
    spill = kg * spill_share * routes.supply[path]
    via_city = int(np.count_nonzero(routes.path_via_city[path]))
    first = np.where(np.logical_or.reduce(seized_at, axis=1), seized_at.argmax(axis=1), 3)
    spill[first < 2] = 0.0  # seized before the crossing: nothing reached the city
    tried = np.bincount(edges[first[:, None] >= LEGS], minlength=p_edge.size)  # legs tried, up to the first seized
    caught = np.bincount(edges[first[:, None] == LEGS], minlength=p_edge.size)
    onward = (kg - spill)[first == 2]
    seized = float(np.add.reduce(kg[first == 0]) + np.add.reduce(kg[first == 1]) + np.add.reduce(onward))
    return trafficking.Shipped(seized, float(np.add.reduce(spill)), via_city, tried, caught)


def test_shipped_loads_are_the_shipment_by_arrays() -> None:
    """trafficking.ship (the loads one at a time in a compiled loop, numpy's sums over 8 loads or seizures or more)
    gives the arrays' kg seized and spilled, loads via the city, loads tried and seized per edge, bit for bit, and
    leaves the generator where the arrays do: 1 load to hundreds, with seizure odds from none to certain, repeated
    edges within a route, any share of a load left in the city."""
    from model.processes import trafficking

    m = _model(0, 1)
    routes = trafficking._routes(m)
    routes.today(m)
    paths, edges = routes.path_edges.shape[0], routes.p_edge.size
    rng = np.random.default_rng(18)
    for case in range(3000):
        n = [1, 7, 8, 16, 17][case % 5] if case % 3 == 0 else int(rng.integers(1, [17, 400][case % 2]))
        odds = rng.choice([0.0, 0.02, 0.3, 0.9, 1.0])
        routes.p_edge = np.minimum(rng.random(edges) * odds * 2.0, 1.0) if case % 3 else np.full(edges, odds)
        routes.supply = np.where(routes.path_via_city, 1.0, rng.random())
        if case % 4 == 0:  # any edges, repeats within a route too
            routes.path_edges = rng.integers(0, edges, (paths, 3))
        weights = rng.random(paths) * (rng.random(paths) < 0.7) + 1e-3 * (case % 2)
        weights[int(rng.integers(paths))] += 0.5  # (never all zero)
        shares = weights / weights.sum()
        load_kg, spill_share = float(rng.lognormal(6.0, 1.0)), float(rng.choice([0.0, rng.random() * 0.5]))
        slow, fast = _twins(int(rng.integers(2**32)))
        expected = _ship_by_arrays(slow, n, load_kg, spill_share, shares, routes)
        got = trafficking.ship(fast, n, load_kg, spill_share, shares, routes)
        assert _shipped_bits(got) == _shipped_bits(expected), case
        assert fast.bit_generator.state == slow.bit_generator.state, case


# ---------------------------------------------------------------------------------------------
# Whole steps: every "few events" threshold at 0 (the array code always) or at a million (the one-by-one code
# always) gives the run of the default thresholds, bit for bit, generator states included

THRESHOLDS = [  # (module, constant): below or at it, a few events are handled one by one in Python numbers
    ("model.processes.crime", "FEW"),  # victims not found
    ("model.processes.perception", "FEW"),  # victims' and contacts' shocks, witnesses
    ("model.processes.recruitment", "FEW"),  # candidates drawn and weighed
    ("model.processes.enforcement", "FEW"),  # reports cleared
    ("model.processes.common", "FEW_BINOMIALS"),  # binomial thinning by scalar draws
    ("model.processes.common", "FEW_POISSONS"),  # Poisson counts by scalar draws
    ("model.processes.mortality", "FEW"),  # a look for homicides
    ("model.processes.justice", "SHORT"),  # any case or release due
    ("model.population", "FEW_ENTRIES"),  # sample_in_blocks with a scalar acceptance
    ("model.population", "FEW_CANDIDATES"),  # its rounds in Python numbers
]
RUNS = [("carsi_package.yaml", 6000, 0, 120), ("carsi_package.yaml", 20000, 1, 90),
        ("carsi_package.yaml", 100000, 2, 60), ("baseline.yaml", 12000, 3, 100)]  # (file, residents, seed, steps)


def _run_state(file: str, residents: int, seed: int, steps: int) -> dict[str, object]:
    """Everything a run leaves: recorded outputs, people, neighbourhoods, gangs, courts, police, generators."""
    from model.scenario import load_scenario

    root = Path(__file__).resolve().parents[1]
    scenario = load_scenario(root / "scenarios" / file, overrides=[f"city.residents={residents}"],
                             years=steps / 365, spin_up_years=0)
    m = SecurityModel(scenario, seed=seed).run(steps)
    state: dict[str, object] = {"city": m.recorder.city, "hood_sum": m.recorder.hood_sum,
                                "gang_members": m.gang_members, "control": m.control, "tally": m.tally.block}
    for part in ("people", "hood", "justice", "police", "traffic"):
        for name, value in vars(getattr(m, part)).items():
            if isinstance(value, np.ndarray | float | int):
                state[f"{part}.{name}"] = value
    for gang in m.gang_list:
        for name, value in vars(gang).items():
            if isinstance(value, np.ndarray | float | int) and not name.startswith("_"):
                state[f"gang{gang.gang_id}.{name}"] = value
    state["generators"] = {name: m.streams.get(name).bit_generator.state for name in m.streams.names()}
    return state


_default_runs: dict[tuple, dict[str, object]] = {}


def _default_run(run: tuple) -> dict[str, object]:
    if run not in _default_runs:
        _default_runs[run] = _run_state(*run)
    return _default_runs[run]


def _assert_same_run(a: dict[str, object], b: dict[str, object], label: str) -> None:
    assert a.keys() == b.keys(), label
    for key, value in a.items():
        other = b[key]
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype and value.shape == other.shape, (label, key)
            assert np.array_equal(value, other, equal_nan=value.dtype.kind == "f"), (label, key)
            assert value.tobytes() == other.tobytes(), (label, key)
        else:
            assert value == other, (label, key)


@pytest.mark.parametrize("run", RUNS, ids=lambda r: f"{r[0].removesuffix('.yaml')}-{r[1]}")
@pytest.mark.parametrize(("module", "constant"), THRESHOLDS, ids=lambda x: x.rsplit(".", 1)[-1])
def test_few_events_paths_give_the_array_paths_run(monkeypatch: pytest.MonkeyPatch, module: str, constant: str,
                                                   run: tuple) -> None:
    """A module's few-events threshold at 0 (arrays only) and at a million (Python numbers only): the same run."""
    import importlib

    default = _default_run(run)
    for value in (0, 1_000_000):
        with monkeypatch.context() as patch:
            patch.setattr(importlib.import_module(module), constant, value)
            _assert_same_run(default, _run_state(*run), f"{module}.{constant}={value}")


@pytest.mark.parametrize("run", RUNS[:2], ids=lambda r: f"{r[0].removesuffix('.yaml')}-{r[1]}")
def test_all_few_events_paths_together_give_the_array_paths_run(monkeypatch: pytest.MonkeyPatch,
                                                                run: tuple) -> None:
    """Every threshold at 0 at once (the array code throughout) and at a million at once: the default run."""
    import importlib

    default = _default_run(run)
    for value in (0, 1_000_000):
        with monkeypatch.context() as patch:
            for module, constant in THRESHOLDS:
                patch.setattr(importlib.import_module(module), constant, value)
            _assert_same_run(default, _run_state(*run), f"all thresholds={value}")


def test_youth_scores_of_everyone_give_the_run_of_scores_by_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Youth programmes score everyone at once for a search round of SCORE_EVERYONE candidates per resident or
    more: at 0 (everyone scored for every search), the default run (in which no round is that large, so every
    candidate is scored on its own)."""
    from model.interventions import youth_programs

    run = RUNS[0]
    default = _default_run(run)
    sizes: list[int] = []
    plain_at_risk = youth_programs._at_risk

    def counted(ids, *rest):
        sizes.append(ids.size)
        return plain_at_risk(ids, *rest)

    with monkeypatch.context() as patch:
        patch.setattr(youth_programs, "SCORE_EVERYONE", 0.0)
        patch.setattr(youth_programs, "_at_risk", counted)
        _assert_same_run(default, _run_state(*run), "SCORE_EVERYONE=0")
    assert sizes.count(run[1]) > 0, sizes  # the path was taken (everyone: a call on all the run's residents)


# ---------------------------------------------------------------------------------------------
# gangs: a handful of gangs worked out in Python floats (gang pull, arms) or with a plain division (scarcity)


def _shuffled_gangs(m: SecurityModel, rng: np.random.Generator) -> None:
    """Random member counts (some gangs with none), control (some neighbourhoods held by nobody), incomes,
    references (zero and negative too), weapons and drug supply (some gangs short)."""
    gangs, k = m.gang_members.shape
    m.gang_members[:] = rng.integers(0, 30, (gangs, k)) * (rng.random((gangs, 1)) < 0.8)
    m.control = rng.random((gangs, k)) * (rng.random((gangs, k)) < 0.6) * rng.choice([0.0, 0.3, 1.0])
    m.cal.income_reference = rng.normal(50.0, 80.0, gangs) * (rng.random(gangs) < 0.8)
    for gang in m.gang_list:
        gang.income_memory = float(rng.normal(40.0, 100.0)) * (rng.random() < 0.9)
        gang.weapons = float(rng.integers(0, 400)) * float(rng.random())
        gang.supply_memory_kg = float(rng.random()) * gang.supply_reference_kg * 1.3 * (rng.random() < 0.7)
    if rng.random() < 0.3:  # the usual day: no gang short of drugs
        for gang in m.gang_list:
            gang.supply_memory_kg = 2.0 * gang.supply_reference_kg


def test_gang_pull_arms_and_scarcity_are_the_array_formulas() -> None:
    """model.gang_pull, economy.arms and rivalry.scarcity_pressure (Python floats and kernels) equal the array
    formulas they replaced (558525f), bit for bit, on random gangs."""
    from model.processes import economy, rivalry
    from model.processes.common import member_views

    m = _model(0, 5, gangs={"count": 5})
    rng = np.random.default_rng(17)
    for case in range(300):
        _shuffled_gangs(m, rng)
        counts = np.maximum(member_views(m).counts, 1)
        weight = np.add.reduce(m.control, axis=0)
        reference = m.cal.income_reference
        per_member = np.array([g.income_memory for g in m.gang_list]) / counts
        ratio = np.divide(per_member, reference, out=np.ones_like(per_member), where=reference > 0)
        pull = np.sqrt(np.minimum(np.maximum(ratio, 0.25), 4.0))
        plain_pull = np.divide(pull @ m.control, weight, out=np.ones_like(weight), where=weight > 0)
        assert _bits(m.gang_pull()) == _bits(plain_pull), case
        wpm = np.array([g.weapons for g in m.gang_list]) / counts
        plain_arms = 0.5 + 0.5 * wpm / max(m.scenario.gangs.weapons_per_member, 1e-9)
        assert _bits(economy.arms(m)) == _bits(plain_arms), case
        held = np.array([g.scarcity for g in m.gang_list]) @ m.control
        mean = np.divide(held, weight, out=np.zeros_like(weight), where=weight > 0)
        plain_scarcity = 1.0 + m.scenario.gangs.scarcity_violence * mean
        assert _bits(rivalry.scarcity_pressure(m)) == _bits(plain_scarcity), case


@pytest.mark.parametrize("day", [-400, -1, 0, 1, 364, 365, 3000])
def test_age_of_one_person_is_population_age(day: int) -> None:
    """The few-events paths of crime, enforcement and recruitment read ages through Population.age_of."""
    people = _model(0, 0).people
    ids = np.arange(people.size)
    expected = people.age(ids, day)
    assert [people.age_of(i, day) for i in ids.tolist()] == expected.tolist()


@pytest.mark.parametrize("step_days", [1.0, 365 / 52, 365 / 12, 0.5])
def test_one_case_is_due_when_the_array_draw_says(step_days: float) -> None:
    """enforcement.due_steps: one case's scalar draw gives the step the array draw gives its first case."""
    from model.processes.enforcement import due_steps

    setup = np.random.default_rng(12)
    for case in range(2000):
        mean = float(setup.choice([0.01, 0.4, 3.0, 60.0, 400.0]) * setup.random())
        t = int(setup.integers(-400, 2000))
        one_rng, many_rng = _twins(case)
        one = due_steps(one_rng, t, np.array([mean]), step_days)
        many = due_steps(many_rng, t, np.array([mean, 1.0]), step_days)
        assert one.dtype == many.dtype == np.int64 and one[0] == many[0], (case, mean, t)
        one_rng.exponential(1.0)  # the array's second case: then both generators have drawn the same
        assert one_rng.bit_generator.state == many_rng.bit_generator.state, case


def test_reports_are_the_report_probability_of_each_victims_personal_trust() -> None:
    """reporting.step (its kernels, for any number of incidents): incident i is reported when the step's uniform
    u_i < report_probability(type, place, the victim's personal_trust), and the tally gains every homicide and the
    reported incidents of each type where they happened; the generator draws n uniforms."""
    from model.state import HOMICIDE

    m = _model(7, 30, interventions=[{"type": "community_policing"}])
    setup = np.random.default_rng(14)
    people, inc, n_people, k = m.people, m.incidents, m.people.size, m.world.n_neighbourhoods
    for case in range(300):
        n = [1, 2, 17, int(setup.integers(1, 400))][case % 4]
        victims = setup.integers(0, n_people, n)
        if case % 7 == 0:
            victims[0] = -1  # (a victim not found reads the last row)
        shocked = setup.random(n) < [0.0, 0.3, 1.0][case % 3]
        people.trust_shock[victims] = np.where(shocked, setup.normal(0.0, 0.6, n), -0.0 if case % 5 == 0 else 0.0)
        people.trust_time[victims] = m.t - setup.integers(-3 if case % 11 == 0 else 0, 400, n)
        m.hood.trust_level[:] = setup.uniform(-0.3, 1.3, k) if case % 2 else setup.random(k)
        kind, hood = setup.integers(0, 4, n).astype(np.int8), setup.integers(0, k, n)
        inc.kind, inc.hood, inc.victim, inc.gang = kind.copy(), hood.copy(), victims.copy(), np.full(n, -1, np.int8)
        inc.reported, inc.arrested = np.zeros(n, bool), np.zeros(n, bool)
        chance = reporting.report_probability(m, kind, hood, m.personal_trust(victims, hood))
        expected_tally = np.zeros_like(m.tally.block)
        m.tally.block.fill(0.0)
        rng, copy = _twins(case)
        reporting.step(m, rng)
        reported = copy.random(n) < chance
        assert inc.reported.dtype == bool and np.array_equal(inc.reported, reported), case
        np.add.at(expected_tally, (reporting.HOMICIDES_ROW, hood[kind == HOMICIDE]), 1.0)
        np.add.at(expected_tally, (reporting.REPORTED_ROWS[kind[reported]], hood[reported]), 1.0)
        rows = [reporting.HOMICIDES_ROW, *reporting.REPORTED_ROWS]
        assert m.tally.block[rows].tobytes() == expected_tally[rows].tobytes(), case
