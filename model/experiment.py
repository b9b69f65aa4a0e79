"""Experiment files: scenarios x parameter points x replications, validated like scenario files.

An experiment file is YAML data (read with :func:`model.scenario.read_yaml`: no tags, no
duplicate keys). Unknown keys fail with a 'did you mean' hint; every problem is one
:class:`~model.errors.InputError` line (file, field path, expected, found).

.. code-block:: yaml

    name: youth_vs_police            # results go to results/<name>/
    description: free text
    scenarios:                       # paths relative to this file; the first is the baseline
      - ../scenarios/baseline.yaml
      - file: ../scenarios/youth_programs.yaml
        name: youth                  # optional label (default: the scenario's own name)
        set: [interventions.0.intensity=1]   # optional overrides for this scenario only
    baseline: baseline               # optional: which scenario the others are compared with
    replications: 10                 # replication r uses seed base_seed + r in every scenario
    base_seed: 0
    years: 3                         # optional: overrides every scenario's horizon
    set: [city.residents=50000]      # optional overrides for every scenario
    parameters:                      # dotted paths into the scenario, as for --set
      interventions.0.coverage: {low: 0.1, high: 0.6, scenarios: [youth]}
      police.officers_per_100k: {low: 150, high: 400}
      gangs.count: {values: [1, 2, 3], integer: true}
    sampler: {method: lhs, samples: 16, seed: 1}   # none | grid | lhs | sobol | morris

Sampling: ``grid`` takes every combination of each parameter's ``values`` (or ``levels`` evenly
spaced values from ``low`` to ``high``); ``lhs`` draws ``samples`` points with
``scipy.stats.qmc.LatinHypercube``; ``sobol`` uses ``SALib.sample.sobol.sample`` (``samples`` is
SALib's N, a power of 2; N*(D+2) points, or N*(2D+2) with ``calc_second_order``); ``morris``
uses ``SALib.sample.morris.sample`` (``samples`` trajectories of D+1 points on ``levels``
levels). All are seeded with ``sampler.seed``. A parameter applies to the scenarios listed in its
``scenarios`` (all by default); every scenario runs at every point, so comparisons stay paired.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from model.config import Section
from model.errors import InputError
from model.scenario import Scenario, load_scenario, parse_scenario, read_yaml, scenario_hash

__all__ = [
    "Experiment", "ScenarioRef", "Parameter", "Sampler", "ResolvedExperiment", "RunSpec",
    "ScenarioEntry", "load_experiment", "parse_experiment", "resolve", "sample_points", "salib_problem", "run_id",
    "simulation_key",
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$"


class ScenarioRef(Section):
    """One scenario of the experiment: a file, an optional label and its own overrides."""

    file: str = Field(..., min_length=1, description="scenario file, relative to the experiment file")
    name: str | None = Field(None, pattern=NAME_PATTERN, description="label (default: the scenario's name)")
    set: list[str] = Field(default_factory=list, description="dotted.path=value overrides for this scenario")


class Parameter(Section):
    """A swept scenario field: a range (``low``..``high``) or a list of ``values``."""

    low: float | None = Field(None, description="lower bound (lhs, sobol, morris, grid with levels)")
    high: float | None = Field(None, description="upper bound")
    values: list[float] | None = Field(None, min_length=1, description="explicit values (grid only)")
    levels: int = Field(3, ge=1, le=1000, description="grid: evenly spaced values from low to high")
    integer: bool = Field(False, description="round sampled values to whole numbers")
    scenarios: list[str] | None = Field(None, description="scenario names it applies to (default: all)")

    @model_validator(mode="after")
    def _range(self) -> Parameter:
        if self.values is None:
            if self.low is None or self.high is None:
                raise ValueError("expected low and high (or values), found " +
                                 ("no low" if self.low is None else "no high"))
            if not self.low < self.high:
                raise ValueError(f"expected low < high, found low {self.low:g}, high {self.high:g}")
        elif self.low is not None or self.high is not None:
            raise ValueError("expected either values or low/high, found both")
        return self

    def bounds(self) -> tuple[float, float]:
        """(low, high), from the values when only values are given."""
        if self.values is not None:
            return float(min(self.values)), float(max(self.values))
        return float(self.low), float(self.high)  # type: ignore[arg-type]

    def grid(self) -> list[float]:
        """The values this parameter takes on a grid."""
        if self.values is not None:
            vals = [float(v) for v in self.values]
        else:
            vals = [float(v) for v in np.linspace(self.low, self.high, self.levels)]
        return [float(round(v)) for v in vals] if self.integer else vals


class Sampler(Section):
    """How parameter points are drawn."""

    method: Literal["none", "grid", "lhs", "sobol", "morris"] = Field(
        "grid", description="grid (every combination), lhs, sobol or morris (SALib); none = no parameters"
    )
    samples: int = Field(8, ge=1, le=1_000_000, description="lhs: points; sobol: SALib N (power of 2); "
                         "morris: trajectories")
    seed: int = Field(0, ge=0, lt=2**32, description="seed of the sampler")
    calc_second_order: bool = Field(False, description="sobol: also sample for second-order indices")
    levels: int = Field(4, ge=2, le=100, description="morris: grid levels")

    @model_validator(mode="after")
    def _power_of_two(self) -> Sampler:
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"expected samples a power of 2 for sobol, found {self.samples}")
        return self


class Experiment(Section):
    """An experiment: which scenarios, which parameter points, how many replications."""

    name: str = Field("experiment", pattern=NAME_PATTERN, description="results/<name>/; default: file name")
    description: str = Field("", description="free text shown in reports")
    scenarios: list[str | ScenarioRef] = Field(..., min_length=1, description="scenario files; first = baseline")
    baseline: str | None = Field(None, description="name of the scenario others are compared with")
    replications: int = Field(20, ge=1, le=1_000_000, description="replications per scenario and point")
    base_seed: int = Field(0, ge=0, lt=2**62, description="replication r uses seed base_seed + r")
    years: float | None = Field(None, gt=0, le=50, description="horizon for every scenario (default: theirs)")
    set: list[str] = Field(default_factory=list, description="dotted.path=value overrides for every scenario")
    parameters: dict[str, Parameter] = Field(default_factory=dict, description="swept fields by dotted path")
    sampler: Sampler = Field(default_factory=Sampler)

    @field_validator("sampler", mode="before")
    @classmethod
    def _sampler_shorthand(cls, value: Any) -> Any:
        return {"method": value} if isinstance(value, str) else value  # `sampler: lhs`

    @field_validator("parameters")
    @classmethod
    def _paths(cls, value: dict[str, Parameter]) -> dict[str, Parameter]:
        for key in value:
            parts = key.split(".")
            if not key or any(not p for p in parts):
                raise ValueError(f"expected a dotted field path like police.officers_per_100k, found '{key}'")
        return value

    @model_validator(mode="after")
    def _sampler_fits(self) -> Experiment:
        method = self.sampler.method
        if self.parameters and method == "none":
            raise ValueError("expected sampler.method grid, lhs, sobol or morris when parameters are given, "
                             "found none")
        if method in ("lhs", "sobol", "morris"):
            for key, p in self.parameters.items():
                if p.values is not None:
                    raise ValueError(f"expected low/high for parameters.{key} with the {method} sampler, "
                                     "found values")
        if method == "morris" and len(self.parameters) < 1:
            raise ValueError("expected at least one parameter for morris, found none")
        return self


# ---------------------------------------------------------------------------------------------
# Reading


def load_experiment(path: str | Path, overrides: dict[str, Any] | None = None) -> Experiment:
    """Read and validate an experiment file; ``overrides`` replace top-level fields (CLI flags).

    >>> exp = load_experiment("experiments/compare_carsi.yaml")  # doctest: +SKIP
    >>> exp.scenarios[0]  # doctest: +SKIP
    '../scenarios/baseline.yaml'
    """
    path = Path(path)
    data = read_yaml(path)
    data.setdefault("name", path.stem)
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
    return parse_experiment(data, source=str(path))


def parse_experiment(data: dict[str, Any], source: str = "<experiment>") -> Experiment:
    """Validate raw data into an :class:`Experiment`, turning the first problem into one line."""
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        raise _to_input_error(exc, source) from None


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    parent = [p for p in loc[:-1] if not isinstance(p, int)]
    if not parent:
        return list(Experiment.model_fields)
    if parent[0] == "sampler":
        return list(Sampler.model_fields)
    if parent[0] == "parameters":
        return list(Parameter.model_fields)
    if parent[0] == "scenarios":
        return list(ScenarioRef.model_fields)
    return []


def _loc_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "ScenarioRef") and i > 0 and isinstance(loc[i - 1], int):
            continue  # pydantic's union branch label, not a field
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _to_input_error(exc: ValidationError, source: str) -> InputError:
    errors = exc.errors(include_url=False)
    # for 'str or mapping' scenario entries prefer the mapping branch's message (more specific)
    err = next((e for e in errors if "ScenarioRef" in e["loc"]), errors[0])
    loc = tuple(err["loc"])
    field = _loc_path(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, _fields_at(loc), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return InputError(source, field, f"a known field{hint}", f"unknown key '{key}'")
    if kind == "missing":
        return InputError(source, field, "a value", "none")
    msg = err["msg"]
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        if text.startswith("expected ") and ", found " in text:
            expected, found = text[len("expected "):].rsplit(", found ", 1)
            return InputError(source, field, expected, found)
        return InputError(source, field, "a valid value", text)
    value = err.get("input")
    found = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    expected = msg.removeprefix("Input should be ").removeprefix("Input ")
    return InputError(source, field, expected, found[:60])


# ---------------------------------------------------------------------------------------------
# Sampling


def salib_problem(parameters: dict[str, Parameter]) -> dict[str, Any]:
    """The SALib problem dict (num_vars, names, bounds) of the swept parameters."""
    return {"num_vars": len(parameters), "names": list(parameters),
            "bounds": [list(p.bounds()) for p in parameters.values()]}


def sample_points(exp: Experiment) -> np.ndarray:
    """The parameter points, shape (points, parameters), in sampler order (the SALib matrix X).

    With no parameters there is one empty point, so every scenario runs once per replication.
    """
    params = exp.parameters
    s = exp.sampler
    if not params or s.method == "none":
        return np.zeros((1, 0))
    names = list(params)
    d = len(names)
    if s.method == "grid":
        X = np.array(list(itertools.product(*(params[n].grid() for n in names))), dtype=float)
    elif s.method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=d, seed=np.random.default_rng(s.seed)).random(s.samples)
        lows = np.array([params[n].bounds()[0] for n in names])
        highs = np.array([params[n].bounds()[1] for n in names])
        X = qmc.scale(unit, lows, highs)
    elif s.method == "sobol":
        from SALib.sample import sobol

        X = sobol.sample(salib_problem(params), s.samples, calc_second_order=s.calc_second_order,
                         scramble=True, seed=s.seed)
    else:  # morris
        from SALib.sample import morris

        X = morris.sample(salib_problem(params), s.samples, num_levels=s.levels, seed=s.seed)
    X = np.asarray(X, dtype=float)
    for j, n in enumerate(names):
        if params[n].integer:
            X[:, j] = np.round(X[:, j])
    return X


# ---------------------------------------------------------------------------------------------
# Resolution: experiment -> scenarios -> runs


@dataclass(frozen=True)
class ScenarioEntry:
    """A scenario of the experiment, loaded and resolved (overrides and years applied)."""

    name: str
    file: str
    file_sha256: str
    overrides: tuple[str, ...]
    scenario: Scenario


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run; plain data, cheap to send to another process."""

    run_id: str
    scenario_name: str
    rep: int
    seed: int
    point: int
    values: dict[str, float]  # the point's parameter values that apply to this scenario
    scenario: dict[str, Any]  # the scenario as resolved, JSON-like


