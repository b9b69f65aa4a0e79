"""Compiled kernels (model.compiled) give the numbers their Python text gives, and load wherever the model runs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from simkit import HAS_NUMBA

from model import compiled
from model.compiled import kernel

# A run of the full programme package (displacement levers on, so every branch of crime's kernel runs) and of
# the baseline, printing whether kernels were compiled, a hash of the city table and of the neighbourhood sums,
# and hashes of expected street crime without levers and with displacement (paths the step itself does not take).
_RUN = """
import hashlib, sys
from model import compiled
from model.model import SecurityModel
from model.processes import crime
from model.scenario import load_scenario
out = [str(compiled.compiled())]
for name in ("carsi_package", "baseline"):
    sc = load_scenario(f"scenarios/{name}.yaml", overrides=["city.residents=6000", "spin_up_years=0.2"])
    m = SecurityModel(sc, seed=5)
    m.run(90)
    digest = hashlib.sha256(m.recorder.city.tobytes() + m.recorder.hood_sum.tobytes())
    for with_levers, displace in ((False, False), (True, True)):
        for rates in crime.expected_street_crime(m, with_levers, displace).values():
            digest.update(rates.tobytes())
    out.append(digest.hexdigest())
print(" ".join(out))
"""


def _run(python_kernels: bool, root) -> list[str]:
    env = {**os.environ, "SAFESTREETS_PYTHON_KERNELS": "1" if python_kernels else ""}
    out = subprocess.run([sys.executable, "-c", _RUN], capture_output=True, text=True, env=env, cwd=root, check=True)
    return out.stdout.split()


def test_runs_with_compiled_kernels_equal_runs_with_python_kernels_bit_for_bit(repo_root):
    """numba compiles the kernels' arithmetic as Python evaluates it: every output of two scenario runs agrees."""
    fast, slow = _run(False, repo_root), _run(True, repo_root)
    assert fast[0] == str(HAS_NUMBA) and slow[0] == "False"
    assert fast[1:] == slow[1:]


@kernel
def _ratio_and_clip(a, b, low, out):
    for i in range(out.size):
        out[i] = max(a[i] / b[i] * 3.0 - 0.1 * a[i], low)
    return out


def test_a_kernel_keeps_ieee_arithmetic_division_by_zero_included():
    """Elementwise the same bits as numpy's expression, inf and nan where numpy gives them (no exception)."""
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=500), rng.normal(size=500)
    b[:5] = 0.0
    a[:2] = 0.0  # 0 / 0: nan
    got = _ratio_and_clip(a, b, -2.0, np.empty(500))
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.maximum(a / b * 3.0 - 0.1 * a, -2.0)
        assert np.isnan(want[:2]).all() and np.isinf(a[2:5] / b[2:5]).all()  # the cases the test is about
    assert got.tobytes() == want.tobytes()
    assert _ratio_and_clip.python is not _ratio_and_clip


def test_python_kernels_on_request(monkeypatch):
    monkeypatch.setenv("SAFESTREETS_PYTHON_KERNELS", "1")
    assert compiled.compiled() is False

    def add_one(x):
        return x + 1

    assert compiled._compile(add_one) is add_one


def test_without_numba_a_kernel_is_its_python_function(monkeypatch):
    monkeypatch.delenv("SAFESTREETS_PYTHON_KERNELS", raising=False)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError

    def add_one(x):
        return x + 1

    assert compiled._compile(add_one) is add_one
    assert compiled.compiled() is False


def test_kernels_compile_without_a_cache_where_none_can_be_written(monkeypatch):
    """numba refuses ``cache=True`` where no cache directory is writable: the kernel (and model.draws' loops, which
    use the same ``compiled.jit``) is compiled without it."""
    numba = pytest.importorskip("numba")
    monkeypatch.delenv("SAFESTREETS_PYTHON_KERNELS", raising=False)
    real_njit = numba.njit

    def njit(*args, **options):
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'f': no locator available for file '<here>'")
        return real_njit(*args, **options)

    monkeypatch.setattr(numba, "njit", njit)

    def add_one(x):
        return x + 1

    made = compiled._compile(add_one)
    assert made.py_func is add_one and made(41) == 42


