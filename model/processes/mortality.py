"""Deaths: today's homicide victims leave the population (a newcomer takes each row)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.processes.common import FEW, kill
from model.state import HOMICIDE

if TYPE_CHECKING:
    from model.model import SecurityModel


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    del rng
    kind = model.incidents.kind
    if kind.size <= FEW and HOMICIDE not in kind.tolist():  # most days nobody is killed: a look at a few kinds
        return
    inc = model.incidents
    killed = (kind == HOMICIDE).nonzero()[0]
    if killed.size:
        np.add.at(model.hood.homicide_memory, inc.hood[killed], 1.0)
        kill(model, inc.victim[killed])
