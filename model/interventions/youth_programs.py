"""Youth education and job programmes: enrol at-risk youth; fewer of them join gangs or offend.

Delivery: slots for ``coverage`` x intensity of the eligible youth (12-24, not in a gang, free)
in the targeted neighbourhoods, filled by risk (thinning on personal risk), in rolling cohorts
of ``duration_years``. Effects on the enrolled (mechanisms in recruitment and crime): the odds
of joining a gang fall (G.R.E.A.T.: -39% at one year, Esbensen et al. 2012), offending falls
(Becoming a Man: violent-crime arrests -45 to -50%, Heller et al. 2017), and a share of idle
participants find work. Graduates keep a smaller effect (about -24% over four years, unverified).
Cost per participant: about $1,100-2,000 (BAM). Sources in docs/calibration.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, PrivateAttr

from model.interventions.base import Intervention
from model.population import Population, Status, sample_in_blocks

if TYPE_CHECKING:
    from model.model import SecurityModel


class YouthPrograms(Intervention):
    """School-based prevention, CBT and job training for youth at risk."""

    type: Literal["youth_programs"] = "youth_programs"
    cost_per_unit_usd: float = Field(1_500.0, ge=0, description="per participant-year")
    coverage: float = Field(0.3, ge=0, le=1, description="share of eligible youth enrolled at intensity 1")
    duration_years: float = Field(1.0, gt=0, le=10, description="length of one cohort")
    recruitment_odds_ratio: float = Field(0.61, ge=0, le=1, description="joining hazard ratio while enrolled")
    graduate_odds_ratio: float = Field(0.76, ge=0, le=1, description="joining hazard ratio after completing")
    offending_reduction: float = Field(0.45, ge=0, le=1, description="offending reduction while enrolled")
    job_placement: float = Field(0.2, ge=0, le=1, description="share of idle participants who find work")

    unit_name = "participant"
    mechanism = "enrolled youth join gangs and offend less; some find work"

    _ids: np.ndarray = PrivateAttr(default_factory=lambda: np.zeros(0, np.int64))
    _ends: np.ndarray = PrivateAttr(default_factory=lambda: np.zeros(0, np.int64))
    _graduates: int = PrivateAttr(0)

    def _effects(self, model: SecurityModel) -> None:
        lv = model.levers
        if self._ids.size:
            lv.enrolled_recruitment *= self.recruitment_odds_ratio
            lv.enrolled_offending *= 1.0 - self.offending_reduction
        if self._graduates:
            lv.graduate_recruitment *= self.graduate_odds_ratio

    def _graduate(self, model: SecurityModel, done: np.ndarray) -> None:
        ids = self._ids[done]
        people = model.people
        still = people.has(ids, Status.ENROLLED)  # a row reset by a death is no longer enrolled
        people.set_flag(ids[still], Status.ENROLLED, on=False)
        people.set_flag(ids[still], Status.GRADUATE)
        self._graduates += int(still.sum())
        self._ids, self._ends = self._ids[~done], self._ends[~done]

    def deliver(self, model: SecurityModel) -> None:
        self._graduate(model, self._ends <= model.t)
        people = model.people
        youth = model.hood.youth * self.mask
        wanted = int(round(self.intensity * self.coverage * youth.sum())) - self._ids.size
        if wanted > 0:
            rng = self.rng(model)
            hoods = np.repeat(np.arange(youth.size), rng.multinomial(wanted, youth / youth.sum()))

            def at_risk(ids: np.ndarray) -> np.ndarray:
                ok = (people.is_youth(ids, model.day) & (people.gang[ids] < 0) & people.free(ids)
                      & ~people.has(ids, Status.ENROLLED | Status.GRADUATE))
                return ok * people.risk[ids] / Population.RISK_CAP

            ids = sample_in_blocks(rng, people.block_start, hoods, at_risk)
            ids = np.unique(ids[ids >= 0])
            people.set_flag(ids, Status.ENROLLED)
            idle = ~people.has(ids, Status.SCHOOL | Status.EMPLOYED)
            placed = ids[idle & (rng.random(ids.size) < self.job_placement)]
            people.set_flag(placed, Status.EMPLOYED)
            end = model.t + int(round(self.duration_years * model.steps_per_year))
            self._ids = np.concatenate([self._ids, ids])
            self._ends = np.concatenate([self._ends, np.full(ids.size, end, np.int64)])
            model.tally.count("enrolments", people.home[ids])
        self._effects(model)

    def on_inactive(self, model: SecurityModel) -> None:
        if self._ids.size and model.t >= self.start_step(model):
            self._graduate(model, np.ones(self._ids.size, bool))
        self._effects(model)

    def units(self, model: SecurityModel) -> float:
        return float(self._ids.size)