@kernel
def _numpy_clips(x, c, out):
    for i in range(x.size):
        out[0, i] = c if x[i] <= c else x[i]  # np.maximum(x, c)
        out[1, i] = c if x[i] >= c else x[i]  # np.minimum(x, c)
    return out


@kernel
def _numpy_max_min(a, b, out):
    for i in range(a.size):
        out[0, i] = a[i] if a[i] > b[i] or a[i] != a[i] else b[i]  # np.maximum(a, b)
        out[1, i] = a[i] if a[i] < b[i] or a[i] != a[i] else b[i]  # np.minimum(a, b)
    return out


@pytest.mark.parametrize("run", ["compiled", "python"])
def test_the_documented_clips_are_numpys_signed_zeros_and_nan_included(run):
    """model.compiled's docstring gives the forms of np.maximum/np.minimum a kernel uses (Python's max and min
    differ from numpy's where the two numbers are equal, -0.0 and 0.0, or one is NaN): check them."""
    special = np.array([-0.0, 0.0, np.nan, -1.0, 1.0, np.inf, -np.inf, 2.5])
    a, b = np.repeat(special, special.size), np.tile(special, special.size)
    clips = _numpy_clips if run == "compiled" else _numpy_clips.python
    max_min = _numpy_max_min if run == "compiled" else _numpy_max_min.python
    for c in (0.0, -0.0, 1.0):
        got = clips(a, c, np.empty((2, a.size)))
        assert got[0].tobytes() == np.maximum(a, c).tobytes() and got[1].tobytes() == np.minimum(a, c).tobytes()
    got = max_min(a, b, np.empty((2, a.size)))
    assert got[0].tobytes() == np.maximum(a, b).tobytes() and got[1].tobytes() == np.minimum(a, b).tobytes()


@pytest.mark.parametrize("run", ["compiled", "python"])
def test_sums_over_gangs_are_numpys_one_neighbourhood_and_many_gangs_included(run):
    """The kernels' sums over gangs give numpy's reductions down axis 0 bit for bit: elementwise row after row
    for several neighbourhoods, and pairwise (numpy's eight partial sums) for the contiguous column of a city of
    one neighbourhood with 8 or more gangs (the scenario allows up to 12)."""
    from model import model as model_module
    from model.processes import economy, rivalry

    def pick(k):
        return k if run == "compiled" else k.python

    rng = np.random.default_rng(21)
    for case in range(400):
        gangs, k = int(rng.integers(1, 13)), [1, 1, 2, 5][case % 4]
        control = rng.random((gangs, k)) * rng.lognormal(-2.0, 1.0, (gangs, 1))
        weight = np.add.reduce(control, axis=0)
        views = np.empty((2, k))
        pick(model_module._held_control)(control, views)
        assert views[0].tobytes() == weight.tobytes(), case
        terms = np.empty((3, k))
        ones = np.ones(k)
        pick(rivalry._attack_terms)(control, weight, weight, False, 0.0, 1.0, ones, ones, ones, 1.0, 0.0, ones, terms)
        assert terms[0].tobytes() == (weight**2 - np.add.reduce(control**2, axis=0)).tobytes(), case
        near, weapons = rng.random((gangs, k)) * 50.0, rng.random(gangs) * 40.0
        counts = rng.integers(0, 30, gangs)
        arms, strength, resistance, target = np.empty(gangs), np.empty((gangs, k)), np.empty(k), np.empty((gangs, k))
        residents, police, efficacy = rng.random(k) * 1e4, rng.random(k), rng.random(k)
        pick(economy._territory)(near, weapons, counts, 1.0, 0.7, residents, 0.2, police, efficacy, 1.3, 0.0, False,
                                 arms, strength, resistance, target, control.copy())
        want = strength / (np.add.reduce(strength, axis=0) + resistance + 1e-12)
        assert target.tobytes() == want.tobytes(), case
