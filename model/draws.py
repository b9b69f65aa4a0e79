"""Poisson and binomial draws over arrays: numpy's own samplers without numpy's per-call overhead.

``Generator.poisson(lam)`` on an array of 60 neighbourhoods costs ~8 us, most of it argument checks
numpy runs at the Python level (``np.any`` over the array) before it draws; the draws themselves
cost ~1.5 us. A step makes about eight such calls, a noticeable share of a step in a small city.

:func:`poisson` and :func:`binomial` make the same draws as ``rng.poisson(lam)`` and
``rng.binomial(n, p)``: a numba-compiled loop calls the very C samplers numpy's Generator calls
(``random_poisson`` and ``random_binomial`` of numpy's random C API, which ``numpy.random._generator``
exports), element after element in C order, on the generator's own bit generator, holding its lock
as numpy does. So the numbers are numpy's and the generator is left in the same state; the checks
are made inside the loop, before any draw, with numpy's messages. ``tests/test_draws.py`` compares
both ways over many inputs, generator states included.

Where numba or the samplers cannot be had (another platform, a numpy without the exports), the
functions fall back to the Generator's methods: the same numbers, at numpy's speed.
``SAFESTREETS_NUMPY_DRAWS=1`` in the environment asks for the fallback.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

__all__ = ["accelerated", "binomial", "poisson"]

#: numpy's largest Poisson mean (numpy.random._common.POISSON_LAM_MAX)
POISSON_LAM_MAX = np.iinfo("l").max - np.sqrt(np.iinfo("l").max) * 10
_BINOMIAL_SETUP_DOUBLES = 17  # numpy's binomial_t (136 bytes), the binomial sampler's scratch

_kernels: tuple[Any, Any] | None | bool = None  # loaded on first use; False: not available


def _compile() -> tuple[Any, Any] | bool:
    """The two compiled loops (:mod:`model._draw_loops`), checked against numpy's methods, or False.

    False where numba or numpy's samplers cannot be had, or where the loops do not give numpy's numbers
    (a numpy whose samplers changed): a warning says so, and numpy's methods are used.
    """
    if os.environ.get("SAFESTREETS_NUMPY_DRAWS"):
        return False
    try:
        from model import _draw_loops

        loops = (_draw_loops.poisson_loop, _draw_loops.binomial_loop)
        if not _agrees_with_numpy(loops):
            raise RuntimeError("the compiled draws differ from numpy's")
    except ImportError:
        return False
    except Exception as error:  # noqa: BLE001 (any failure of the loops means: use numpy's methods)
        warnings.warn(f"model.draws: using numpy's Generator methods ({type(error).__name__}: {error})",
                      RuntimeWarning, stacklevel=3)
        return False
    return loops


def _agrees_with_numpy(loops: tuple[Any, Any]) -> bool:
    """Whether the loops draw numpy's numbers and leave its generator state, on two scratch generators.

    (It also compiles or loads the loops, so a run's first step does not pay for it.)
    """
    lam = np.array([0.0, 0.3, 2.5, 0.0, 40.0, 1e4])
    n, p = np.array([0, 3, 40, 1000, 10**6, 7]), np.array([0.5, 0.0, 0.3, 0.9, 0.01, 1.0])
    ours, numpys = np.random.default_rng(20261124), np.random.default_rng(20261124)
    got = [_poisson(loops, ours, lam), _binomial(loops, ours, n, p), _binomial(loops, ours, n, np.array([0.2]))]
    want = [numpys.poisson(lam), numpys.binomial(n, p), numpys.binomial(n, 0.2)]
    return (all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
            and ours.bit_generator.state == numpys.bit_generator.state)


def _loops() -> tuple[Any, Any] | None:
    global _kernels
    if _kernels is None:
        _kernels = _compile()
    return _kernels or None


def accelerated() -> bool:
    """Whether the compiled loops are in use (False: the Generator's own methods are)."""
    return _loops() is not None


_POISSON_ERRORS = {1: "lam < 0 or lam contains NaNs", 2: "lam value too large"}
_BINOMIAL_ERRORS = {1: "p < 0, p > 1 or p contains NaNs", 2: "n < 0"}


def poisson(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """``rng.poisson(lam)`` for an array of means (any shape): the same draws, int64, shaped like ``lam``."""
    loops = _kernels or _loops()  # (the kept loops, read without a call; _loops() loads them the first time)
    if loops is None or np.ndim(lam) == 0:
        return rng.poisson(lam)
    return _poisson(loops, rng, lam)


def _poisson(loops: tuple[Any, Any], rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    out = np.empty(lam.shape, np.int64)
    bit_generator = rng.bit_generator
    with bit_generator.lock:
        if lam.ndim == 1:
            failed = loops[0](bit_generator.ctypes.bit_generator.value, lam, out)
        else:  # the loop goes through the means in C order, as numpy's broadcast does
            failed = loops[0](bit_generator.ctypes.bit_generator.value, lam.reshape(-1), out.reshape(-1))
    if failed:
        raise ValueError(_POISSON_ERRORS[failed])
    return out


def binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """``rng.binomial(n, p)`` for a 1-D array of whole trial counts and probabilities of its size (or one
    probability): the same draws, int64. Other arguments are passed to numpy's method."""
    loops = _kernels or _loops()
    if (loops is None or not isinstance(n, np.ndarray) or n.ndim != 1 or n.dtype.kind not in "bi"
            or np.ndim(p) > 1 or np.size(p) not in (1, n.size)):
        return rng.binomial(n, p)  # (broadcasting shapes, or counts numpy would refuse: numpy's own method)
    return _binomial(loops, rng, n, p)


def _binomial(loops: tuple[Any, Any], rng: np.random.Generator, n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    n = np.ascontiguousarray(n, dtype=np.int64)
    p = np.ascontiguousarray(p, dtype=np.float64).reshape(-1)
    out = np.empty(n.size, np.int64)
    setup = np.zeros(_BINOMIAL_SETUP_DOUBLES)
    bit_generator = rng.bit_generator
    with bit_generator.lock:
        failed = loops[1](bit_generator.ctypes.bit_generator.value, n, p, setup, out)
    if failed:
        raise ValueError(_BINOMIAL_ERRORS[failed])
    return out
