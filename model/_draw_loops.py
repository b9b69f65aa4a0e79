"""The compiled loops of :mod:`model.draws` (imported on first use: importing numba takes a while).

numpy's samplers are bound by name into LLVM's symbol table and declared as external functions,
so numba can keep the compiled loops in its on-disk cache (``__pycache__``, else the user's cache
directory): a new process loads them instead of compiling them again. Where no cache directory is
writable, the loops are compiled in each process instead.
"""

from __future__ import annotations

import ctypes

import llvmlite.binding
import numpy.random._generator as _generator
from numba import types

from model.compiled import jit
from model.draws import POISSON_LAM_MAX

_library = ctypes.CDLL(_generator.__file__)
for _name in ("random_poisson", "random_binomial"):
    llvmlite.binding.add_symbol(f"safestreets_{_name}", ctypes.cast(getattr(_library, _name), ctypes.c_void_p).value)

#: int64 random_poisson(bitgen_t *state, double lam)
_random_poisson = types.ExternalFunction("safestreets_random_poisson", types.int64(types.uintp, types.float64))
#: int64 random_binomial(bitgen_t *state, double p, int64 n, binomial_t *binomial)
_random_binomial = types.ExternalFunction(
    "safestreets_random_binomial", types.int64(types.uintp, types.float64, types.int64, types.uintp))

LAM_MAX = float(POISSON_LAM_MAX)


@jit
def poisson_loop(bitgen, lam, out):
    """Draw ``out[i]`` ~ Poisson(``lam[i]``) in order; 0 if done, else numpy's error (1: negative, 2: too large).

    numpy checks every mean before it draws, "too large" (which a NaN also fails) first.
    """
    for i in range(lam.size):
        if not lam[i] <= LAM_MAX:
            return 2
    for i in range(lam.size):
        if lam[i] < 0.0:
            return 1
    for i in range(lam.size):
        out[i] = _random_poisson(bitgen, lam[i])
    return 0


@jit
def binomial_loop(bitgen, n, p, setup, out):
    """Draw ``out[i]`` ~ Binomial(``n[i]``, ``p[i]``) (or one ``p``) in order; 0 if done, else 1 (bad p), 2 (n < 0).

    ``setup`` is the sampler's scratch (numpy's binomial_t), owned by the caller so that it lives for the
    whole loop; the sampler redoes it whenever (n, p) changes, so any start will do.
    """
    for i in range(p.size):
        if not (0.0 <= p[i] <= 1.0):
            return 1
    for i in range(n.size):
        if n[i] < 0:
            return 2
    address = setup.ctypes.data
    stride = 1 if p.size > 1 else 0
    for i in range(n.size):
        out[i] = _random_binomial(bitgen, p[i * stride], n[i], address)
    return 0
