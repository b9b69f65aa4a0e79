"""What every programme shares: when it runs, where it is delivered, what it costs.

Delivery is kept apart from effect (Starsim's split of delivery and product). A programme
subclass declares its parameters as fields and writes only :meth:`Intervention.deliver`,
which changes the *processes* of the model through ``model.levers`` or through the people it
enrols, never the outcome counts. Subclasses register themselves by their ``type`` name so a
scenario file can name them; no other file needs to change to add one.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, PrivateAttr, model_validator

from model.config import Section

if TYPE_CHECKING:
    from model.model import SecurityModel

__all__ = ["Intervention", "Target", "REGISTRY", "NEIGHBOURHOOD_ATTRIBUTES", "RANKING_OUTCOMES"]

#: Neighbourhood attributes a targeting rule may name.
NEIGHBOURHOOD_ATTRIBUTES = ("disadvantage", "collective_efficacy", "commerce", "residents")
#: Recent outcomes (last 90 days, per neighbourhood) a top-k target may rank by.
RANKING_OUTCOMES = (
    "homicides", "robberies", "extortions", "assaults", "crimes_reported", "gang_members",
    "recruits", "fear",
)

REGISTRY: dict[str, type[Intervention]] = {}


class Target(Section):
    """Where a programme is delivered.

    ``all`` (the default, also written as the string ``all``); ``ids`` (a list of neighbourhood
    indices, or of crossing names for border programmes); ``top_k`` with ``by`` (the k highest by
    a recent outcome, re-ranked every ``retarget_days`` of the programme); or an attribute rule
    ``attribute`` with ``above`` and/or ``below``.
    """

    ids: list[int | str] | None = Field(None, description="explicit neighbourhood ids (or crossing names)")
    top_k: int | None = Field(None, ge=1, description="the k highest-ranked units")
    by: Literal[RANKING_OUTCOMES] = Field("homicides", description="outcome used to rank for top_k")  # type: ignore[valid-type]
    attribute: Literal[NEIGHBOURHOOD_ATTRIBUTES] | None = Field(  # type: ignore[valid-type]
        None, description="neighbourhood attribute for a rule"
    )
    above: float | None = Field(None, description="rule: attribute strictly above this")
    below: float | None = Field(None, description="rule: attribute strictly below this")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data == "all" or data is None:
            return {}
        if isinstance(data, str):
            raise ValueError(f"expected 'all' or a mapping, found '{data}'")
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        kinds = [self.ids is not None, self.top_k is not None, self.attribute is not None]
        if sum(kinds) > 1:
            raise ValueError("expected only one of ids, top_k or attribute, found several")
        if self.attribute is not None and self.above is None and self.below is None:
            raise ValueError("expected 'above' or 'below' with 'attribute', found neither")
        if self.attribute is None and (self.above is not None or self.below is not None):
            raise ValueError("expected 'attribute' with 'above'/'below', found none")
        return self

    @property
    def kind(self) -> str:
        if self.ids is not None:
            return "ids"
        if self.top_k is not None:
            return "top_k"
        if self.attribute is not None:
            return "rule"
        return "all"

    def resolve(self, model: SecurityModel) -> np.ndarray:
        """Boolean mask over neighbourhoods for this target, as the city stands now."""
        k = model.world.n_neighbourhoods
        mask = np.zeros(k, dtype=bool)
        if self.kind == "all":
            mask[:] = True
        elif self.kind == "ids":
            ids = np.asarray(self.ids, dtype=np.int64)
            if ids.size and (ids.min() < 0 or ids.max() >= k):
                raise ValueError(f"neighbourhood id out of range 0..{k - 1}")
            mask[ids] = True
        elif self.kind == "top_k":
            score = model.recent_by_neighbourhood(self.by)
            order = np.lexsort((np.arange(k), -score))  # ties broken by id: deterministic
            mask[order[: min(self.top_k, k)]] = True
        else:
            values = model.world.attribute(self.attribute)
            mask[:] = True
            if self.above is not None:
                mask &= values > self.above
            if self.below is not None:
                mask &= values < self.below
        return mask


class Intervention(Section):
    """A programme: start, end, target, intensity and cost per unit, plus its own parameters.

    Subclasses set ``type`` as a ``Literal`` and implement :meth:`deliver` (the effect on the
    processes) and :meth:`units` (how many units are delivered, for costing).
    """

    type: str
    label: str | None = Field(None, description="name shown in reports; defaults to the type")
    start_year: float = Field(0.0, ge=0, description="years after the start of the run")
    end_year: float | None = Field(None, gt=0, description="years after the start; none = to the end")
    target: Target = Field(default_factory=Target, description="where the programme is delivered")
    intensity: float = Field(1.0, ge=0, le=10, description="dose; 0 switches the effect off exactly")
    cost_per_unit_usd: float = Field(0.0, ge=0, description="cost of one unit for one year, USD")
    retarget_days: int = Field(0, ge=0, description="re-resolve top-k targets every N days; 0 = fixed at start")

    #: what one unit is, for reports ("participant", "officer", ...)
    unit_name: ClassVar[str] = "unit"
    #: one-line summary of the mechanism, for reports and docs
    mechanism: ClassVar[str] = ""

    _mask: np.ndarray | None = PrivateAttr(None)
    _stream: str = PrivateAttr("")
    _next_retarget: int = PrivateAttr(0)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("type")
        default = field.default if field is not None else None
        if isinstance(default, str) and default:
            if default in REGISTRY and REGISTRY[default] is not cls:
                raise TypeError(f"two programmes registered as '{default}'")
            REGISTRY[default] = cls

    def __eq__(self, other: object) -> bool:
        """Programmes are equal when their settings are (runtime state such as enrolments is not compared)."""
        return type(self) is type(other) and self.model_dump() == other.model_dump()  # type: ignore[union-attr]

    __hash__ = None  # mutable settings: not hashable, like other pydantic models

    @model_validator(mode="after")
    def _window(self) -> Intervention:
        if self.end_year is not None and self.end_year <= self.start_year:
            raise ValueError(
                f"expected end_year after start_year ({self.start_year}), found {self.end_year}"
            )
        return self

    # ---- lifecycle -------------------------------------------------------------------------
    def init(self, model: SecurityModel, stream_name: str) -> None:
        """Bind to a model at construction; resolve a fixed target where possible."""
        self._stream = stream_name
        self._mask = None
        self._next_retarget = self.start_step(model)

    def start_step(self, model: SecurityModel) -> int:
        return int(round(self.start_year * model.steps_per_year))

    def end_step(self, model: SecurityModel) -> int:
        if self.end_year is None:
            return np.iinfo(np.int32).max
        return int(round(self.end_year * model.steps_per_year))

    def is_active(self, model: SecurityModel) -> bool:
        return self.start_step(model) <= model.t < self.end_step(model)

    def rng(self, model: SecurityModel) -> np.random.Generator:
        """This programme's own random stream: its draws never shift anyone else's."""
        return model.streams.get(self._stream)

    @property
    def mask(self) -> np.ndarray:
        """Neighbourhoods currently targeted (boolean, per neighbourhood)."""
        assert self._mask is not None, "programme not delivered yet"
        return self._mask

    def step(self, model: SecurityModel) -> float:
        """Deliver for one step if active; returns the cost of this step in USD."""
        if not self.is_active(model):
            self.on_inactive(model)
            return 0.0
        if self._mask is None or (self.retarget_days and model.t >= self._next_retarget):
            self._mask = self.resolve_target(model)
            self._next_retarget = model.t + max(self.retarget_days, 1)
        self.deliver(model)
        return self.units(model) * self.cost_per_unit_usd / model.steps_per_year

    def resolve_target(self, model: SecurityModel) -> np.ndarray:
        return self.target.resolve(model)

    # ---- what subclasses write ---------------------------------------------------------------
    @abstractmethod
    def deliver(self, model: SecurityModel) -> None:
        """Change the processes for this step (levers, enrolments) where targeted."""

    @abstractmethod
    def units(self, model: SecurityModel) -> float:
        """Units delivered now (participants, officers, crossings...), for costing."""

    def cost_mask(self, model: SecurityModel) -> np.ndarray:
        """Neighbourhoods that carry this programme's cost (its target by default)."""
        if self._mask is None or self._mask.size != model.world.n_neighbourhoods:
            return np.ones(model.world.n_neighbourhoods, dtype=bool)
        return self._mask

    def on_inactive(self, model: SecurityModel) -> None:
        """Called on steps when the programme is outside its window (e.g. to end enrolments)."""

    @property
    def display_name(self) -> str:
        return self.label or self.type
