"""The notebook API: ``run`` a scenario and get pandas tables back, without touching disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from model.results import RunResult, collect
from model.scenario import Scenario, load_scenario

__all__ = ["run", "RunResult"]


def run(
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    years: float | None = None,
    overrides: list[str] | None = None,
    out: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run one scenario and return its tables.

    >>> from model import load_scenario, run
    >>> r = run("scenarios/baseline.yaml", seed=3, years=0.25,
    ...         overrides=["city.residents=20000", "city.neighbourhoods=20"])
    >>> list(r.timeseries.columns[:4])
    ['scenario', 'seed', 'step', 'day']

    ``scenario`` is a :class:`Scenario` or a path to a scenario file; ``seed`` and ``years``
    override the scenario's; ``overrides`` are ``dotted.path=value`` strings; ``out`` writes the
    run to that folder as well; ``progress(done, total)`` is called after every step.
    """
    from model.model import SecurityModel

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides=overrides)
    elif overrides:
        from model.scenario import apply_overrides, parse_scenario

        scenario = parse_scenario(apply_overrides(scenario.model_dump(mode="json"), overrides), "--set", overrides)
    if years is not None:
        scenario = scenario.model_copy(update={"years": float(years)})
        scenario = Scenario.model_validate(scenario.model_dump())
    model = SecurityModel(scenario, seed=seed)
    total = scenario.steps
    for done in range(1, total + 1):
        model.step()
        if progress is not None:
            progress(done, total)
    result = collect(model)
    model.release()
    if out is not None:
        result.save(out)
    return result
