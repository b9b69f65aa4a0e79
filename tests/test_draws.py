"""model.draws makes exactly numpy's draws: the same numbers and the generator left in the same state."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from simkit import HAS_NUMBA

from model import draws

LAM_MAX = draws.POISSON_LAM_MAX


def _means(meta: np.random.Generator, size: int, large: bool) -> np.ndarray:
    lam = meta.uniform(0.0, 3.0, size) * (meta.random(size) > 0.15)  # some exact zeros: no draw is made
    if large:  # means of 10 and more take numpy's other algorithm (PTRS)
        lam[meta.random(size) < 0.3] = meta.uniform(10.0, 1e4)
    return lam


def test_the_compiled_loops_are_in_use():
    """With numba installed (a dependency), the draws take the compiled path: the fallback is for other platforms."""
    pytest.importorskip("numba")
    if os.environ.get("SAFESTREETS_NUMPY_DRAWS"):
        pytest.skip("SAFESTREETS_NUMPY_DRAWS asks for numpy's methods")
    assert draws.accelerated()


def test_loops_that_disagree_with_numpy_are_not_used(monkeypatch):
    """A numpy whose samplers changed would make the loops' numbers differ: then numpy's methods are used."""
    pytest.importorskip("numba")
    monkeypatch.delenv("SAFESTREETS_NUMPY_DRAWS", raising=False)
    monkeypatch.setattr(draws, "_agrees_with_numpy", lambda loops: False)
    with pytest.warns(RuntimeWarning, match="numpy's Generator methods"):
        assert draws._compile() is False


@pytest.mark.parametrize(("method", "args"), [
    ("poisson", (np.float64(2.5),)),  # a 0-d mean: numpy's scalar result
    ("poisson", (np.array(0.7),)),
    ("binomial", (np.array([3, 5, 7]), np.array([[0.1], [0.5], [0.9]]))),  # broadcast to 3 x 3
    ("binomial", (np.array([3, 5, 7]), np.array([[0.1, 0.5, 0.9]]))),  # a 1 x 3 result
    ("binomial", (np.array([3, 5, 7], dtype=np.int32), np.array([0.1, 0.5, 0.9]))),
    ("binomial", (5, np.array([0.1, 0.5]))),
])
def test_other_shapes_and_types_draw_as_numpy_does(method, args):
    ours, numpys = np.random.default_rng(11), np.random.default_rng(11)
    got, want = getattr(draws, method)(ours, *args), getattr(numpys, method)(*args)
    assert np.shape(got) == np.shape(want) and type(got) is type(want)
    np.testing.assert_array_equal(got, want)
    assert ours.bit_generator.state == numpys.bit_generator.state


@pytest.mark.parametrize("seed", range(60))
def test_poisson_is_numpys_poisson(seed):
    meta = np.random.default_rng(seed)
    ours, numpys = np.random.default_rng(seed + 1000), np.random.default_rng(seed + 1000)
    for call in range(4):  # consecutive calls, interleaved with numpy's own draws on the same generator
        lam = _means(meta, int(meta.integers(0, 80)), large=bool(seed % 2))
        if call == 3:
            lam = lam[: lam.size // 6 * 6].reshape(-1, 6)  # 2-D: drawn in C order, shaped like the means
        got, want = draws.poisson(ours, lam), numpys.poisson(lam)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        assert ours.bit_generator.state == numpys.bit_generator.state
        np.testing.assert_array_equal(ours.random(3), numpys.random(3))


@pytest.mark.parametrize("seed", range(60))
def test_binomial_is_numpys_binomial(seed):
    meta = np.random.default_rng(seed)
    ours, numpys = np.random.default_rng(seed + 2000), np.random.default_rng(seed + 2000)
    top = (5, 50, 1000, 10**6)[seed % 4]  # small n (inversion) and large n (BTPE)
    for _ in range(4):
        size = int(meta.integers(0, 80))
        n = meta.integers(0, top, size)
        p = meta.random(size)
        p[: min(size, 3)] = [0.0, 1.0, 0.5][: min(size, 3)]
        for probability in (p, 0.3, p[:1] if size else 0.7):
            if np.ndim(probability) and probability.size not in (1, size):
                continue
            got, want = draws.binomial(ours, n, probability), numpys.binomial(n, probability)
            np.testing.assert_array_equal(got, want)
            assert got.dtype == want.dtype
            assert ours.bit_generator.state == numpys.bit_generator.state
    # the same (n, p) many times over: numpy keeps the sampler's set-up between calls, ours makes it anew
    n, p = np.full(40, 30), np.full(40, 0.2)
    for _ in range(3):
        np.testing.assert_array_equal(draws.binomial(ours, n, p), numpys.binomial(n, p))
    assert ours.bit_generator.state == numpys.bit_generator.state


@pytest.mark.parametrize(("method", "args"), [
    ("poisson", (np.array([1.0, -1.0]),)),
    ("poisson", (np.array([1.0, np.nan]),)),
    ("poisson", (np.array([2.0, LAM_MAX * 2]),)),
    ("poisson", (np.array([-1.0, 1e300]),)),  # both wrong: numpy names "too large" first
    ("poisson", (np.array([-1.0, np.nan]),)),
    ("binomial", (np.array([3, -1]), np.array([0.5, 0.5]))),
    ("binomial", (np.array([3, 3]), np.array([0.5, 1.5]))),
    ("binomial", (np.array([3, 3]), np.array([np.nan, 0.5]))),
    ("binomial", (np.array([-3, 3]), np.array([0.5, -0.5]))),  # both wrong: numpy names p first
])
def test_bad_arguments_raise_as_numpy_does_before_any_draw(method, args):
    ours, numpys = np.random.default_rng(7), np.random.default_rng(7)
    with pytest.raises(ValueError) as raised:
        getattr(draws, method)(ours, *args)
    with pytest.raises(ValueError) as expected:
        getattr(numpys, method)(*args)
    assert str(raised.value) == str(expected.value)
    assert ours.bit_generator.state == numpys.bit_generator.state == np.random.default_rng(7).bit_generator.state


def test_without_numba_the_generator_methods_draw_the_same():
    """SAFESTREETS_NUMPY_DRAWS=1 takes the fallback; a model run hashes the same either way."""
    code = ("import hashlib, numpy as np; from model import draws; from model.model import SecurityModel;"
            "from model.scenario import Scenario;"
            "m = SecurityModel(Scenario(city={'residents': 4000, 'neighbourhoods': 20}, spin_up_years=0.1), seed=3);"
            "m.run(60); print(draws.accelerated(), hashlib.sha256(m.recorder.city.tobytes()).hexdigest())")
    runs = {}
    for flag in ("", "1"):
        env = {**os.environ, "SAFESTREETS_NUMPY_DRAWS": flag}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        runs[flag] = out.stdout.split()
    assert runs["1"][0] == "False"
    assert runs[""][0] == str(HAS_NUMBA)  # the first run did take the compiled loops (where numba is installed)
    assert runs[""][1] == runs["1"][1]


@pytest.mark.parametrize("counts", [np.array([3.7, 2.2]), np.array([3, 5], dtype=np.uint64)])
def test_counts_numpy_refuses_are_refused_alike(counts):
    """Trial counts that are not whole numbers of a safe type: numpy's own refusal, not a silent truncation."""
    ours, numpys = np.random.default_rng(12), np.random.default_rng(12)
    with pytest.raises(TypeError) as raised:
        draws.binomial(ours, counts, 0.5)
    with pytest.raises(TypeError) as expected:
        numpys.binomial(counts, 0.5)
    assert str(raised.value) == str(expected.value)
