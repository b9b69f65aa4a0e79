"""What a trainer chooses, turned into two scenarios: the city without and with the programmes.

A choice is a scenario file from ``scenarios/``, a city size, a seed and a set of programme
switches with an intensity each. The *without* side is the file's city with no programmes; the
*with* side is the same city with the programmes switched on. A switched-on programme takes its
settings (target, coverage, start...) from the chosen file if the file has it, else from the
shipped one-programme file ``scenarios/<type>.yaml``, else the programme's defaults; the slider
sets its intensity. Both scenarios keep the same seed, so the two cities share every random
draw except the programmes' own (common random numbers).

>>> without, with_ = build_pair(Settings("baseline.yaml", size="small", programmes=(("youth_programs", 1.0),)))
>>> len(without.interventions), [p.type for p in with_.interventions], without.seed == with_.seed
(0, ['youth_programs'], True)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.errors import InputError
from model.interventions import REGISTRY
from model.scenario import Scenario, load_scenario, parse_scenario

__all__ = [
    "SCENARIOS_ENV", "SCENARIO_ENV", "SIZES", "SIZE_ENV", "Settings", "Size", "build_pair", "default_scenarios_dir",
    "programme_label", "programme_names", "programmes_in_file", "scenario_files",
]

#: environment variable naming the folder of scenario files the dashboard offers
SCENARIOS_ENV = "SAFESTREETS_SCENARIOS"
#: environment variables naming the file and city size the page shows first (set by ``safestreets dashboard``)
SCENARIO_ENV = "SAFESTREETS_DASHBOARD_SCENARIO"
SIZE_ENV = "SAFESTREETS_DASHBOARD_SIZE"


@dataclass(frozen=True)
class Size:
    """A city size offered in the dashboard (``None``: as the scenario file says)."""

    label: str
    residents: int | None = None
    neighbourhoods: int | None = None

    def overrides(self) -> list[str]:
        out = []
        if self.residents is not None:
            out.append(f"city.residents={self.residents}")
        if self.neighbourhoods is not None:
            out.append(f"city.neighbourhoods={self.neighbourhoods}")
        return out


SIZES: dict[str, Size] = {
    "small": Size("Town: 20,000 people, 20 neighbourhoods", 20_000, 20),
    "file": Size("As in the scenario file"),
    "large": Size("Large city: 300,000 people, 120 neighbourhoods", 300_000, 120),
}


def default_scenarios_dir() -> Path:
    """``$SAFESTREETS_SCENARIOS``, else ``./scenarios``, else the scenarios shipped beside the package."""
    env = os.environ.get(SCENARIOS_ENV)
    if env:
        return Path(env)
    here = Path.cwd() / "scenarios"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "scenarios"


def scenario_files(folder: Path | None = None) -> list[str]:
    """File names of the scenarios in ``folder`` (``baseline.yaml`` first, then by name)."""
    folder = folder or default_scenarios_dir()
    names = sorted(p.name for p in folder.glob("*.yaml"))
    return sorted(names, key=lambda n: (n != "baseline.yaml", n))


def programme_names() -> list[str]:
    """The registered programmes, by name."""
    return sorted(REGISTRY)


def programme_label(name: str) -> str:
    """A programme's name for people: ``youth_programs`` -> ``Youth programs``."""
    return name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Settings:
    """One choice of the trainer. ``programmes`` holds ``(type, intensity)`` for each switch that is on
    (``None``: the programmes of the file, as the file sets them).

    ``seed`` ``None`` keeps the file's seed; ``folder`` ``None`` uses :func:`default_scenarios_dir`.
    """

    scenario: str = "baseline.yaml"
    size: str = "file"
    seed: int | None = None
    programmes: tuple[tuple[str, float], ...] | None = None
    folder: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.folder) if self.folder else default_scenarios_dir()


def _specs_in(path: Path, name: str) -> list[dict[str, Any]]:
    """The settings of every ``name`` programme in one scenario file (empty if none or no file)."""
    if not path.is_file():
        return []
    return [s.model_dump(mode="json") for s in load_scenario(path).interventions if s.type == name]


def programmes_in_file(scenario: str, folder: Path | None = None) -> dict[str, float]:
    """The programmes a scenario file switches on, with their intensity (for the switches' first state)."""
    folder = folder or default_scenarios_dir()
    out: dict[str, float] = {}
    for spec in load_scenario(folder / scenario).interventions:
        out.setdefault(spec.type, float(spec.intensity))
    return out


def build_pair(settings: Settings) -> tuple[Scenario, Scenario]:
    """The scenario without programmes and the one with the switched-on programmes (same city, same seed)."""
    folder = settings.path
    path = folder / settings.scenario
    if settings.size not in SIZES:
        raise InputError("dashboard", "size", f"one of {', '.join(SIZES)}", repr(settings.size))
    base = load_scenario(path, overrides=SIZES[settings.size].overrides(), seed=settings.seed)
    data = base.model_dump(mode="json")
    in_file = data.pop("interventions")
    chosen: list[dict[str, Any]] = in_file if settings.programmes is None else []
    for name, intensity in sorted(settings.programmes or ()):
        if name not in REGISTRY:
            raise InputError("dashboard", "programmes", f"a programme, one of {', '.join(programme_names())}",
                             repr(name))
        specs = ([s for s in in_file if s["type"] == name] or _specs_in(folder / f"{name}.yaml", name)
                 or [REGISTRY[name]().model_dump(mode="json")])
        chosen += [{**s, "intensity": float(intensity)} for s in specs]
    without = parse_scenario({**data, "name": f"{base.name}-without", "interventions": []}, str(path))
    with_ = parse_scenario({**data, "name": f"{base.name}-with", "interventions": chosen}, str(path))
    return without, with_
