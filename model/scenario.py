"""The typed scenario: every field has a default, unknown keys fail, cross-field checks live here.

A scenario file is YAML *data* (``yaml.safe_load`` semantics; no tags are evaluated). A file may
``extends:`` another, relative to itself, and override parts of it: mappings merge key by key,
lists (such as ``interventions``) replace the parent's list. ``--set a.b.c=value`` overrides any
field by its dotted path after merging. Every problem becomes one :class:`~model.errors.InputError`
line naming the file, the field path, what was expected and what was found.

Parameter values that come from the literature cite the entry of ``docs/calibration.md`` that
gives the source (which in turn quotes ``shared/reference/figures.md``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from model.config import Section
from model.errors import InputError
from model.interventions import REGISTRY, Intervention

__all__ = [
    "Scenario", "City", "Gangs", "Police", "Justice", "Crime", "Reporting", "Perception",
    "Trafficking", "load_scenario", "parse_scenario", "scenario_schema", "scenario_hash",
    "apply_overrides", "read_yaml", "deep_merge",
]

CRIME_TYPES = ("homicide", "robbery", "extortion", "assault", "drug_sale")


def _per_type(**values: float) -> Any:
    return Field(default_factory=lambda: dict(values))


class City(Section):
    """The city: how many people, how they are spread, how unequal the neighbourhoods are."""

    residents: int = Field(100_000, ge=100, le=20_000_000, description="people in the city")
    neighbourhoods: int = Field(60, ge=1, le=20_000, description="neighbourhoods (graph nodes)")
    youth_share: float = Field(
        0.25, ge=0, le=0.6,
        description="share aged 12-24 (figures.md s7: 15-24 is 19-21% in the Northern Triangle)",
    )
    school_enrolment: float = Field(0.55, ge=0, le=1, description="share of youth 12-24 in school")
    youth_employment: float = Field(0.20, ge=0, le=1, description="share of youth 12-24 employed")
    disadvantage_mean: float = Field(0.5, ge=0, le=1, description="mean neighbourhood disadvantage")
    disadvantage_spread: float = Field(0.2, ge=0, le=0.5, description="sd of disadvantage")
    collective_efficacy_mean: float = Field(0.4, ge=0, le=1, description="mean collective efficacy")
    size_spread: float = Field(0.5, ge=0, le=2, description="lognormal sigma of neighbourhood sizes")
    layout: Literal["geometric", "grid"] = Field("geometric", description="how adjacency is drawn")

    @model_validator(mode="after")
    def _checks(self) -> City:
        if self.school_enrolment + self.youth_employment > 1:
            raise ValueError(
                "expected school_enrolment + youth_employment <= 1, found "
                f"{self.school_enrolment + self.youth_employment:g}"
            )
        if self.residents < 20 * self.neighbourhoods:
            raise ValueError(
                f"expected at least 20 residents per neighbourhood, found {self.residents} "
                f"residents in {self.neighbourhoods} neighbourhoods"
            )
        return self


class Gangs(Section):
    """Street gangs (maras): size, recruitment and exit, rivalry, intimidation, economics."""

    count: int = Field(2, ge=0, le=12, description="rival gangs in the city")
    members_per_100k: float = Field(
        300.0, ge=0, le=3000,
        description="initial members per 100,000 (figures.md s4: HN 149, ES ~323 per 100k, UNODC 2012)",
    )
    exit_per_year: float = Field(0.10, ge=0, le=1, description="annual hazard of leaving the gang")
    peer_influence: float = Field(
        1.0, ge=0, le=10, description="joining hazard x (1 + peer_influence x friends already in a gang)"
    )
    retaliation: float = Field(
        0.4, ge=0, le=0.95, description="expected retaliatory attacks per rivalry killing (< 1)"
    )
    retaliation_days: float = Field(21.0, gt=0, le=365, description="half-life of retaliation memory")
    intimidation: float = Field(
        0.6, ge=0, le=1, description="share of reporting suppressed under full gang control"
    )
    extortion_payment_usd: float = Field(
        60.0, ge=0,
        description="payment per extortion event (assumption; national totals such as ES ~$400M a year, "
        "figures.md s4, also count the weekly 'rent' businesses pay, which is not one event each)"
    )
    drug_margin_usd: float = Field(8.0, ge=0, description="gang margin per retail drug sale")
    weapons_per_member: float = Field(0.6, ge=0, le=5, description="initial firearms per member")
    expansion_rate: float = Field(0.02, ge=0, le=1, description="daily speed of territorial change")
    scarcity_violence: float = Field(
        0.5, ge=0, le=5,
        description="rise in rivalry per unit drug scarcity (value assumed; mechanism from figures.md s5: "
        "Castillo et al. 2020)",
    )


class Police(Section):
    """The police force: size, deployment strategy, deterrence, clearance, corruption."""

    officers_per_100k: float = Field(250.0, ge=0, le=2000, description="sworn officers per 100,000")
    unit_size: int = Field(5, ge=1, le=500, description="officers per unit (a patrol squad; a Mesa agent)")
    strategy: Literal["uniform", "reported_crime", "hotspot", "community"] = Field(
        "reported_crime", description="how units are assigned to neighbourhoods"
    )
    reallocate_days: int = Field(7, ge=1, le=365, description="days between reassignments")
    corrupt_share: float = Field(0.2, ge=0, le=1, description="share of officers on a gang's payroll")
    deterrence: float = Field(
        0.6, ge=0, le=10, description="guardianship from one officer per 1,000 residents"
    )
    clearance: dict[str, float] = Field(
        default_factory=lambda: {
            "homicide": 0.35, "robbery": 0.08, "extortion": 0.10, "assault": 0.15, "drug_sale": 0.02,
        },
        description="arrest probability per reported crime, by type, at average police presence",
    )
    proactive_arrests_per_officer_year: float = Field(
        1.0, ge=0, le=100, description="gang-member arrests from patrol and tips, per officer-year"
    )

    @field_validator("clearance")
    @classmethod
    def _clearance(cls, value: dict[str, float]) -> dict[str, float]:
        _check_per_type(value, "clearance", 0.0, 1.0)
        return value


class Justice(Section):
    """Arrest -> prosecution -> conviction -> prison; impunity is high at baseline."""

    prosecution_probability: float = Field(
        0.35, ge=0, le=1, description="share of arrests prosecuted"
    )
    conviction_probability: float = Field(
        0.30, ge=0, le=1,
        description="share of prosecutions convicted (with clearance, ~4% of homicides convicted; "
        "figures.md s4: 3.7% HN 2010-13, ~5% Northern Triangle)",
    )
    case_days: float = Field(120.0, gt=0, le=3650, description="mean days from arrest to verdict")
    detain_pending: bool = Field(True, description="arrested people are held until verdict")
    sentence_years: dict[str, float] = Field(
        default_factory=lambda: {
            "homicide": 20.0, "robbery": 5.0, "extortion": 8.0, "assault": 3.0, "drug_sale": 4.0,
        },
        description="mean sentence by crime type, years",
    )
    deterrence: float = Field(
        0.3, ge=0, le=3,
        description="elasticity of offending to the perceived certainty of conviction (assumed; "
        "certainty, not severity, deters)",
    )

    @field_validator("sentence_years")
    @classmethod
    def _sentences(cls, value: dict[str, float]) -> dict[str, float]:
        _check_per_type(value, "sentence_years", 0.0, 100.0)
        return value


class Crime(Section):
    """Baseline crime rates (calibration targets at the start) and how crimes arise."""

    homicide_rate: float = Field(
        50.0, ge=0, le=500,
        description="homicides per 100,000 a year at the start (figures.md s1: HN 90, ES 41, GT 40 in 2012)",
    )
    robbery_rate: float = Field(6000.0, ge=0, le=100_000, description="robberies per 100,000 a year")
    extortion_rate: float = Field(2500.0, ge=0, le=100_000, description="extortions per 100,000 a year")
    assault_rate: float = Field(3000.0, ge=0, le=100_000, description="assaults per 100,000 a year")
    drug_sale_rate: float = Field(
        40_000.0, ge=0, le=1_000_000, description="retail drug sales per 100,000 a year"
    )
    rivalry_share: float = Field(0.55, ge=0, le=1, description="share of homicides from gang rivalry")
    escalation_share: float = Field(
        0.30, ge=0, le=1, description="share of homicides from robberies and assaults gone lethal"
    )
    repeat_victimisation: float = Field(
        0.5, ge=0, le=5, description="extra victimisation risk per past victimisation (capped at 3)"
    )
    gun_lethality: float = Field(
        0.8, ge=0, le=1,
        description="share of lethal violence that needs a gun (figures.md s1: ~77-84% of homicides by "
        "firearm, unverified)",
    )

    @model_validator(mode="after")
    def _shares(self) -> Crime:
        if self.rivalry_share + self.escalation_share > 1:
            raise ValueError(
                "expected rivalry_share + escalation_share <= 1, found "
                f"{self.rivalry_share + self.escalation_share:g}"
            )
        return self


class Reporting(Section):
    """Who tells the police: base shares by type, moved by trust and by gang intimidation."""

    base: dict[str, float] = Field(
        default_factory=lambda: {
            "homicide": 0.95, "robbery": 0.30, "extortion": 0.08, "assault": 0.35, "drug_sale": 0.02,
        },
        description="share reported at the initial trust and no intimidation "
        "(figures.md s4: ~3 in 4 unreported, IDB 2024; extortion dark figure 92-95%)",
    )
    intimidation_sensitivity: dict[str, float] = Field(
        default_factory=lambda: {
            "homicide": 0.1, "robbery": 0.4, "extortion": 1.0, "assault": 0.6, "drug_sale": 1.0,
        },
        description="how strongly gang intimidation suppresses reporting, by type",
    )
    trust_elasticity: float = Field(
        1.5, ge=0, le=10, description="reporting probability x exp(elasticity x (trust - initial trust))"
    )

    @field_validator("base", "intimidation_sensitivity")
    @classmethod
    def _shares(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        _check_per_type(value, str(info.field_name), 0.0, 1.0)
        return value


class Perception(Section):
    """Fear of crime, trust in the police, and the economic activity fear suppresses."""

    initial_fear: float = Field(0.45, ge=0, le=1, description="mean fear at the start (0-1)")
    initial_trust: float = Field(0.35, ge=0, le=1, description="mean trust in police at the start")
    victim_fear_shock: float = Field(0.3, ge=0, le=1, description="fear added to a victim")
    memory_days: float = Field(180.0, gt=0, le=3650, description="half-life of personal shocks")
    homicide_fear: float = Field(
        0.004, ge=0, le=1, description="neighbourhood fear per homicide per 100k a year (annualised)"
    )
    gang_fear: float = Field(0.25, ge=0, le=1, description="fear from full gang control")
    adjust_days: float = Field(60.0, gt=0, le=3650, description="time for neighbourhood moods to adjust")
    corruption_distrust: float = Field(
        0.4, ge=0, le=1, description="trust lost per unit of corrupt share above the baseline share"
    )
    impunity_distrust: float = Field(0.15, ge=0, le=1, description="trust lost to unpunished crime")
    response_trust: float = Field(0.08, ge=0, le=1, description="trust a reporting victim gains on an arrest")
    neglect_distrust: float = Field(0.04, ge=0, le=1, description="trust a reporting victim loses otherwise")
    activity_fear_elasticity: float = Field(
        0.5, ge=0, le=1,
        description="economic activity lost per unit fear (figures.md: fear keeps people off markets and buses)",
    )


class Trafficking(Section):
    """The regional network: shipments from source to market through transit and border nodes."""

    transit_tonnes_per_year: float = Field(
        300.0, ge=0, le=5000, description="cocaine passing through the region a year, tonnes"
    )
    shipments_per_year: int = Field(2000, ge=1, le=1_000_000, description="shipments a year")
    crossings: int = Field(4, ge=1, le=20, description="border crossings in the network")
    city_crossings: int = Field(2, ge=1, le=20, description="crossings that feed the city's market")
    local_spill_kg_per_100k: float = Field(
        250.0, ge=0, description="kg a year left in the city's market per 100,000, at baseline flows"
    )
    other_crossing_supply: float = Field(
        0.5, ge=0, le=1,
        description="how much a load through another crossing supplies the city's market, relative to "
        "the city's own crossings (domestic distribution; interdiction rarely cuts supply much, figures.md s5)",
    )
    guns_per_100k_year: float = Field(60.0, ge=0, description="firearms smuggled in per 100,000 a year")
    cash_export_share: float = Field(0.3, ge=0, le=1, description="share of gang revenue sent out as bulk cash")
    crossing_seizure: float = Field(0.06, ge=0, le=0.9, description="seizure probability at a crossing")
    transit_seizure: float = Field(0.03, ge=0, le=0.9, description="seizure probability on a transit leg")
    risk_aversion: float = Field(12.0, ge=0, le=1000, description="cost weight of perceived seizure risk")
    learning_rate: float = Field(
        0.05, ge=0, le=1, description="per-step rate at which traffickers update perceived risk (balloon effect)"
    )

    @model_validator(mode="after")
    def _crossings(self) -> Trafficking:
        if self.city_crossings > self.crossings:
            raise ValueError(
                f"expected city_crossings <= crossings ({self.crossings}), found {self.city_crossings}"
            )
        return self


def _check_per_type(values: dict[str, float], name: str, low: float, high: float) -> None:
    unknown = sorted(set(values) - set(CRIME_TYPES))
    if unknown:
        hint = _did_you_mean(unknown[0], CRIME_TYPES)
        raise ValueError(f"expected crime types {', '.join(CRIME_TYPES)}{hint}, found '{unknown[0]}'")
    missing = [c for c in CRIME_TYPES if c not in values]
    if missing:
        raise ValueError(f"expected a value for every crime type, found none for '{missing[0]}'")
    for key, value in values.items():
        if not low <= value <= high:
            raise ValueError(f"expected {key} within [{low:g}, {high:g}], found {value:g}")


def _intervention_union() -> Any:
    kinds = tuple(REGISTRY[name] for name in sorted(REGISTRY))
    return Annotated[Union[kinds], Field(discriminator="type")]  # noqa: UP007


InterventionSpec = _intervention_union()


class Scenario(Section):
    """A whole scenario: the city, its actors, and the programmes switched on."""

    name: str = Field(
        "scenario", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$",
        description="used for the results folder; defaults to the file name",
    )
    description: str = Field("", description="free text shown in reports")
    years: float = Field(3.0, gt=0, le=50, description="simulated horizon in years")
    steps_per_year: int = Field(365, ge=12, le=365, description="steps a year (365 = daily)")
    seed: int = Field(0, ge=0, lt=2**63, description="root seed; each process has its own stream")
    spin_up_years: float = Field(
        1.0, ge=0, le=10,
        description="years simulated before the start, with no programmes and nothing recorded, so gangs' "
        "territories and custody settle; rates are re-calibrated to the stated targets at the start",
    )
    city: City = Field(default_factory=City)
    gangs: Gangs = Field(default_factory=Gangs)
    police: Police = Field(default_factory=Police)
    justice: Justice = Field(default_factory=Justice)
    crime: Crime = Field(default_factory=Crime)
    reporting: Reporting = Field(default_factory=Reporting)
    perception: Perception = Field(default_factory=Perception)
    trafficking: Trafficking = Field(default_factory=Trafficking)
    interventions: list[InterventionSpec] = Field(  # type: ignore[valid-type]
        default_factory=list, description="programmes; each item's `type` names one"
    )

    @model_validator(mode="after")
    def _programmes_fit(self) -> Scenario:
        for i, spec in enumerate(self.interventions):
            if spec.start_year >= self.years:
                raise ValueError(
                    f"interventions[{i}].start_year: expected a start before the end of the run "
                    f"({self.years:g} years), found {spec.start_year:g}"
                )
            ids = spec.target.ids
            if ids and spec.type == "border_interdiction":
                names = [f"crossing_{c}" for c in range(self.trafficking.crossings)]
                bad = [c for c in ids if c not in names and not (isinstance(c, int) and 0 <= c < len(names))]
                if bad:
                    raise ValueError(
                        f"interventions[{i}].target.ids: expected crossing names ({', '.join(names)}), "
                        f"found {bad[0]!r}"
                    )
            elif ids:
                bad = [i for i in ids if not isinstance(i, int) or not 0 <= i < self.city.neighbourhoods]
                if bad:
                    raise ValueError(
                        f"interventions[{i}].target.ids: expected neighbourhood ids within "
                        f"0..{self.city.neighbourhoods - 1}, "
                        f"found {bad[0]!r}"
                    )
        return self

    @property
    def steps(self) -> int:
        """Number of steps in the horizon."""
        return int(round(self.years * self.steps_per_year))

    def to_yaml(self) -> str:
        """The scenario as resolved, in YAML that loads back to an equal scenario."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


