"""Reproducibility and common random numbers.

The same seed must give the same tables bit for bit; a programme at zero intensity must leave a
run bit-identical to its baseline; switching a programme on must not shift the draws of anything
else (the world, the people, the gangs, the police, and every step before the programme starts).
Without these, differences between scenarios would be noise, not effects.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
import simkit

from model import run
from model.interventions import REGISTRY
from model.model import SecurityModel
from model.rng import Streams, stream_key

PROGRAMMES = sorted(REGISTRY)
CITY = dict(residents=3000, neighbourhoods=8)


def _scenario(years: float = 0.25, interventions: list[dict] | None = None, **fields):
    return simkit.scenario(CITY["residents"], CITY["neighbourhoods"], years=years,
                           gangs={"members_per_100k": 1500}, interventions=interventions or [], **fields)


def assert_same_tables(a, b) -> None:
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(a.neighbourhoods, b.neighbourhoods, check_exact=True)


@pytest.fixture(scope="module")
def baseline():
    """The baseline run every zero-intensity run is compared with (seed 5)."""
    return run(_scenario(), seed=5)


def test_nine_programmes_are_registered():
    assert len(PROGRAMMES) == 9


def test_same_seed_gives_identical_tables():
    sc = _scenario(interventions=[{"type": name} for name in PROGRAMMES])
    a, b = run(sc, seed=11), run(sc, seed=11)
    assert_same_tables(a, b)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    assert a.manifest["scenario_hash"] == b.manifest["scenario_hash"]


def test_different_seeds_give_different_runs():
    sc = _scenario()
    a, b = run(sc, seed=1), run(sc, seed=2)
    assert not a.timeseries["robberies"].equals(b.timeseries["robberies"])
    assert not a.neighbourhoods["residents"].equals(b.neighbourhoods["residents"])  # a different city
    assert (a.timeseries["seed"] == 1).all() and (b.timeseries["seed"] == 2).all()


def test_the_scenario_seed_is_used_when_no_seed_is_given():
    a = run(_scenario(seed=8))
    b = run(_scenario(), seed=8)
    assert_same_tables(a, b)


@pytest.mark.parametrize("name", PROGRAMMES)
def test_zero_intensity_is_bit_identical_to_the_baseline(name: str, baseline):
    zero = run(_scenario(interventions=[{"type": name, "intensity": 0.0}]), seed=5)
    assert_same_tables(baseline, zero)
    # and the comparison is not vacuous: at full intensity the programme changes the run (over a year:
    # in this small city a quarter can pass without the event a programme acts on, e.g. a gang exit)
    reference = run(_scenario(years=1.0), seed=5)
    full = run(_scenario(years=1.0, interventions=[{"type": name, "intensity": 1.0}]), seed=5)
    changed = [c for c in reference.timeseries.columns
               if c not in ("cost_usd", "enrolments", "youth_enrolled")
               and not reference.timeseries[c].equals(full.timeseries[c])]
    assert changed, f"{name} at intensity 1 changed nothing but its cost"


def _construction(m: SecurityModel) -> dict[str, np.ndarray]:
    """Everything built before the programmes are bound: world, people, gangs, police, custody."""
    w, p = m.world, m.people
    parts = {
        "residents": w.residents, "position": w.position, "disadvantage": w.disadvantage,
        "efficacy": w.collective_efficacy, "commerce": w.commerce, "adjacency": w.adjacency.toarray(),
        "route_cost": w.network.path_cost, "base_seizure": w.network.base_seizure,
        "gang_members": m.gang_members, "control": m.control, "unit_corrupt": m.police.unit_corrupt,
        "unit_hood": m.police.unit_hood, "case_person": m.justice.case_person,
        "prison_person": m.justice.prison_person, "prison_release": m.justice.prison_release,
        "calibration": np.array(list(m.cal.as_dict().values())),
    }
    for name in ("home", "age0", "birthday", "risk", "status", "gang", "peers"):
        parts[f"people.{name}"] = getattr(p, name)
    return parts


def test_adding_programmes_does_not_change_the_city_that_is_built():
    base = SecurityModel(_scenario(), seed=9)
    every = SecurityModel(_scenario(interventions=[{"type": name} for name in PROGRAMMES]), seed=9)
    a, b = _construction(base), _construction(every)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("name", PROGRAMMES)
def test_a_programme_leaves_every_step_before_its_start_identical(name: str):
    """Common random numbers: the programme's stream is its own, so until it starts nothing moves."""
    start = 0.1
    base = SecurityModel(_scenario(years=0.2), seed=3)
    prog = SecurityModel(_scenario(years=0.2, interventions=[{"type": name, "start_year": start}]), seed=3)
    before = int(round(start * base.steps_per_year))
    base.run(before)
    prog.run(before)
    np.testing.assert_array_equal(base.recorder.city[:before], prog.recorder.city[:before])
    np.testing.assert_array_equal(base.people.gang, prog.people.gang)
    np.testing.assert_array_equal(base.people.status, prog.people.status)
    # the programme's own draws come from its own named stream
    assert all(not s.startswith("programme:") or s.startswith(f"programme:{name}:") for s in prog.streams.names())


