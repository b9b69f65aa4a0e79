"""Deaths: today's homicide victims leave the population (a newcomer takes each row)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.processes.common import kill
from model.state import HOMICIDE

if TYPE_CHECKING:
    from model.model import SecurityModel


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    del rng
    inc = model.incidents
    killed = np.flatnonzero(inc.kind == HOMICIDE)
    if killed.size:  # most days nobody is killed
        np.add.at(model.hood.homicide_memory, inc.hood[killed], 1.0)
        kill(model, inc.victim[killed])