# ---------------------------------------------------------------------------------------------
# Reading files


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that also rejects duplicate keys (a silent override is a planner's trap)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (line {mark.line + 1})", mark
            )
        seen[key] = loader.construct_object(value_node, deep=deep)
    return seen


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML mapping as plain data, or raise :class:`InputError`."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(source, "", "an existing file", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(source, "", "a readable UTF-8 text file", type(exc).__name__) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.constructor.ConstructorError as exc:
        line = f"line {exc.problem_mark.line + 1}" if exc.problem_mark else "document"
        problem = str(exc.problem or "")
        if "constructor for the tag" in problem:
            tag = problem.split("tag", 1)[1].strip().strip("'")
            raise InputError(
                source, line, "plain YAML data (tags that build objects are not allowed)", f"tag {tag}"
            ) from None
        raise InputError(source, line, "valid YAML", problem) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(source, line, "valid YAML", problem) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(source, "(top level)", "a mapping of fields", type(data).__name__)
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it: mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve_extends(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve() if path.exists() else path
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise InputError(str(chain[-1]), "extends", "no cycle of extends", cycle)
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise InputError(str(path), "extends", "a file name (string)", repr(parent))
    parent_path = (path.parent / parent).resolve()
    if not parent_path.exists():
        raise InputError(str(path), "extends", "an existing scenario file", f"no file '{parent}'")
    return deep_merge(_resolve_extends(parent_path, (*chain, path)), data)


def _parse_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str] | None) -> dict[str, Any]:
    """Apply ``dotted.path=value`` strings to raw scenario data (values parsed as YAML scalars)."""
    out = json.loads(json.dumps(data))  # a deep copy of plain data
    for item in overrides or []:
        if "=" not in item:
            raise InputError("--set", item, "dotted.path=value", f"'{item}'")
        dotted, raw = item.split("=", 1)
        parts = [p for p in dotted.strip().split(".")]
        if not dotted.strip() or any(not p for p in parts):
            raise InputError("--set", dotted, "a dotted field path like city.residents", f"'{dotted}'")
        node: Any = out
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise InputError(
                        "--set", dotted, f"a list index below {len(node)}", f"'{part}'"
                    )
                if last:
                    node[int(part)] = _parse_value(raw)
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = _parse_value(raw)
                else:
                    node = node.setdefault(part, {})
            else:
                raise InputError("--set", dotted, "a path into mappings and lists", f"'{part}'")
    return out


