"""A first end-to-end check: the baseline builds, runs a month, and conserves its population."""

from model import Scenario
from model.model import SecurityModel


def test_small_city_runs_a_month_and_keeps_everyone():
    sc = Scenario(city={"residents": 5000, "neighbourhoods": 10})
    m = SecurityModel(sc, seed=3)
    m.run(30)
    assert m.people.size == 5000
    assert m.recorder.steps_recorded == 30
    assert (m.gang_members >= 0).all()
