"""The population arrays and the block sampler every process draws people with.

``sample_in_blocks`` is the one way processes pick victims, recruits, suspects and witnesses, so a
mistake here (a draw outside the neighbourhood, ignored eligibility, wrong thinning weights) would
bias every outcome. These tests check it on hand-made blocks with known answers.
"""

from __future__ import annotations

import numpy as np
import pytest
import simkit

from model.population import Population, Status, build_population, sample_among, sample_in_blocks

BLOCKS = np.array([0, 10, 10, 250, 1000, 1003], dtype=np.int64)  # block 1 is empty


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_every_draw_lies_in_its_own_block():
    hoods = np.array([0, 2, 3, 4, 2, 0, 3, 4] * 500)
    ids = sample_in_blocks(rng(1), BLOCKS, hoods)
    assert (ids >= BLOCKS[hoods]).all() and (ids < BLOCKS[hoods + 1]).all()


def test_empty_block_and_empty_request_give_minus_one_and_nothing():
    assert (sample_in_blocks(rng(), BLOCKS, np.array([1, 1])) == -1).all()
    assert sample_in_blocks(rng(), BLOCKS, np.array([], dtype=np.int64)).size == 0


def test_unweighted_draws_are_uniform_within_a_block():
    hoods = np.full(30_000, 0)
    ids = sample_in_blocks(rng(2), BLOCKS, hoods)
    counts = np.bincount(ids, minlength=10)
    expected = hoods.size / 10
    # each cell is binomial(30000, 0.1): sd ~ 52; 5 sd leaves no room for a biased sampler
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected * 0.9)


def test_boolean_acceptance_returns_only_eligible_people():
    eligible = np.zeros(BLOCKS[-1], bool)
    eligible[10:250:7] = True  # sparse in block 2
    eligible[250:1000] = True

    def accept(ids: np.ndarray) -> np.ndarray:
        return eligible[ids]

    hoods = np.array([2, 3, 2, 3] * 400)
    ids = sample_in_blocks(rng(3), BLOCKS, hoods, accept)
    assert (ids >= 0).all()
    assert eligible[ids].all()
    assert ((ids >= BLOCKS[hoods]) & (ids < BLOCKS[hoods + 1])).all()


def test_block_with_nobody_eligible_gives_minus_one():
    ids = sample_in_blocks(rng(4), BLOCKS, np.array([0, 3, 0]), lambda ids: ids >= 250)
    assert ids[0] == -1 and ids[2] == -1
    assert 250 <= ids[1] < 1000


def test_a_single_eligible_person_is_found_by_the_exact_scan():
    """With one eligible person in 750 the oversampling rounds usually miss; the scan must not."""
    target = 777

    def accept(ids: np.ndarray) -> np.ndarray:
        return ids == target

    ids = sample_in_blocks(rng(5), BLOCKS, np.full(20, 3), accept, max_rounds=1)
    assert (ids == target).all()


def test_thinning_weights_set_the_odds_of_being_drawn():
    """Odd rows accept with 0.8, even rows with 0.2: odd rows should be drawn 4 times as often."""
    blocks = np.array([0, 1000], dtype=np.int64)

    def accept(ids: np.ndarray) -> np.ndarray:
        return np.where(ids % 2 == 1, 0.8, 0.2)

    ids = sample_in_blocks(rng(6), blocks, np.zeros(40_000, np.int64), accept)
    share_odd = float((ids % 2 == 1).mean())
    se = np.sqrt(0.8 * 0.2 / ids.size)
    assert abs(share_odd - 0.8) < 5 * se


def test_zero_weight_is_never_drawn_even_in_the_exact_scan():
    blocks = np.array([0, 50], dtype=np.int64)

    def accept(ids: np.ndarray) -> np.ndarray:
        return np.where(ids < 5, 1e-3, 0.0) + np.where(ids == 40, 1e-3, 0.0)

    ids = sample_in_blocks(rng(7), blocks, np.zeros(500, np.int64), accept, max_rounds=1)
    assert set(np.unique(ids)) <= {0, 1, 2, 3, 4, 40}


def test_a_request_for_one_person_obeys_the_same_rules():
    """One entry (and the last entry left of a batch) is drawn with scalars: blocks, eligibility, scan."""
    assert sample_in_blocks(rng(), BLOCKS, np.array([1]), lambda ids: ids >= 0).tolist() == [-1]  # empty block
    assert sample_in_blocks(rng(), BLOCKS, np.array([0]), lambda ids: ids >= 250).tolist() == [-1]  # nobody eligible
    for seed in range(20):
        one = sample_in_blocks(rng(seed), BLOCKS, np.array([3]), lambda ids: ids == 777, max_rounds=1)
        assert one.tolist() == [777] and one.dtype == np.int64  # found by the exact scan
        ids = sample_in_blocks(rng(seed), BLOCKS, np.array([2, 3]), lambda ids: ids % 50 == 0)
        assert (ids % 50 == 0).all() and BLOCKS[2] <= ids[0] < BLOCKS[3] and BLOCKS[3] <= ids[1] < BLOCKS[4]
    draws = np.array([sample_in_blocks(rng(seed), BLOCKS, np.array([3]), lambda ids: np.where(ids < 500, 0.9, 0.1))[0]
                      for seed in range(4000)])
    assert ((draws >= 250) & (draws < 1000)).all()
    share_low = float((draws < 500).mean())  # 250 rows at 0.9 against 500 rows at 0.1: 225 / 275
    assert abs(share_low - 225 / 275) < 5 * np.sqrt(0.18 * 0.82 / draws.size)


