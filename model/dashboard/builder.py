"""Building the pair of cities for the latest settings only, one build at a time, off the page's thread.

A trainer flicks switches and drags sliders faster than two cities can be built (each lives through
a year of spin-up first). :class:`Builder` takes every change with :meth:`Builder.request` and
answers at once; its worker waits until the settings have been still for ``delay`` seconds
(debouncing), builds the pair for the newest settings only, and hands it to ``deliver``. Settings
overtaken while they wait are never built; a build overtaken while it runs is stopped between its two
cities (:class:`~model.dashboard.comparison.BuildCancelled`) or, if already done, dropped unseen.

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
    ``make`` builds a pair from ``(settings, stop=...)``; tests pass a stand-in.
    """

    def __init__(self, deliver: Callable[[int, Settings, object], None], delay: float = DEBOUNCE_SECONDS,
                 make: Callable[..., object] = Comparison) -> None:
        self._deliver = deliver
        self.delay = float(delay)
        self._make = make
        self._wake = threading.Condition()
        self._ticket = 0  # the newest request
        self._wanted: tuple[int, Settings] | None = None  # the newest request, until the worker takes it
        self._asked_at = 0.0
        self._building: int | None = None  # the ticket being built now
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
            return self._wanted is not None or self._building is not None

    def request(self, settings: Settings) -> int:
        """Ask for a pair with ``settings`` (replacing any earlier request); returns its ticket at once."""
        with self._wake:
            self._ticket += 1
            self._wanted = (self._ticket, settings)
            self._asked_at = time.monotonic()
            self._wake.notify_all()
            return self._ticket

    def close(self) -> None:
        """Stop the worker (a build under way is stopped between its cities and not delivered)."""
        with self._wake:
            self._closed = True
            self._wanted = None
            self._wake.notify_all()

    def _stale(self, ticket: int) -> bool:
        return self._closed or ticket != self._ticket

    def _next(self) -> tuple[int, Settings] | None:
        """The newest request once it has been still for ``delay`` seconds (``None``: closed)."""
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
                wanted, self._wanted = self._wanted, None
                self._building = wanted[0]
                return wanted

    def _run(self) -> None:
        while (wanted := self._next()) is not None:
            ticket, settings = wanted
            try:
                result: object = self._make(settings, stop=lambda ticket=ticket: self._stale(ticket))
            except BuildCancelled:
                result = None
            except Exception as err:  # noqa: BLE001 - a bad input (or a bug) is shown on the page, not lost
                result = err
            with self._wake:
                self._building = None
                stale = result is None or self._stale(ticket)
            if stale:
                release = getattr(result, "release", None)
                if callable(release):
                    release()
                continue
            self._deliver(ticket, settings, result)