def test_streams_do_not_depend_on_which_others_were_drawn_first():
    a = Streams(42)
    a.get("world").random(1000)
    a.get("programme:youth_programs:0").random(50)
    b = Streams(42)
    np.testing.assert_array_equal(a.get("crime").random(5), b.get("crime").random(5))
    assert not np.array_equal(Streams(42).get("crime").random(5), Streams(42).get("recruitment").random(5))
    assert not np.array_equal(Streams(42).get("crime").random(5), Streams(43).get("crime").random(5))
    assert stream_key("crime") == stream_key("crime") != stream_key("Crime")


def test_runs_ignore_and_leave_alone_the_global_random_state():
    sc = _scenario(years=0.1, interventions=[{"type": name} for name in PROGRAMMES])
    np.random.seed(1)
    random.seed(1)
    legacy, stdlib = np.random.get_state(), random.getstate()
    a = run(sc, seed=4)
    after_np, after_std = np.random.get_state(), random.getstate()
    assert legacy[0] == after_np[0] and np.array_equal(legacy[1], after_np[1]) and legacy[2:] == after_np[2:]
    assert stdlib == after_std
    np.random.seed(999)
    random.seed(999)
    b = run(sc, seed=4)
    assert_same_tables(a, b)


def test_spin_up_is_reproducible_and_programme_free():
    """The spin-up before t = 0 runs without programmes: with or without them, and run twice,
    the city at the start of the recorded run is the same."""
    every = [{"type": name} for name in PROGRAMMES]
    runs = [SecurityModel(_scenario(spin_up_years=0.2, interventions=i), seed=6) for i in ([], every, every)]
    assert all(m.t == 0 for m in runs)
    first = _construction(runs[0])
    for m in runs[1:]:
        other = _construction(m)
        for name in first:
            np.testing.assert_array_equal(first[name], other[name], err_msg=name)
        np.testing.assert_array_equal(runs[0].hood.trust_shock_sum, m.hood.trust_shock_sum)
        np.testing.assert_array_equal(runs[0].control, m.control)
    # and the spin-up did something: people were victimised before the start
    assert runs[0].people.victimisations.sum() > 0


@pytest.mark.parametrize("name", PROGRAMMES)
def test_an_active_programme_draws_only_from_its_own_stream(name: str):
    """Delivery may draw random numbers only from the programme's named stream: not from a
    process's stream, nor from Mesa's shared ``model.random``."""
    m = SecurityModel(_scenario(interventions=[{"type": name}]), seed=2)
    seen: list[str] = []
    original = m.streams.get

    def spy(stream: str) -> np.random.Generator:
        seen.append(stream)
        return original(stream)

    m.streams.get = spy  # type: ignore[method-assign]
    shared = m.random.getstate()
    for _ in range(3):
        m.begin_step()
        m.deliver_programmes()
        m.t += 1
    assert set(seen) <= {f"programme:{name}:0"}, seen
    assert m.random.getstate() == shared
