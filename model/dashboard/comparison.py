"""Two copies of one city, stepped together: without and with the chosen programmes.

:class:`Comparison` builds the pair from a :class:`~model.dashboard.choices.Settings`, steps both
models in lock-step (safe to call from a worker thread while the page reads it), keeps the
neighbourhood values the maps show at every step, and hands out :class:`View` snapshots: plain
arrays of what has happened so far, which the figures draw without touching the models.

>>> from model.dashboard.choices import Settings
>>> c = Comparison(Settings("baseline.yaml", size="small"))
>>> _ = c.step(3); v = c.view(); v.step, v.series["homicides"].shape
(3, (2, 3))
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model.dashboard.choices import Settings, build_pair, programme_label
from model.metrics import CITY_OUTCOMES
from model.model import SecurityModel
from model.scenario import Scenario

__all__ = ["CHART_OUTCOMES", "MAP_OUTCOMES", "SIDES", "BuildCancelled", "Comparison", "Readout", "View"]

#: the two sides, in the order of every (2, ...) array
SIDES = ("Without programmes", "With programmes")
#: outcomes the maps can be coloured by (per neighbourhood)
MAP_OUTCOMES = ("homicide_rate", "fear", "trust", "gang_control")
#: city outcomes the live charts show
CHART_OUTCOMES = ("homicides", "robberies", "extortions", "fear", "trust", "cost_usd")
_SERIES = (*CHART_OUTCOMES, "crimes")
_COLUMN = {name: CITY_OUTCOMES.index(name) for name in _SERIES}


class BuildCancelled(Exception):  # noqa: N818 - a cancelled build, not an error
    """A :class:`Comparison` given up half-built because its settings were no longer wanted."""


@dataclass(frozen=True)
class Readout:
    """What the programmes have done so far: totals on each side (without, with) and the difference."""

    homicides: tuple[float, float]
    crimes: tuple[float, float]
    cost_usd: float  # programme cost so far (the with side's minus the without side's, which is 0)

    @property
    def homicides_averted(self) -> float:
        return self.homicides[0] - self.homicides[1]

    @property
    def crimes_averted(self) -> float:
        return self.crimes[0] - self.crimes[1]

    @property
    def cost_per_homicide_averted(self) -> float | None:
        """USD per homicide averted so far; ``None`` while none has been averted."""
        return self.cost_usd / self.homicides_averted if self.homicides_averted > 0 else None


@dataclass(frozen=True)
class View:
    """The pair as it stood after ``step`` steps: copies, safe to draw while the models move on."""

    step: int
    total_steps: int
    steps_per_year: int
    programmes: tuple[str, ...]  # the programmes on the with side: labels, with the intensity unless 1
    series: dict[str, np.ndarray]  # city outcome -> (2, step) values per step
    hood: dict[str, np.ndarray]  # map outcome -> (2, K) values per neighbourhood now
    targeted: np.ndarray  # (K,) neighbourhoods where a with-side programme is delivered now
    position: np.ndarray  # (K, 2)
    edges: np.ndarray  # (E, 2) neighbourhood ids
    residents: np.ndarray  # (K,)
    readout: Readout

    @property
    def days(self) -> float:
        return self.step * 365.0 / self.steps_per_year


def _hood_values(model: SecurityModel) -> np.ndarray:
    """(len(MAP_OUTCOMES), K): the map outcomes per neighbourhood as the model stands."""
    # homicides in the model's recent (90-day) memory, annualised per 100,000 residents
    window = model.memory_steps["recent"]
    rate = model.recent_by_neighbourhood("homicides") / window * model.steps_per_year / model.residents * 1e5
    return np.stack([rate, model.fear(), model.trust(), model.presence()])


def _targeted(model: SecurityModel) -> np.ndarray:
    """Neighbourhoods where an active programme is delivered now (city-wide ones excluded)."""
    k = model.world.n_neighbourhoods
    out = np.zeros(k, dtype=bool)
    for programme in model.programmes:
        if programme.is_active(model):
            where = np.asarray(programme.cost_mask(model), dtype=bool)
            if where.size == k and not where.all():
                out |= where
    return out


def _programme_text(name: str, intensity: float) -> str:
    """A programme as the page and the GIF name it: its label, and its intensity unless that is 1."""
    label = programme_label(name)
    return label if intensity == 1.0 else f"{label} (intensity {round(float(intensity), 2):g})"


def _release(models: tuple[SecurityModel, ...]) -> None:
    for model in models:
        model.release()


class _StoppableModel(SecurityModel):
    """A :class:`SecurityModel` whose spin-up, which its constructor runs, can be given up between two steps.

    The spin-up is most of a city's build (about 0.6 s of 1 s for the large city on a two-core laptop),
    and the page's settings can overtake a build at any moment.
    Before each spin-up step this asks ``stop``; once it says yes, the constructor releases the half-built
    model (:meth:`SecurityModel.release`) and gives up with :class:`BuildCancelled`. After each spin-up
    step it tells ``progress(done, total)``. The steps themselves are the plain model's, so the city is
    the one :class:`SecurityModel` builds, draw for draw.
    """

    def __init__(self, scenario: Scenario, *, seed: int, stop: Callable[[], bool] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self._stop = stop
        self._progress = progress
        try:
            super().__init__(scenario, seed=seed)
        except BaseException:
            self.release()  # a half-built city: nobody will see it, Mesa must not keep it
            raise
        finally:
            self._stop = self._progress = None  # the build's callbacks are not kept with the city

    def run(self, steps: int | None = None) -> SecurityModel:
        """The constructor's spin-up (:meth:`SecurityModel.run`), asking ``stop`` before each step and telling
        ``progress`` after it; once built, the plain run (the callbacks are gone)."""
        if steps is None or (self._stop is None and self._progress is None):
            return super().run(steps)
        for done in range(1, steps + 1):
            if self._stop is not None and self._stop():
                raise BuildCancelled(self.scenario.name)
            self.step()
            if self._progress is not None:
                self._progress(done, steps)
        return self


class Comparison:
    """The city without and with the chosen programmes, built with one seed and stepped together."""

    def __init__(self, settings: Settings, stop: Callable[[], bool] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        """Build both cities (each lives through its spin-up first).

        ``stop`` is asked before each city and before each of its spin-up steps: once it says yes, the
        build gives up with :class:`BuildCancelled` (the page's settings moved on) and releases what it
        had built, so an overtaken build stops within a step. ``progress(done, total)`` is told after each
        spin-up step, counted over both cities.
        """
        self.settings = settings
        self.scenarios = build_pair(settings)
        seed = self.scenarios[0].seed
        models: list[SecurityModel] = []
        try:
            for side, scenario in enumerate(self.scenarios):
                if stop is not None and stop():
                    raise BuildCancelled(settings)
                report = None if progress is None else (
                    lambda done, total, side=side: progress(side * total + done, 2 * total))
                models.append(_StoppableModel(scenario, seed=seed, stop=stop, progress=report))
        except BaseException:
            _release(tuple(models))
            raise
        self.models = tuple(models)
        # a new pair replaces this one on every reset or change of settings: free its cities with it
        self._finalizer = weakref.finalize(self, _release, self.models)
        self.total_steps = self.scenarios[0].steps
        self.programmes = tuple(dict.fromkeys(_programme_text(p.type, p.intensity)
                                              for p in self.scenarios[1].interventions))
        world = self.models[0].world
        k = world.n_neighbourhoods
        self._lock = threading.Lock()
        self._hood = np.full((2, self.total_steps + 1, len(MAP_OUTCOMES), k), np.nan)
        self._targeted = np.zeros((self.total_steps + 1, k), dtype=bool)
        self._position = np.asarray(world.position, dtype=float).copy()
        self._edges = np.array(sorted(world.graph.edges()), dtype=np.int64).reshape(-1, 2)
        self._residents = np.asarray(world.residents, dtype=float).copy()
        self._keep(0)

    def release(self) -> None:
        """Free both cities now (a pair nobody will look at again); otherwise they go with this object."""
        self._finalizer()

    @property
    def steps_done(self) -> int:
        return int(self.models[0].t)

    @property
    def finished(self) -> bool:
        return self.steps_done >= self.total_steps

    def _keep(self, t: int) -> None:
        for side, model in enumerate(self.models):
            self._hood[side, t] = _hood_values(model)
        self._targeted[t] = _targeted(self.models[1])

    def step(self, n: int = 1) -> int:
        """Step both cities ``n`` steps (fewer at the end of the horizon); returns the steps done."""
        with self._lock:
            for _ in range(max(0, min(int(n), self.total_steps - self.steps_done))):
                for model in self.models:
                    model.step()
                self._keep(self.steps_done)
            return self.steps_done

    def view(self, step: int | None = None) -> View:
        """The pair after ``step`` steps (default: now); any step already done can be looked at again."""
        with self._lock:
            done = self.steps_done
            step = done if step is None else int(step)
            if not 0 <= step <= done:
                raise ValueError(f"expected a step in 0..{done}, found {step}")
            series = {name: np.stack([m.recorder.city[:step, col] for m in self.models])
                      for name, col in _COLUMN.items()}
            hood = {name: self._hood[:, step, i].copy() for i, name in enumerate(MAP_OUTCOMES)}
            targeted = self._targeted[step].copy()
        totals = {name: series[name].sum(axis=1) for name in ("homicides", "crimes", "cost_usd")}
        readout = Readout(
            homicides=(float(totals["homicides"][0]), float(totals["homicides"][1])),
            crimes=(float(totals["crimes"][0]), float(totals["crimes"][1])),
            cost_usd=float(totals["cost_usd"][1] - totals["cost_usd"][0]),
        )
        return View(
            step=step, total_steps=self.total_steps, steps_per_year=self.models[0].steps_per_year,
            programmes=self.programmes, series=series, hood=hood, targeted=targeted, position=self._position,
            edges=self._edges, residents=self._residents, readout=readout,
        )
