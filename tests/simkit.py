"""Shared helpers for the simulation-core tests: tiny scenarios, models and paired comparisons.

Imported by test modules as ``import simkit`` (pytest puts ``tests/`` on ``sys.path``). Nothing
here asserts; tests state their own expectations.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.model import SecurityModel
from model.scenario import Scenario, deep_merge, parse_scenario

HAS_NUMBA = importlib.util.find_spec("numba") is not None  # numba installed (a dependency; absent on odd platforms)

__all__ = ["scenario", "build", "Paired", "paired", "run_model"]


def scenario(residents: int = 2000, neighbourhoods: int = 4, years: float = 1.0, **fields: Any) -> Scenario:
    """A validated scenario for a small city; ``fields`` are nested scenario data merged on top.

    No spin-up unless ``spin_up_years`` is given: unit tests start from the calibrated state.

    >>> scenario(3000, 6, gangs={"count": 3}).gangs.count
    3
    """
    data = {"city": {"residents": residents, "neighbourhoods": neighbourhoods}, "years": years}
    if "spin_up_years" in Scenario.model_fields:  # rules on tiny worlds need no settled start
        data["spin_up_years"] = 0.0
    return parse_scenario(deep_merge(data, fields), source="<test>")


def build(residents: int = 2000, neighbourhoods: int = 4, seed: int = 1, **fields: Any) -> SecurityModel:
    """A freshly built (not yet stepped) model of a small city."""
    return SecurityModel(scenario(residents, neighbourhoods, **fields), seed=seed)


def run_model(sc: Scenario, seed: int, steps: int | None = None) -> SecurityModel:
    """Build and run a model for ``steps`` (default: the scenario's horizon)."""
    m = SecurityModel(sc, seed=seed)
    m.run(steps)
    return m


@dataclass(frozen=True)
class Paired:
    """Paired differences (programme minus baseline) of one metric over replications."""

    baseline: np.ndarray
    programme: np.ndarray

    @property
    def diff(self) -> np.ndarray:
        return self.programme - self.baseline

    @property
    def mean(self) -> float:
        return float(self.diff.mean())

    @property
    def se(self) -> float:
        """Standard error of the mean paired difference (0 if every difference is equal)."""
        d = self.diff
        return float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("inf")

    @property
    def z(self) -> float:
        """Mean difference in standard errors (+-inf if the differences do not vary)."""
        if self.se == 0:
            return float(np.sign(self.mean) * np.inf) if self.mean else 0.0
        return self.mean / self.se

    def __str__(self) -> str:
        base = float(self.baseline.mean())
        rel = self.mean / base * 100 if base else float("nan")
        return f"diff {self.mean:+.4g} (SE {self.se:.3g}, z {self.z:+.1f}; baseline {base:.4g}, {rel:+.1f}%)"


Metric = Callable[[SecurityModel, SecurityModel], tuple[float, float]]


def paired(base: Scenario, programme: Scenario, seeds: Sequence[int],
           metrics: dict[str, Callable[[SecurityModel, SecurityModel | None], float]],
           baseline_cache: dict[tuple[str, int], SecurityModel] | None = None) -> dict[str, Paired]:
    """Run baseline and programme with the same seeds; evaluate each metric on both runs.

    A metric is ``f(run, programme_run)``: it is called as ``f(baseline, prog)`` and
    ``f(prog, prog)`` so that it can read the programme's own target (its mask) and apply the
    same neighbourhoods to both arms. ``baseline_cache`` reuses finished baseline runs.
    """
    from model.scenario import scenario_hash

    values: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in metrics}
    key = scenario_hash(base)
    for seed in seeds:
        if baseline_cache is not None and (key, seed) in baseline_cache:
            b = baseline_cache[(key, seed)]
        else:
            b = run_model(base, seed)
            if baseline_cache is not None:
                baseline_cache[(key, seed)] = b
        p = run_model(programme, seed)
        for name, f in metrics.items():
            values[name][0].append(f(b, p))
            values[name][1].append(f(p, p))
    return {name: Paired(np.array(b), np.array(p)) for name, (b, p) in values.items()}


def city(m: SecurityModel, name: str) -> np.ndarray:
    """The recorded city series of outcome ``name`` (one value per step recorded)."""
    from model.metrics import CITY_OUTCOMES

    return m.recorder.city[: m.recorder.steps_recorded, CITY_OUTCOMES.index(name)]


def hood_total(m: SecurityModel, name: str) -> np.ndarray:
    """Per-neighbourhood total (counts) or mean of monthly means (levels) of outcome ``name``."""
    from model.metrics import HOOD_OUTCOMES, outcome

    months = int(np.ceil(m.recorder.steps_recorded * 12 / m.steps_per_year))
    table = m.recorder.hood_table()[:months, HOOD_OUTCOMES.index(name), :]
    return table.sum(axis=0) if outcome(name).is_count else table.mean(axis=0)


def recount_members(m: SecurityModel) -> np.ndarray:
    """Free gang members per (gang, neighbourhood), counted from the person arrays."""
    people = m.people
    g, k = m.gang_members.shape
    ok = (people.gang >= 0) & people.free(np.arange(people.size))
    out = np.zeros((g, k), np.int64)
    np.add.at(out, (people.gang[ok].astype(np.int64), people.home[ok]), 1)
    return out


def recount_shocks(m: SecurityModel, which: str) -> np.ndarray:
    """Neighbourhood sums of personal fear or trust shocks decayed to now, from the person arrays."""
    people = m.people
    shock, time = (people.fear_shock, people.fear_time) if which == "fear" else (people.trust_shock, people.trust_time)
    decay = m.fear_decay if which == "fear" else m.trust_decay
    now = shock.astype(np.float64) * np.power(decay, (m.t - time).astype(np.float64))
    return np.bincount(people.home, now, minlength=m.world.n_neighbourhoods)
