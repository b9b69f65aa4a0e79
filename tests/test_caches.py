"""Caches, views and fast paths kept between calls or steps give the answers of the plain code.

Situations the fingerprint scenarios do not cover: a model copied or pickled mid-run, non-finite
values spread over the map, a request without a block, many parameter values in one process,
a caller changing an array a model method returned, two models stepped side by side.
"""

from __future__ import annotations

import copy
import gc
import pickle
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from model import population
from model.model import SecurityModel
from model.population import sample_in_blocks
from model.processes import crime
from model.processes.common import member_views
from model.scenario import Scenario


def _scenario(k: int = 8, n: int = 4000, years: float = 0.12, **extra) -> Scenario:
    return Scenario(city={"residents": n, "neighbourhoods": k}, years=years, spin_up_years=0, **extra)


PATROL = [{"type": "hotspot_patrol", "target": {"top_k": 3}, "retarget_days": 3}]


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_model_copied_mid_run_goes_on_exactly_as_the_original(how: str) -> None:
    """Tally rows, lever rows and recent memories are views of one block each; a copy must keep them so
    (numpy copies each view on its own: reset would clear the block, not the rows processes use)."""
    original = SecurityModel(_scenario(interventions=PATROL), seed=1)
    original.run(10)
    twin = copy.deepcopy(original) if how == "deepcopy" else pickle.loads(pickle.dumps(original))
    assert np.shares_memory(twin.tally.hood["homicides"], twin.tally.block)
    assert np.shares_memory(twin.levers.tips, twin.levers.multipliers)
    assert np.shares_memory(twin.levers.vetting, twin.levers.additions)
    assert np.shares_memory(twin.hood.recent["robberies"], twin.hood.recent.block)
    assert not np.shares_memory(twin.hood.recent.block, original.hood.recent.block)
    original.run(20)
    twin.run(20)
    assert np.array_equal(original.recorder.city[:30], twin.recorder.city[:30], equal_nan=True)


def test_spreading_a_non_finite_value_reaches_only_the_neighbours() -> None:
    """World.spread claims the sparse product bit for bit; padded slots (weight 0 times the value
    of neighbourhood 0) turn an inf there into NaN in every neighbourhood with fewer links."""
    world = SecurityModel(_scenario(k=10), seed=1).world
    values = np.zeros(world.n_neighbourhoods)
    values[0] = np.inf
    expected = world.adjacency.T.tocsr() @ values
    with np.errstate(invalid="ignore"):
        got = world.spread(values)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("accept", [None, lambda ids: ids % 2 == 0])
@pytest.mark.parametrize("hoods", [[-1], [-1, 0]])
def test_an_entry_without_a_block_gets_nobody(hoods: list[int], accept) -> None:
    """A negative neighbourhood id has no block: -1 (as before the fast paths), never a row past the end."""
    block_start = np.array([0, 5, 9, 14], np.int64)
    out = sample_in_blocks(np.random.default_rng(0), block_start, np.array(hoods), accept)
    assert out[0] == -1
    assert ((out == -1) | (out < block_start[-1])).all()


def test_victim_weight_tables_do_not_pile_up_over_many_parameter_values() -> None:
    """A sweep runs many values of repeat_victimisation in one worker: the module-level tables
    must stay bounded (16 KB each, one per value ever seen)."""
    saved = dict(crime._victim_weights)
    try:
        for i in range(500):
            fake = SimpleNamespace(scenario=SimpleNamespace(crime=SimpleNamespace(repeat_victimisation=0.1 + i * 1e-4)))
            crime._victim_weights_for(fake)
        assert len(crime._victim_weights) <= 128
    finally:
        crime._victim_weights.clear()
        crime._victim_weights.update(saved)


@pytest.mark.parametrize("method", ["deterrence", "certainty_ratio", "presence", "control_held", "fear", "trust",
                                    "activity", "gun_factor"])
def test_an_array_a_model_method_returned_is_not_its_cache(method: str) -> None:
    """Before the cache each call returned a new array; changing one must not change the model."""
    m = SecurityModel(_scenario(), seed=2)
    m.run(3)
    before = getattr(m, method)().copy()
    try:
        returned = getattr(m, method)()
        returned *= 0.0
    except ValueError:  # a read-only array is fine: the cache cannot be changed by accident
        pass
    np.testing.assert_array_equal(getattr(m, method)(), before)


