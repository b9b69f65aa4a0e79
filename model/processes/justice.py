"""Verdicts and prison: cases due today are prosecuted and convicted or dropped; sentences end.

Prosecution and conviction probabilities come from the scenario (high impunity at baseline:
about 4% of homicides end in a conviction, figures.md s4) times programme levers (rule of law).
Convicted people serve an exponentially distributed sentence with the type's mean; everyone else
goes home. A released member goes back to the gang in the home neighbourhood, or quits it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.population import Status

if TYPE_CHECKING:
    from model.model import SecurityModel

QUIT_ON_RELEASE = 0.2  # members who leave the gang when they come out
SHORT = 64  # up to this many open cases or prisoners, Python numbers beat array calls


def free_people(model: SecurityModel, rng: np.random.Generator, ids: np.ndarray) -> None:
    """Return detained people to the street; members rejoin their gang's count or quit."""
    people = model.people
    if ids.size == 0:
        return
    people.set_flag(ids, Status.DETAINED, on=False)
    members = ids[people.gang[ids] >= 0]
    quit_ = rng.random(members.size) < QUIT_ON_RELEASE
    people.gang[members[quit_]] = -1
    back = members[~quit_]
    np.add.at(model.gang_members, (people.gang[back].astype(np.int64), people.home[back]), 1)
    model.tally.count("releases", people.home[ids])


def _any_by(steps: np.ndarray, t: int) -> bool:
    """Whether any of ``steps`` (case or release steps) has come by step ``t`` (most days none has).

    A short list is looked at in Python numbers, without the cost of two array calls.
    """
    if steps.size > SHORT:
        return bool(np.count_nonzero(steps <= t))
    return bool(steps.size) and min(steps.tolist()) <= t


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Decide today's cases and release those whose sentence ends today."""
    jus = model.justice
    if _any_by(jus.case_due, model.t):
        due = jus.case_due <= model.t
        sc = model.scenario.justice
        person, kind, hood = jus.case_person[due], jus.case_type[due], jus.case_hood[due]
        keep = ~due
        jus.case_person, jus.case_type = jus.case_person[keep], jus.case_type[keep]
        jus.case_hood, jus.case_due = jus.case_hood[keep], jus.case_due[keep]
        lv = model.levers
        p_prosecute = np.minimum(np.maximum(sc.prosecution_probability * lv.prosecution[hood], 0.0), 1.0)
        prosecuted = rng.random(person.size) < p_prosecute
        p_convict = np.minimum(np.maximum(sc.conviction_probability * lv.conviction[hood], 0.0), 1.0)
        convicted = prosecuted & (rng.random(person.size) < p_convict)
        model.tally.count("prosecutions", hood[prosecuted])
        if np.count_nonzero(convicted):  # (most days nobody is: then there is no one to sentence and no draw)
            _sentence(model, rng, person[convicted], kind[convicted], hood[convicted])
        freed = person[~convicted]
        if sc.detain_pending:
            free_people(model, rng, freed)
    if _any_by(jus.prison_release, model.t):
        out = jus.prison_release <= model.t
        freed = jus.prison_person[out]
        jus.prison_person, jus.prison_release = jus.prison_person[~out], jus.prison_release[~out]
        free_people(model, rng, freed)


def _sentence(model: SecurityModel, rng: np.random.Generator, person: np.ndarray, kind: np.ndarray,
              hood: np.ndarray) -> None:
    """The convicted ``person`` (one row per case) go to prison for a drawn sentence."""
    jus = model.justice
    model.tally.count("convictions", hood)
    np.add.at(model.hood.conviction_memory, hood, 1.0)
    years = rng.exponential(model.cal.sentence_years[kind])
    release = model.t + np.maximum(1, np.round(years * model.steps_per_year)).astype(np.int64)
    jus.add_prisoners(person, release)
    if not model.scenario.justice.detain_pending:  # people wait at home; only the convicted leave the street
        jailed = np.unique(person)  # someone convicted on two cases today leaves once
        jailed = jailed[model.people.free(jailed)]
        members = jailed[model.people.gang[jailed] >= 0]
        np.add.at(model.gang_members, (model.people.gang[members].astype(np.int64),
                                       model.people.home[members]), -1)
        model.people.set_flag(jailed, Status.DETAINED)