def load_scenario(
    path: str | Path, overrides: list[str] | None = None, **fields: Any
) -> Scenario:
    """Load, merge (``extends``), override and validate a scenario file.

    >>> sc = load_scenario("scenarios/baseline.yaml", overrides=["city.residents=20000"])
    >>> sc.city.residents
    20000

    Keyword ``fields`` are top-level overrides (``years=1``, ``seed=3``).
    """
    path = Path(path)
    data = _resolve_extends(path)
    if "name" not in read_yaml(path):  # a child does not inherit its parent's name
        data["name"] = path.stem
    data = deep_merge(data, {k: v for k, v in fields.items() if v is not None})
    data = apply_overrides(data, overrides)
    return parse_scenario(data, source=str(path), overrides=overrides)


def parse_scenario(
    data: dict[str, Any], source: str = "<scenario>", overrides: list[str] | None = None
) -> Scenario:
    """Validate raw data into a :class:`Scenario`, turning the first problem into one line."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _to_input_error(exc, source, overrides or []) from None


# ---------------------------------------------------------------------------------------------
# Error formatting


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at the parent of ``loc`` (for 'did you mean')."""
    cls: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if cls is Scenario and part == "interventions":
            cls = "interventions"
            continue
        if cls == "interventions":
            cls = REGISTRY.get(part, Intervention)
            continue
        field = getattr(cls, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        cls = annotation if isinstance(annotation, type) else None
        if cls is None:
            return []
    return list(getattr(cls, "model_fields", {}))


def _path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif isinstance(previous, int) and part in REGISTRY and parts[:1] == ["interventions"]:
            pass  # pydantic's discriminator tag in the location; not a field
        else:
            parts.append(("." if parts else "") + str(part))
        previous = part
    return "".join(parts)


def _found(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _to_input_error(exc: ValidationError, source: str, overrides: list[str]) -> InputError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    kind = err["type"]
    field = _path(loc)
    for item in overrides:
        dotted = item.split("=", 1)[0].strip()
        if field.replace("[", ".").replace("]", "").startswith(dotted) or dotted.startswith(
            field.replace("[", ".").replace("]", "")
        ) and field:
            source = f"--set {item}"
            break
    if kind == "extra_forbidden":
        key = loc[-1]
        valid = _fields_at(loc)
        hint = _did_you_mean(key, valid)
        return InputError(source, field, f"a known field{hint}", f"unknown key '{key}'")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = err.get("ctx", {}).get("tag", err.get("input"))
        names = sorted(REGISTRY)
        hint = _did_you_mean(tag, names)
        if kind == "union_tag_not_found":
            return InputError(source, field + ".type", f"a programme type, one of {', '.join(names)}", "no type")
        return InputError(
            source, field + ".type", f"a programme type{hint or ', one of ' + ', '.join(names)}",
            f"'{tag}'",
        )
    msg = err["msg"]
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        located = re.match(r"^([A-Za-z_][\w.\[\]]*): (expected .*)$", text)
        if located:  # a cross-field check that names the field it is about
            field = ".".join(p for p in (field, located.group(1)) if p)
            text = located.group(2)
        if text.startswith("expected ") and ", found " in text:
            expected, found = text[len("expected ") :].rsplit(", found ", 1)
            return InputError(source, field or "(top level)", expected, found)
        return InputError(source, field or "(top level)", "a valid value", text)
    if kind == "literal_error":
        expected = msg.removeprefix("Input should be ")
        choices = err.get("ctx", {}).get("expected", "")
        hint = _did_you_mean(err.get("input"), [c.strip(" '") for c in choices.replace(" or ", ",").split(",")])
        return InputError(source, field, expected + hint, _found(err.get("input")))
    expected = msg.removeprefix("Input should be ").removeprefix("Input ")
    return InputError(source, field or "(top level)", expected, _found(err.get("input")))


# ---------------------------------------------------------------------------------------------
# Schema and identity


def scenario_schema() -> dict[str, Any]:
    """JSON Schema of scenario files, for editor autocompletion (includes ``extends``)."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "another scenario file (relative path) that this one overrides",
    }
    schema["title"] = "Safe Streets scenario"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def scenario_hash(scenario: Scenario) -> str:
    """Stable hash of a scenario as resolved (name and description excluded)."""
    data = scenario.model_dump(mode="json", exclude={"name", "description"})
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
