"""Safe Streets: an agent-based model of community security programmes in Central American cities.

>>> from model import load_scenario, run
>>> result = run(load_scenario("scenarios/baseline.yaml"), years=0.1, seed=1)  # doctest: +SKIP
>>> result.timeseries[["homicides", "trust"]].describe()  # doctest: +SKIP
"""

from model.scenario import Scenario, load_scenario, parse_scenario, scenario_schema

__version__ = "0.1.0"

__all__ = ["Scenario", "SecurityModel", "RunResult", "load_scenario", "parse_scenario", "run",
           "scenario_schema", "compare", "sweep", "load_results", "__version__"]


def __getattr__(name: str):
    # heavier modules load on first use, so `import model` stays quick for the CLI
    if name == "SecurityModel":
        from model.model import SecurityModel
        return SecurityModel
    if name in ("run", "RunResult"):
        from model import api
        return getattr(api, name)
    if name in ("compare", "sweep"):
        from model import runner
        return getattr(runner, name)
    if name == "load_results":
        from model.store import load_results
        return load_results
    raise AttributeError(name)
