"""Compiled loops over neighbourhoods: a process's arithmetic in one call instead of a dozen numpy calls.

A step at 10,000 residents works on arrays of ~60 neighbourhoods, where a numpy call costs far more
than its arithmetic (~0.4 us a ufunc call against a few ns of work). A process that works out, say,
guardianship, pressure and expected counts in fifteen in-place numpy calls spends most of that time in
calls. Written instead as a loop over neighbourhoods, the same equations run in one call to a function
numba compiles, and read as the equations themselves.

**The same numbers.** A kernel does only IEEE arithmetic that numpy does the same way on this CPU:
``+ - * /`` and comparisons, in the order numpy would (``a * b * c`` is ``(a * b) * c``). Not Python's
``max`` and ``min``: where the two are equal they return the first (``max(-0.0, 0.0)`` is -0.0) and they
may drop a NaN, whereas ``np.maximum(a, b)`` returns ``b`` and keeps a NaN from either side. numpy's
clip at a constant is ``c if x <= c else x`` (for ``np.maximum(x, c)``) and ``c if x >= c else x`` (for
``np.minimum(x, c)``); between two arrays, ``a if a > b or a != a else b`` (and ``<`` for the minimum).
numba contracts no multiply-add unless asked (``fastmath`` is off), and its float
division by zero gives numpy's inf/nan (``error_model="numpy"``). What numpy computes another way stays
in numpy, outside kernels: ``exp``, ``log`` and powers (numpy's own vectorised versions, not the C
library's), and sums along a contiguous row of 8 or more numbers (numpy adds those pairwise, not one
after another; below 8, one after another from the first). A reduction down axis 0 of a (rows, columns)
array adds row after row, elementwise, except where there is one column: that column is contiguous,
and 8 or more rows are added as numpy's ``pairwise_sum`` does (eight partial sums, each over every
eighth number, then ``((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))``, then the rest one by one;
for fewer than 128 numbers). The kernels that sum over gangs follow that for a city of one neighbourhood.
``sqrt`` is correctly rounded everywhere, so ``math.sqrt`` in a kernel is numpy's ``np.sqrt``.

**Loaded on first use.** Importing numba takes a while, so a kernel is compiled (or loaded from numba's
cache in ``__pycache__``) the first time it is called, not when its module is imported. Where numba
cannot be imported, or ``SAFESTREETS_PYTHON_KERNELS=1`` is set, the kernel runs as the plain Python
function it is written as: the same numbers (Python floats and numpy scalars are IEEE doubles too), far
slower. ``tests/test_compiled.py`` runs models both ways and compares them bit for bit.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

__all__ = ["compiled", "jit", "kernel"]

_PYTHON = "SAFESTREETS_PYTHON_KERNELS"


def jit(function: Callable) -> Callable:
    """``function`` compiled by numba (no GIL, numpy's float errors), kept in numba's on-disk cache where one is
    writable and compiled in each process where none is. Needs numba (``model.draws``' loops use it directly)."""
    import numba

    options = {"nogil": True, "error_model": "numpy"}
    try:
        return numba.njit(cache=True, **options)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(**options)(function)


def _compile(function: Callable) -> Callable:
    """``function`` compiled by :func:`jit`, or itself where numba is missing or Python kernels are asked for."""
    return jit(function) if compiled() else function


def kernel(function: Callable) -> Callable:
    """Decorator: ``function``, a loop of plain arithmetic over arrays, compiled on its first call.

    The returned function takes the same arguments; ``.python`` is the function as written. A kernel
    must not call another kernel (it would see this wrapper, which numba cannot compile). Kernels write
    their results into arrays their callers pass and return nothing or a number: an array returned from
    compiled code is boxed anew on every call (~0.3-0.7 us).
    """
    runner: Callable | None = None

    @functools.wraps(function)
    def run(*args: Any) -> Any:
        nonlocal runner
        if runner is None:
            runner = _compile(function)
        return runner(*args)

    run.python = function
    return run


def compiled() -> bool:
    """Whether kernels are compiled (False: they run as Python, as without numba)."""
    if os.environ.get(_PYTHON):
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True