@dataclass
class ResolvedExperiment:
    """An experiment with its scenarios loaded and its points drawn; yields runs lazily."""

    experiment: Experiment
    source: str
    entries: list[ScenarioEntry]
    baseline: str
    points: np.ndarray
    seeds: list[int]

    @property
    def names(self) -> list[str]:
        """The swept parameters' dotted paths, in column order of :attr:`points`."""
        return list(self.experiment.parameters)

    @property
    def n_runs(self) -> int:
        return len(self.entries) * len(self.points) * len(self.seeds)

    def applies(self, param: str, scenario: str) -> bool:
        only = self.experiment.parameters[param].scenarios
        return only is None or scenario in only

    def point_values(self, entry: ScenarioEntry, point: int) -> dict[str, float]:
        return {n: float(self.points[point, j]) for j, n in enumerate(self.names) if self.applies(n, entry.name)}

    def scenario_at(self, entry: ScenarioEntry, point: int) -> dict[str, Any]:
        """The scenario of ``entry`` with the point's values set, validated, as plain data."""
        values = self.point_values(entry, point)
        if not values:
            return entry.scenario.model_dump(mode="json")
        data = entry.scenario.model_dump(mode="json")
        for name, value in values.items():
            param = self.experiment.parameters[name]
            _set_path(data, name, int(round(value)) if param.integer else value, self.source, entry.name)
        try:
            sc = parse_scenario(data, source=entry.file)
        except InputError as err:
            where = ", ".join(f"{k}={v:g}" for k, v in values.items())
            raise InputError(self.source, f"parameters (scenario {entry.name} at {where}): {err.field}",
                             err.expected, err.found) from None
        return sc.model_dump(mode="json")

    def runs(self) -> Iterator[RunSpec]:
        """Every run, replication-major within each point, so early runs cover every scenario."""
        for p in range(len(self.points)):
            resolved = [(e, self.scenario_at(e, p), self.point_values(e, p)) for e in self.entries]
            point = {"point": p, **{n: float(self.points[p, j]) for j, n in enumerate(self.names)}}
            for rep, seed in enumerate(self.seeds):
                for entry, data, values in resolved:
                    yield RunSpec(run_id(entry.name, data, point, seed), entry.name, rep, seed, p, values, data)

    def validate_points(self) -> None:
        """Check each bound alone, then every scenario at every point (InputError on the first bad one)."""
        for name, param in self.experiment.parameters.items():
            for which, value in zip(("low", "high"), param.bounds(), strict=True):
                for e in self.entries:
                    if not self.applies(name, e.name):
                        continue
                    data = e.scenario.model_dump(mode="json")
                    _set_path(data, name, int(round(value)) if param.integer else value, self.source, e.name)
                    try:
                        parse_scenario(data, source=e.file)
                    except InputError as err:
                        raise InputError(self.source, f"parameters.{name}.{which} ({value:g} in scenario {e.name}) "
                                         f"-> {err.field}", err.expected, err.found) from None
        for p in range(len(self.points)):
            for e in self.entries:
                self.scenario_at(e, p)

    def manifest(self) -> dict[str, Any]:
        """The experiment as resolved, for manifest.json (see model.store)."""
        exp = self.experiment
        return {
            "experiment": exp.name,
            "description": exp.description,
            "source": self.source,
            "baseline": self.baseline,
            "scenarios": [{"name": e.name, "file": e.file, "file_sha256": e.file_sha256,
                           "scenario_hash": scenario_hash(e.scenario), "overrides": list(e.overrides),
                           "years": e.scenario.years, "steps_per_year": e.scenario.steps_per_year,
                           "resolved": e.scenario.model_dump(mode="json")}
                          for e in self.entries],
            "replications": len(self.seeds),
            "base_seed": exp.base_seed,
            "seeds": list(self.seeds),
            "years": exp.years,
            "set": list(exp.set),
            "parameters": [{"name": n, "low": p.bounds()[0], "high": p.bounds()[1], "values": p.values,
                            "integer": p.integer, "scenarios": p.scenarios} for n, p in exp.parameters.items()],
            "sampler": exp.sampler.method if exp.parameters else "none",
            "sampler_options": exp.sampler.model_dump(),
            "problem": salib_problem(exp.parameters),
            "points": [{"point": i, **{n: float(self.points[i, j]) for j, n in enumerate(self.names)}}
                       for i in range(len(self.points))],
            "n_runs": self.n_runs,
        }