@pytest.mark.parametrize("seed", [1, 2])
def test_built_population_matches_the_city(seed: int):
    m = simkit.build(3000, 5, seed=seed)
    people, world = m.people, m.world
    assert people.size == world.residents.sum() == 3000
    # blocks are contiguous and sorted: person i lives in the block that contains row i
    assert (np.diff(people.home) >= 0).all()
    assert (np.bincount(people.home, minlength=5) == world.residents).all()
    assert (people.block_start == world.block_start).all()
    # friends live in the same neighbourhood
    assert (people.home[people.peers] == people.home[:, None]).all()
    assert (people.risk > 0).all() and (people.risk <= Population.RISK_CAP).all()
    # only the young are in school or work as youth; nobody is enrolled before a programme runs
    assert not people.has(np.arange(people.size), Status.ENROLLED).any()


def test_youth_share_and_schooling_follow_the_scenario():
    sc = simkit.scenario(20_000, 4, city={"youth_share": 0.3, "school_enrolment": 0.5, "youth_employment": 0.2})
    residents = np.full(4, 5000)
    people = build_population(sc, residents, np.full(4, 0.5), rng(8))
    youth = people.is_youth(np.arange(people.size), 0)
    assert abs(youth.mean() - 0.3) < 0.02
    school = people.has(np.flatnonzero(youth), Status.SCHOOL).mean()
    assert abs(school - 0.5) < 0.03  # at mean disadvantage the factor (1.3 - 0.6 * 0.5) is 1


def test_age_advances_with_birthdays():
    sc = simkit.scenario()
    people = build_population(sc, np.array([1000, 1000]), np.array([0.5, 0.5]), rng(9))
    ids = np.arange(people.size)
    assert (people.age(ids, 365) == people.age(ids, 0) + 1).all()
    older = people.age(ids, 200) - people.age(ids, 0)
    assert set(np.unique(older)) <= {0, 1}
    assert (older == 1).sum() > 0


def test_sample_among_a_list_draws_as_sample_in_blocks_among_the_listed():
    """Picking among a block's listed rows (a census's list of the few eligible) follows the same odds as
    drawing the block at random with the same acceptance, stays in each entry's block, never picks a row
    with no weight, and gives -1 where the list (or its acceptable part) is empty."""
    listed = np.array([3, 5, 8, 260, 261, 270, 990, 1001], dtype=np.int64)  # blocks 0, 3 and 4 (1 is empty)

    def accept(ids: np.ndarray) -> np.ndarray:
        on_list = np.isin(ids, listed) & (ids != 8)  # 8 is listed but no longer acceptable
        return on_list * np.where(ids % 2 == 1, 0.8, 0.2)

    entries = np.array([20_000, 3, 0, 20_000, 4])
    ids = sample_among(rng(8), listed, BLOCKS, entries, accept)
    block = np.repeat(np.arange(entries.size), entries)
    assert ids.size == entries.sum()
    assert (ids[block == 1] == -1).all()  # an empty block
    found = block != 1
    assert ((ids[found] >= BLOCKS[block[found]]) & (ids[found] < BLOCKS[block[found] + 1])).all()
    assert set(np.unique(ids[found]).tolist()) <= set(listed.tolist()) - {8}
    for hood in (0, 3):
        mine = ids[block == hood]
        reference = sample_in_blocks(rng(9), BLOCKS, np.full(mine.size, hood), accept)
        for row in np.unique(reference):  # each row's share the same, within 5 standard errors
            p = float((reference == row).mean())
            assert abs(float((mine == row).mean()) - p) < 5 * np.sqrt(2 * p * (1 - p) / mine.size)
    assert (sample_among(rng(), listed, BLOCKS, np.array([0, 2, 0, 0, 0]), accept) == -1).all()  # empty block
    nobody = np.array([8], dtype=np.int64)  # listed, but not acceptable now
    assert (sample_among(rng(), nobody, BLOCKS, np.array([2, 0, 0, 0, 0]), accept) == -1).all()
    assert sample_among(rng(), listed, BLOCKS, np.zeros(5, np.int64), accept).size == 0
