"""Youth education and job programmes: enrol at-risk youth; fewer of them join gangs or offend.

Delivery: slots for ``coverage`` x intensity of the youth (12-24) in the targeted
neighbourhoods, filled with eligible youth (not in a gang, free, never enrolled) by risk
(thinning on personal risk), in rolling cohorts of ``duration_years``. A young person is enrolled
once: where a target's unserved youth (counted at each census, less those enrolled since) are used
up, its places stay empty until the next census finds new ones, rather than being sought in vain
every step. Effects on the enrolled (mechanisms in recruitment and crime): the odds of joining a
gang fall (G.R.E.A.T.: -39% at one year, Esbensen et al. 2012), offending falls (Becoming a Man:
violent-crime arrests -45 to -50%, Heller et al. 2017), and a share of idle participants find
work. Graduates keep a smaller effect (about -24% over four years, unverified).
Cost per participant: about $1,100-2,000 (BAM). Sources in docs/calibration.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from model.compiled import kernel
from model.interventions.base import Delivery, Intervention
from model.population import YOUTH_AGES, Population, Status, sample_among, sample_in_blocks

if TYPE_CHECKING:
    from model.model import SecurityModel


# A neighbourhood whose unserved youth are fewer than one in FEW_UNSERVED of its people has its places filled
# from the census's list of them: drawing people at random there would take ~FEW_UNSERVED / (mean risk
# thinning) tries per place. So few are left only once the target's youth have all been through the programme.
FEW_UNSERVED = 256
# A search round of at least SCORE_EVERYONE candidates per resident (a late round where few are eligible: millions
# of candidates at a million residents) scores everyone once, in row order, and looks the candidates up: cheaper
# than as many scattered reads, and the same scores.
SCORE_EVERYONE = 1.0
# (the constants of _at_risk: the flags that rule a young person out, and the risk cap as risk's float32)
_YOUNGEST, _OLDEST = YOUTH_AGES
_TAKEN = int(Status.DETAINED | Status.ENROLLED | Status.GRADUATE)
_RISK_CAP = np.float32(Population.RISK_CAP)


@kernel
def _at_risk(ids, day, age0, birthday, gang, status, risk, out):
    """Acceptance for a place of each person ``ids[j]``, into ``out`` (float32, as risk; returns nothing: a returned
    array is boxed anew):

        risk / RISK_CAP   for the young (12 <= age0 + (birthday + day) // 365 <= 24 on ``day``) who are in no
                          gang, free, and neither enrolled nor graduates (thinning on personal risk)
        0                 for anyone else
    """
    for j in range(ids.size):
        i = ids[j]
        age = int(age0[i]) + (int(birthday[i]) + day) // 365
        if _YOUNGEST <= age <= _OLDEST and gang[i] < 0 and (status[i] & _TAKEN) == 0:
            out[j] = risk[i] / _RISK_CAP
        else:
            out[j] = 0.0


class Cohorts(Delivery):
    """Youth programme state in one run: who is enrolled, when each cohort ends, and cached counts."""

    __slots__ = ("ids", "ends", "graduates", "youth", "youth_total", "youth_counts", "youth_mask", "open")

    def __init__(self, stream: str, start: int, end: int, n_neighbourhoods: int) -> None:
        super().__init__(stream, start, end, n_neighbourhoods)
        self.ids = np.zeros(0, np.int64)  # enrolled now (person rows)
        self.ends = np.zeros(0, np.int64)  # step at which each one's cohort ends
        self.graduates = 0
        self.youth = np.zeros(0)  # eligible youth per neighbourhood in the target
        self.youth_total = 0.0
        self.youth_counts: np.ndarray | None = None  # the census array and mask youth and open were computed from
        self.youth_mask: np.ndarray | None = None
        self.open = np.zeros(0, np.int64)  # places open per neighbourhood: unserved youth in the target


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

    delivery_class = Cohorts

    def init(self, model: SecurityModel, stream_name: str) -> None:
        super().init(model, stream_name)
        # Load the acceptance kernel now, for both kinds of row numbers it is given (candidates drawn at random,
        # int64; the census's list, int32): numba's cache takes a few ms a kind, which would otherwise fall on the
        # first day of enrolment, after the spin-up (programmes do not run in it).
        people = model.people
        for rows in (np.empty(0, np.int64), np.empty(0, np.int32)):
            _at_risk(rows, 0, people.age0, people.birthday, people.gang, people.status, people.risk,
                     np.empty(0, np.float32))

    def _effects(self, model: SecurityModel) -> None:
        run = self.delivery
        lv = model.levers
        if run.ids.size:
            lv.enrolled_recruitment *= self.recruitment_odds_ratio
            lv.enrolled_offending *= 1.0 - self.offending_reduction
        if run.graduates:
            lv.graduate_recruitment *= self.graduate_odds_ratio

    def _graduate(self, model: SecurityModel, done: np.ndarray) -> None:
        run = self.delivery
        ids = run.ids[done]
        people = model.people
        still = people.has(ids, Status.ENROLLED)  # a row reset by a death is no longer enrolled
        people.set_flag(ids[still], Status.ENROLLED, on=False)
        people.set_flag(ids[still], Status.GRADUATE)
        run.graduates += int(still.sum())
        run.ids, run.ends = run.ids[~done], run.ends[~done]

    def deliver(self, model: SecurityModel) -> None:
        run = self.delivery
        # cohorts end in the order they were enrolled (ends never decrease), so a check of the first
        # end tells whether anyone graduates today; graduating nobody would change nothing
        if run.ends.size and run.ends[0] <= model.t:
            self._graduate(model, run.ends <= model.t)
        people = model.people
        if model.hood.youth is not run.youth_counts or run.mask is not run.youth_mask:
            # youth and unserved youth in the target: change only with a census (new arrays) or a retarget
            run.youth = model.hood.youth * run.mask
            run.youth_total = float(run.youth.sum())  # a Python float: the same double, cheaper arithmetic
            unserved = np.diff(np.searchsorted(model.hood.unserved_rows, people.block_start))  # per block
            run.open = unserved * run.mask
            run.youth_counts, run.youth_mask = model.hood.youth, run.mask
        youth = run.youth
        wanted = int(round(self.intensity * self.coverage * run.youth_total)) - run.ids.size
        if wanted > 0 and np.count_nonzero(run.open):
            rng = self.rng(model)
            # today's places go to neighbourhoods by their youth, and stay empty where every young person
            # the programme could take has been served (they are sought again after the next census)
            places = np.minimum(rng.multinomial(wanted, youth / run.youth_total), run.open)

            def scores(ids: np.ndarray) -> np.ndarray:
                acceptance = np.empty(ids.size, np.float32)
                _at_risk(ids, model.day, people.age0, people.birthday, people.gang, people.status, people.risk,
                         acceptance)
                return acceptance

            everyone: np.ndarray | None = None  # everyone's scores today, once a round's candidates call for them

            def at_risk(ids: np.ndarray) -> np.ndarray:
                nonlocal everyone
                if ids.size < SCORE_EVERYONE * people.size:
                    return scores(ids)
                if everyone is None:
                    everyone = scores(np.arange(people.size))
                return everyone[ids]

            # where the unserved are a sliver of the neighbourhood, pick among the census's list of them
            # (drawing people at random would take thousands of tries per place); elsewhere, at random
            few = places * (run.open * FEW_UNSERVED < model.world.residents)
            hoods = model.world.hood_ids.repeat(places - few)
            ids = sample_in_blocks(rng, people.block_start, hoods, at_risk)
            if np.count_nonzero(few):
                hoods = np.concatenate([hoods, model.world.hood_ids.repeat(few)])
                ids = np.concatenate([ids, sample_among(rng, model.hood.unserved_rows, people.block_start, few,
                                                        at_risk)])
            run.open[hoods[ids < 0]] = 0  # the search found nobody to take there
            ids = np.unique(ids[ids >= 0])
            run.open -= np.bincount(people.home[ids], minlength=youth.size)
            np.maximum(run.open, 0, out=run.open)  # (more taken than counted: some turned 12 since the census)
            people.set_flag(ids, Status.ENROLLED)
            idle = ~people.has(ids, Status.SCHOOL | Status.EMPLOYED)
            placed = ids[idle & (rng.random(ids.size) < self.job_placement)]
            people.set_flag(placed, Status.EMPLOYED)
            end = model.t + int(round(self.duration_years * model.steps_per_year))
            run.ids = np.concatenate([run.ids, ids])
            run.ends = np.concatenate([run.ends, np.full(ids.size, end, np.int64)])
            model.tally.count("enrolments", people.home[ids])
        self._effects(model)

    def on_inactive(self, model: SecurityModel) -> None:
        run = self.delivery
        if run.ids.size and model.t >= run.start:
            self._graduate(model, np.ones(run.ids.size, bool))
        self._effects(model)

    def units(self, model: SecurityModel) -> float:
        return float(self.delivery.ids.size)
