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
from typing import Any

import numpy as np

__all__ = ["accelerated", "binomial", "poisson"]

#: numpy's largest Poisson mean (numpy.random._common.POISSON_LAM_MAX)
POISSON_LAM_MAX = np.iinfo("l").max - np.sqrt(np.iinfo("l").max) * 10

_kernels: tuple[Any, Any] | None | bool = None  # loaded on first use; False: not available


def _compile() -> tuple[Any, Any] | bool:
    """The two compiled loops (:mod:`model._draw_loops`), or False where numba or numpy's samplers are missing."""
    if os.environ.get("SAFESTREETS_NUMPY_DRAWS"):
        return False
    try:
        from model import _draw_loops
    except (ImportError, OSError, AttributeError):
        return False
    return _draw_loops.poisson_loop, _draw_loops.binomial_loop


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
    loops = _kernels or _loops()
    if loops is None:
        return rng.poisson(lam)
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
    """``rng.binomial(n, p)`` for a 1-D array of trials and probabilities of its size (or one probability):
    the same draws, int64."""
    loops = _kernels or _loops()
    if loops is None:
        return rng.binomial(n, p)
    n = np.ascontiguousarray(n, dtype=np.int64)
    p = np.ascontiguousarray(p, dtype=np.float64)
    if p.ndim != 1:
        p = p.reshape(-1)
    if n.ndim != 1 or p.size not in (1, n.size):
        return rng.binomial(n, p)  # other shapes broadcast: numpy's own method
    out = np.empty(n.size, np.int64)
    bit_generator = rng.bit_generator
    with bit_generator.lock:
        failed = loops[1](bit_generator.ctypes.bit_generator.value, n, p, out)
    if failed:
        raise ValueError(_BINOMIAL_ERRORS[failed])
    return out
