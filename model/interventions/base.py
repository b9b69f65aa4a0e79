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


class Delivery:
    """A programme's state in one run, kept in a plain object.

    Reading a pydantic private attribute goes through ``BaseModel.__getattr__`` (about 1 us); the
    hot path reads this object once per call through :attr:`Intervention.delivery` and then plain
    slots. Everything derived from the target (counts, cost weights, lever blocks) is cached here
    and recomputed only when the target is re-resolved, which makes a new mask array.
    """

    __slots__ = (
        "stream", "start", "end", "mask", "next_retarget", "targeted", "targeted_residents", "everywhere",
        "cost_weights", "effects", "effects_mask", "factors", "shifts",
    )

    def __init__(self, stream: str, start: int, end: int, n_neighbourhoods: int) -> None:
        self.stream = stream
        self.start, self.end = start, end  # the window in steps, [start, end)
        self.mask: np.ndarray | None = None  # the current target
        self.next_retarget = start
        self.targeted: list[int] = []  # indices where the mask is true (len(targeted): how many)
        self.targeted_residents = 0.0  # residents in the targeted neighbourhoods
        self.everywhere = np.ones(n_neighbourhoods, dtype=bool)
        self.cost_weights: tuple[np.ndarray, Any] | None = None  # Intervention.cost_weights, for the current target
        self.effects: dict[str, float] | None = None  # the lever effects factors/shifts were built for
        self.effects_mask: np.ndarray | None = None
        self.factors: np.ndarray | None = None
        self.shifts: np.ndarray | None = None


class Intervention(Section):
    """A programme: start, end, target, intensity and cost per unit, plus its own parameters.

    Subclasses set ``type`` as a ``Literal`` and implement :meth:`deliver` (the effect on the
    processes) and :meth:`units` (how many units are delivered, for costing). Settings are read
    when the programme is bound to a model (:meth:`init`) or when it delivers; changing the
    window (``start_year``, ``end_year``) after :meth:`init` has no effect on that run.
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
    #: the class of the per-run state (a subclass of Delivery when a programme keeps more)
    delivery_class: ClassVar[type[Delivery]] = Delivery

    _delivery: Delivery | None = PrivateAttr(None)

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
        """Bind to a model at construction: fresh per-run state; the target is resolved on the first active step."""
        self._delivery = self.delivery_class(
            stream_name, self.start_step(model), self.end_step(model), model.world.n_neighbourhoods)
        self._weigh_costs(model)

    @property
    def delivery(self) -> Delivery:
        """This run's state (None before :meth:`init`).

        Read from the private-attribute dict directly: the same value as ``self._delivery`` at a
        tenth of the cost, as pydantic's ``__getattr__`` is skipped.
        """
        return self.__pydantic_private__["_delivery"]  # type: ignore[index]

    def start_step(self, model: SecurityModel) -> int:
        return int(round(self.start_year * model.steps_per_year))

    def end_step(self, model: SecurityModel) -> int:
        if self.end_year is None:
            return np.iinfo(np.int32).max
        return int(round(self.end_year * model.steps_per_year))

    def is_active(self, model: SecurityModel) -> bool:
        run = self.delivery
        return run.start <= model.t < run.end

    def rng(self, model: SecurityModel) -> np.random.Generator:
        """This programme's own random stream: its draws never shift anyone else's."""
        return model.streams.get(self.delivery.stream)

    @property
    def mask(self) -> np.ndarray:
        """Neighbourhoods currently targeted (boolean, per neighbourhood)."""
        run = self.delivery
        assert run is not None and run.mask is not None, "programme not delivered yet"
        return run.mask

    def step(self, model: SecurityModel) -> float:
        """Deliver for one step if active; returns the cost of this step in USD."""
        run = self.delivery
        t = model.t
        if not run.start <= t < run.end:
            self.on_inactive(model)
            return 0.0
        if run.mask is None or (self.retarget_days and t >= run.next_retarget):
            self.retarget(model)
            run.next_retarget = t + max(round(self.retarget_days / model.step_days), 1)  # days -> steps
        self.deliver(model)
        return self.units(model) * self.cost_per_unit_usd / model.steps_per_year

    def retarget(self, model: SecurityModel) -> None:
        """Resolve the target now, and the counts that follow from it (cached until the next retarget)."""
        run = self.delivery
        run.mask = mask = self.resolve_target(model)
        run.targeted = np.flatnonzero(mask).tolist()
        residents = model.world.residents
        run.targeted_residents = float(residents[mask].sum()) if mask.size == residents.size else 0.0
        self._weigh_costs(model)

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
        """Neighbourhoods that carry this programme's cost (its target by default). Do not modify it.

        Asked for when the target is resolved (at :meth:`init` and every :meth:`retarget`): the costs fall
        where this says as long as the target stands.
        """
        run = self.delivery
        mask = run.mask
        if mask is None or mask.size != run.everywhere.size:
            return run.everywhere
        return mask

    def cost_weights(self, model: SecurityModel) -> tuple[np.ndarray, Any]:
        """``(weights, total)``: residents where the cost falls, and ``max(weights.sum(), 1)``.

        The cost of a step is spread over neighbourhoods as ``cost * weights / total``. Worked out when
        the target is resolved (neighbourhood residents are fixed for the run), so this is a lookup.
        """
        return self.delivery.cost_weights

    def _weigh_costs(self, model: SecurityModel) -> None:
        """Work :meth:`cost_weights` out for the current target."""
        weights = model.world.residents * self.cost_mask(model)
        self.delivery.cost_weights = (weights, max(weights.sum(), 1))

    def turn_levers(self, model: SecurityModel, **effects: float) -> None:
        """Turn per-neighbourhood levers in the targeted neighbourhoods, as ``lever[mask] *= value`` for
        multiplier levers and ``lever[mask] += value`` for additive ones (:mod:`model.levers`).

        The two blocks that do it are rebuilt only when the values or the target change (refilled in
        place when only the values do), so a steady programme costs two array operations a step.
        """
        run = self.delivery
        if effects != run.effects or run.mask is not run.effects_mask:
            same_levers = run.mask is run.effects_mask and effects.keys() == run.effects.keys()  # type: ignore[union-attr]
            refill = (run.factors, run.shifts) if same_levers else None
            where = slice(None) if len(run.targeted) == run.mask.size else run.mask  # a[:] = x: the same writes
            run.factors, run.shifts = model.levers.effect_blocks(effects, where, refill)
            run.effects, run.effects_mask = effects, run.mask
        model.levers.turn(run.factors, run.shifts)

    def on_inactive(self, model: SecurityModel) -> None:
        """Called on steps when the programme is outside its window (e.g. to end enrolments)."""

    @property
    def display_name(self) -> str:
        return self.label or self.type