# ---- guards for what is fine now -------------------------------------------------------------
def test_models_stepped_side_by_side_match_models_run_alone() -> None:
    """The dashboard steps two cities in turn in one process: no module-level cache may mix them up."""
    _assert_stepped_in_turn_as_alone([_scenario(interventions=PATROL), _scenario(),
                                      _scenario(k=15, n=6000, interventions=[{"type": "youth_programs"}])])


def _assert_stepped_in_turn_as_alone(specs: list[Scenario], seed: int = 5) -> list[np.ndarray]:
    """Models of ``specs`` stepped in turn end with the city tables they have when run alone (returned)."""
    alone = [SecurityModel(s, seed=seed).run().recorder.city.copy() for s in specs]
    together = [SecurityModel(s, seed=seed) for s in specs]
    while any(m.running for m in together):
        for m in together:
            if m.running:
                m.step()
    for a, m in zip(alone, together, strict=True):
        assert np.array_equal(a, m.recorder.city, equal_nan=True)
    return alone


YOUTH = [{"type": "youth_programs"}]


def test_models_of_one_city_with_different_levers_stepped_in_turn_match_models_run_alone() -> None:
    """The same city with and without a youth programme (different enrolled offending, so different offender
    terms in crime) and with a patrol (different guardians), stepped in turn: each must get its own kept
    terms, never those the other model left behind."""
    alone = _assert_stepped_in_turn_as_alone([_scenario(interventions=YOUTH), _scenario(),
                                              _scenario(interventions=PATROL + YOUTH)])
    assert not np.array_equal(alone[0], alone[1], equal_nan=True)  # the levers do make a difference


