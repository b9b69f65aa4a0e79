"""Building the pair of cities for the latest settings only, one build at a time, off the page's thread.

A trainer flicks switches and drags sliders faster than two cities can be built (each lives through
a year of spin-up first). :class:`Builder` takes every change with :meth:`Builder.request` and
answers at once; its worker waits until the settings have been still for ``delay`` seconds
(debouncing), builds the pair for the newest settings only, and hands it to ``deliver``. Settings
overtaken while they wait are never built. A build overtaken while it runs is told so at once (its
:class:`threading.Event` is set): it stops before its next spin-up step
(:class:`~model.dashboard.comparison.BuildCancelled`) and its half-built cities are released; one
already done is released and dropped unseen.

>>> from model.dashboard.choices import Settings
>>> import threading
>>> got, done = [], threading.Event()
>>> b = Builder(lambda ticket, settings, result: (got.append(settings.seed), done.set()), delay=0.0)
>>> _ = [b.request(Settings("baseline.yaml", size="small", seed=seed)) for seed in (1, 2, 3)]
>>> done.wait(60) and got[-1]
3
>>> b.close()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from model.dashboard.choices import Settings
from model.dashboard.comparison import BuildCancelled, Comparison

__all__ = ["DEBOUNCE_SECONDS", "Builder"]

#: how long the settings must stay still before a build starts
DEBOUNCE_SECONDS = 0.6


class Builder:
    """Builds a :class:`Comparison` for the newest settings asked for, in one worker thread.

    ``deliver(ticket, settings, result)`` receives the pair, or the exception that stopped it (a bad
    input), for the newest request only: ``ticket`` is the number :meth:`request` returned for it.
    ``progress(ticket, done, total)``, if given, is told how far the build for ``ticket`` has come
    (spin-up steps over both cities). ``make`` builds a pair from ``(settings, stop=..., progress=...)``:
    ``stop()`` says yes once the build is overtaken; tests pass a stand-in.
    """

    def __init__(self, deliver: Callable[[int, Settings, object], None], delay: float = DEBOUNCE_SECONDS,
                 make: Callable[..., object] = Comparison,
                 progress: Callable[[int, int, int], None] | None = None) -> None:
        self._deliver = deliver
        self.delay = float(delay)
        self._make = make
        self._progress = progress
        self._wake = threading.Condition()
        self._ticket = 0  # the newest request
        self._wanted: tuple[int, Settings] | None = None  # the newest request, until the worker takes it
        self._asked_at = 0.0
        self._cancel: threading.Event | None = None  # set once the build under way is overtaken
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="safestreets-builder", daemon=True)
        self._worker.start()

    @property
    def latest(self) -> int:
        """The ticket of the newest request (0 before any)."""
        return self._ticket

    @property
    def busy(self) -> bool:
        """A request is waiting or being built."""
        with self._wake:
            return self._wanted is not None or self._cancel is not None  # (a build under way has its event)

    def request(self, settings: Settings) -> int:
        """Ask for a pair with ``settings`` (replacing any earlier request, and stopping its build if one
        is under way); returns its ticket at once."""
        with self._wake:
            self._ticket += 1
            self._wanted = (self._ticket, settings)
            self._asked_at = time.monotonic()
            if self._cancel is not None:
                self._cancel.set()
            self._wake.notify_all()
            return self._ticket

    def close(self) -> None:
        """Stop the worker (a build under way stops before its next spin-up step and is not delivered)."""
        with self._wake:
            self._closed = True
            self._wanted = None
            if self._cancel is not None:
                self._cancel.set()
            self._wake.notify_all()

    def _next(self) -> tuple[int, Settings, threading.Event] | None:
        """The newest request once it has been still for ``delay`` seconds, with the event that will say
        it was overtaken (``None``: closed)."""
        with self._wake:
            while True:
                if self._closed:
                    return None
                if self._wanted is None:
                    self._wake.wait()
                    continue
                left = self._asked_at + self.delay - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                (ticket, settings), self._wanted = self._wanted, None
                self._cancel = threading.Event()
                return ticket, settings, self._cancel

    def _run(self) -> None:
        while (wanted := self._next()) is not None:
            ticket, settings, cancel = wanted
            report = None if self._progress is None else (
                lambda done, total, ticket=ticket: self._progress(ticket, done, total))
            try:
                result: object = self._make(settings, stop=cancel.is_set, progress=report)
            except BuildCancelled:
                result = None
            except Exception as err:  # noqa: BLE001 - a bad input (or a bug) is shown on the page, not lost
                result = err
            with self._wake:
                self._cancel = None
                stale = result is None or cancel.is_set()
            if stale:
                release = getattr(result, "release", None)
                if callable(release):
                    release()
                continue
            self._deliver(ticket, settings, result)
