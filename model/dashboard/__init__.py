"""The trainer dashboard: one city with and without the chosen programmes, side by side.

Presentation only: the model steps as :class:`model.model.SecurityModel` always does; this
package chooses the two scenarios (:mod:`.choices`), steps the pair and keeps what the page
shows (:mod:`.comparison`), draws it (:mod:`.figures`), exports it for slides (:mod:`.export`)
and lays it out in a Solara page (:mod:`.app`, served by ``safestreets dashboard``).

>>> from model.dashboard import Comparison, Settings
>>> c = Comparison(Settings("baseline.yaml", size="small", programmes=(("youth_programs", 1.0),)))
>>> _ = c.step(7); c.steps_done
7
"""

from __future__ import annotations

from model.dashboard.choices import SIZES, Settings, build_pair, programme_names, scenario_files
from model.dashboard.comparison import CHART_OUTCOMES, MAP_OUTCOMES, Comparison, Readout, View

__all__ = [
    "CHART_OUTCOMES", "MAP_OUTCOMES", "SIZES", "Comparison", "Readout", "Settings", "View", "build_pair",
    "programme_names", "scenario_files",
]