def test_models_run_in_threads_match_models_run_alone() -> None:
    """Dask with threads runs models at once in one process: no kept term may pass from one to another."""
    specs = [_scenario(interventions=YOUTH), _scenario(), _scenario(k=15, n=6000, interventions=PATROL)]
    alone = [SecurityModel(s, seed=7).run().recorder.city.copy() for s in specs]
    models = [SecurityModel(s, seed=7) for s in specs]
    threads = [threading.Thread(target=m.run) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, m in zip(alone, models, strict=True):
        assert np.array_equal(a, m.recorder.city, equal_nan=True)


def test_terms_kept_for_a_model_are_its_own_and_go_with_what_they_describe() -> None:
    """A copy works its crime terms out afresh (equal values, its own arrays); block sizes kept for a
    block_start array are dropped when the array is freed, so no entry outlives its population."""
    original = SecurityModel(_scenario(interventions=YOUTH), seed=1)
    original.run(3)
    twin = copy.deepcopy(original)
    for kept in (crime._fixed, lambda m: crime._current(m)[4]):  # census terms, offender terms
        mine, theirs = kept(twin), kept(original)
        assert all(a is not b for a, b in zip(mine, theirs, strict=True))
        for a, b in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
    block_start = np.array([0, 3, 3, 7], np.int64)
    key = id(block_start)
    sample_in_blocks(np.random.default_rng(0), block_start, np.array([0, 2]))
    assert population._block_sizes_kept[key][0]() is block_start
    del block_start
    gc.collect()
    assert key not in population._block_sizes_kept


def test_member_views_follow_counts_changed_in_place() -> None:
    m = SecurityModel(_scenario(gangs={"count": 2}), seed=3)
    first = member_views(m)
    by_hood = first.by_hood.copy()
    m.gang_members[0, 0] += 7
    assert member_views(m) is not first
    assert member_views(m).by_hood[0] == by_hood[0] + 7
    assert first.by_hood[0] == by_hood[0]  # views already handed out keep describing the old counts


def test_presence_follows_control_changed_in_place_or_replaced() -> None:
    """Presence is kept until the control's contents change: in place (economy) or replaced (calibration)."""
    m = SecurityModel(_scenario(gangs={"count": 2}), seed=3)
    m.run(2)
    before = m.presence().copy()
    m.control[:, 0] = 0.7  # two gangs at 0.7: 1.4 held, clipped to 1
    assert m.control_held()[0] == pytest.approx(1.4) and m.presence()[0] == 1.0
    np.testing.assert_array_equal(m.presence()[1:], before[1:])
    m.control = np.zeros_like(m.control)
    assert not m.presence().any() and not m.control_held().any()


def test_moods_follow_levels_and_shocks_changed_in_place_or_replaced() -> None:
    """Fear, trust and activity are kept until a level or shock sum changes: in place or replaced (census)."""
    m = SecurityModel(_scenario(), seed=3)
    m.run(2)
    fear, trust = m.fear().copy(), m.trust().copy()
    m.hood.fear_level[0] = 0.9
    m.hood.trust_shock_sum = m.hood.trust_shock_sum - 1e9  # replaced: trust falls to 0 everywhere
    assert m.fear()[0] == pytest.approx(min(0.9 + m.hood.fear_shock_sum[0] / m.residents[0], 1.0))
    np.testing.assert_array_equal(m.fear()[1:], fear[1:])
    assert not m.trust().any() and trust.any()
    elasticity = m.scenario.perception.activity_fear_elasticity
    np.testing.assert_array_equal(m.activity(), 1.0 - elasticity * m.fear())


def test_court_chances_follow_the_court_levers_changed_in_place() -> None:
    m = SecurityModel(_scenario(interventions=[{"type": "rule_of_law"}]), seed=3)
    m.run(2)
    before = m.instant_certainty()
    m.levers.conviction[1] = 0.0  # no conviction in neighbourhood 1
    after = m.instant_certainty()
    assert after[1] == 0.0 < before[1]
    np.testing.assert_array_equal(np.delete(after, 1), np.delete(before, 1))


def test_gun_factor_follows_weapons_members_and_control() -> None:
    m = SecurityModel(_scenario(gangs={"count": 2}), seed=3)
    m.run(2)
    first = m.gun_factor().copy()
    m.gang_list[0].weapons *= 2.0
    armed = m.gun_factor().copy()
    assert (armed >= first).all() and (armed > first).any()
    m.gang_members[0] *= 2  # as many guns shared by twice the members
    assert not np.array_equal(m.gun_factor(), armed)
    m.control[:] = 0.0  # nobody holds anything: street guns only
    assert np.allclose(m.gun_factor(), 0.3 * m.scenario.gangs.weapons_per_member / m._gun_reference)


def test_a_recent_memory_assigned_by_name_stays_a_row_of_its_block() -> None:
    """Calibration assigns recent memories by name; decaying the block must still reach them."""
    m = SecurityModel(_scenario(), seed=3)
    m.hood.recent["robberies"] = np.full(m.world.n_neighbourhoods, 10.0)
    m.hood.recent.block *= 0.5
    assert (m.hood.recent["robberies"] == 5.0).all()


def test_certainty_follows_a_replaced_reporting_base() -> None:
    """A sensitivity study may replace a calibrated array: the kept type columns must follow it."""
    m = SecurityModel(_scenario(), seed=3)
    m.run(2)
    before = m.instant_certainty()
    m.cal.report_base = m.cal.report_base * 0.5
    assert (m.instant_certainty() < before).any()


def test_residents_cannot_be_changed_in_place() -> None:
    """Terms made from residents are kept by identity: an in-place change must fail loudly."""
    m = SecurityModel(_scenario(), seed=3)
    for residents in (m.residents, m.world.residents):
        with pytest.raises(ValueError):
            residents[0] = 1


def test_models_run_one_after_another_are_freed() -> None:
    """A worker that runs model after model must not keep them all (Mesa 3.3 holds every model it
    has seen in Agent._ids unless the model is released: the API and the runner release theirs)."""
    import gc
    import weakref

    from model.api import run
    from model.dashboard.choices import Settings
    from model.dashboard.comparison import Comparison

    built: list[weakref.ref] = []
    original_init = SecurityModel.__init__

    def spy(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        original_init(self, *args, **kwargs)
        built.append(weakref.ref(self))

    SecurityModel.__init__ = spy
    try:
        for seed in range(3):
            run(_scenario(years=0.02), seed=seed)
        pair = Comparison(Settings("baseline.yaml", size="small"))
        del pair
    finally:
        SecurityModel.__init__ = original_init
    gc.collect()
    assert len(built) == 5
    assert [ref() for ref in built] == [None] * 5