def _set_path(data: dict[str, Any], dotted: str, value: Any, source: str, scenario: str) -> None:
    """Set ``data[dotted]`` in place; the path must exist up to its last part."""
    node: Any = data
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise InputError(source, f"parameters.{dotted}",
                                 f"a list index below {len(node)} in scenario {scenario}", f"'{part}'")
            key: Any = int(part)
        elif isinstance(node, dict):
            if part not in node:
                close = difflib.get_close_matches(part, [str(k) for k in node], n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise InputError(source, f"parameters.{dotted}",
                                 f"a field of scenario {scenario}{hint}", f"unknown key '{part}'")
            key = part
        else:
            raise InputError(source, f"parameters.{dotted}", "a path into mappings and lists",
                             f"'{part}' under a {type(node).__name__}")
        if last:
            node[key] = value
        else:
            node = node[key]


def run_id(scenario_name: str, scenario: dict[str, Any], point: dict[str, Any], seed: int) -> str:
    """Stable id of one run: hash of the scenario's name, its resolved data, the point and the seed.

    ``point`` is the point's index and all its parameter values (also those that do not apply to
    this scenario), so a baseline run at each point of a sweep is its own run, paired with the
    other scenarios' runs at that point.
    """
    text = json.dumps({"scenario": scenario_name, "resolved": scenario, "point": point, "seed": int(seed)},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def simulation_key(spec: RunSpec) -> str:
    """Hash of what a run's simulation reads: its scenario (name and resolved data) and its seed.

    The point's index and parameter values only label a run; two runs with the same key give the
    same tables but for those labels. This happens where no swept parameter applies to a scenario
    (the baseline of a programme sweep runs the same city at every point), or where an integer
    parameter rounds two points to one value; such runs are simulated once (see
    :func:`model.runner.execute`).
    """
    return run_id(spec.scenario_name, spec.scenario, {}, spec.seed)  # the id of the run without a point


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolve(exp: Experiment, source: str = "<experiment>", base_dir: str | Path | None = None,
            overrides: list[str] | None = None) -> ResolvedExperiment:
    """Load every scenario, apply overrides and years, draw the points, check every point.

    ``base_dir`` is where relative scenario paths start (the experiment file's folder);
    ``overrides`` are extra ``--set`` strings applied to every scenario after the file's own.
    """
    base = Path(base_dir) if base_dir is not None else Path(".")
    entries: list[ScenarioEntry] = []
    for i, ref in enumerate(exp.scenarios):
        ref = ScenarioRef(file=ref) if isinstance(ref, str) else ref
        path = Path(ref.file)
        path = path if path.is_absolute() else base / path
        if not path.exists():
            raise InputError(source, f"scenarios[{i}]", "an existing scenario file", f"no file '{ref.file}'")
        sets = [*exp.set, *ref.set, *(overrides or [])]
        sc = load_scenario(path, overrides=sets, years=exp.years)
        if ref.name:
            sc = sc.model_copy(update={"name": ref.name})
        entries.append(ScenarioEntry(sc.name, str(path), _file_sha256(path), tuple(sets), sc))
    names = [e.name for e in entries]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise InputError(source, "scenarios", "distinct scenario names (give each a name:)", f"'{dup}' twice")
    baseline = exp.baseline or names[0]
    if baseline not in names:
        close = difflib.get_close_matches(baseline, names, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(source, "baseline", f"one of the scenario names {', '.join(names)}{hint}", f"'{baseline}'")
    for key, p in exp.parameters.items():
        for s in p.scenarios or []:
            if s not in names:
                close = difflib.get_close_matches(s, names, n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise InputError(source, f"parameters.{key}.scenarios", f"scenario names{hint}", f"'{s}'")
    points = sample_points(exp)
    seeds = [exp.base_seed + r for r in range(exp.replications)]
    resolved = ResolvedExperiment(exp, source, entries, baseline, points, seeds)
    resolved.validate_points()
    return resolved

