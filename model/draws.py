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

import ctypes
import os
from typing import Any

import numpy as np

__all__ = ["accelerated", "binomial", "poisson"]

#: numpy's largest Poisson mean (numpy.random._common.POISSON_LAM_MAX)
POISSON_LAM_MAX = np.iinfo("l").max - np.sqrt(np.iinfo("l").max) * 10
_BINOMIAL_STRUCT_DOUBLES = 17  # numpy's binomial_t (136 bytes): the sampler's cache for one (n, p)

_kernels: tuple[Any, Any] | None | bool = None  # compiled on first use; False: not available


def _compile() -> tuple[Any, Any] | bool:
    """The two compiled loops, or False where numba or numpy's exported samplers are missing."""
    if os.environ.get("SAFESTREETS_NUMPY_DRAWS"):
        return False
    try:
        import numba
        import numpy.random._generator as generator_module

        library = ctypes.CDLL(generator_module.__file__)
        random_poisson, random_binomial = library.random_poisson, library.random_binomial
    except (ImportError, OSError, AttributeError):
        return False
    pointer = ctypes.c_size_t  # bitgen_t* and binomial_t*, passed as addresses
    random_poisson.restype, random_poisson.argtypes = ctypes.c_int64, [pointer, ctypes.c_double]
    random_binomial.restype = ctypes.c_int64
    random_binomial.argtypes = [pointer, ctypes.c_double, ctypes.c_int64, pointer]
    lam_max = float(POISSON_LAM_MAX)

    @numba.njit(nogil=True)
    def poisson_loop(bitgen: int, lam: np.ndarray, out: np.ndarray) -> int:
        for i in range(lam.size):  # numpy checks every mean first: a bad one raises before any draw
            if lam[i] < 0.0:
                return 1
        for i in range(lam.size):
            if not lam[i] <= lam_max:
                return 2
        for i in range(lam.size):
            out[i] = random_poisson(bitgen, lam[i])
        return 0

    @numba.njit(nogil=True)
    def binomial_loop(bitgen: int, n: np.ndarray, p: np.ndarray, out: np.ndarray) -> int:
        for i in range(p.size):
            if not (0.0 <= p[i] <= 1.0):
                return 1
        for i in range(n.size):
            if n[i] < 0:
                return 2
        cache = np.zeros(_BINOMIAL_STRUCT_DOUBLES)  # the sampler recomputes it whenever (n, p) changes
        address = cache.ctypes.data
        step_p = 1 if p.size > 1 else 0
        for i in range(n.size):
            out[i] = random_binomial(bitgen, p[i * step_p], n[i], address)
        return 0

    return poisson_loop, binomial_loop


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
    loops = _loops()
    if loops is None:
        return rng.poisson(lam)
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    out = np.empty(lam.shape, np.int64)
    bit_generator = rng.bit_generator
    with bit_generator.lock:
        failed = loops[0](bit_generator.ctypes.bit_generator.value, lam.reshape(-1), out.reshape(-1))
    if failed:
        raise ValueError(_POISSON_ERRORS[failed])
    return out


def binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """``rng.binomial(n, p)`` for a 1-D array of trials and probabilities of its size (or one probability):
    the same draws, int64."""
    loops = _loops()
    if loops is None:
        return rng.binomial(n, p)
    n = np.ascontiguousarray(n, dtype=np.int64)
    p = np.ascontiguousarray(p, dtype=np.float64).reshape(-1)
    if n.ndim != 1 or p.size not in (1, n.size):
        return rng.binomial(n, p)  # other shapes broadcast: numpy's own method
    out = np.empty(n.size, np.int64)
    bit_generator = rng.bit_generator
    with bit_generator.lock:
        failed = loops[1](bit_generator.ctypes.bit_generator.value, n, p, out)
    if failed:
        raise ValueError(_BINOMIAL_ERRORS[failed])
    return out
