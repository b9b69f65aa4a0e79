"""model.analysis: paired effects, intervals, cost-effectiveness, places and sensitivity indices."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from model import analysis
from model.analysis import (
    cost_effectiveness,
    delta_ratio,
    displacement,
    effects,
    fieller_ratio,
    morris_indices,
    neighbourhood_change,
    sobol_indices,
    t_interval,
    timeseries_bands,
    treated_neighbourhoods,
)


def tidy(values: dict[str, dict[str, list[float]]], point: int = 0) -> pd.DataFrame:
    """{scenario: {outcome: [value per replication]}} -> the store's tidy summary."""
    rows = []
    for scen, outcomes in values.items():
        for name, vals in outcomes.items():
            for rep, v in enumerate(vals):
                rows.append({"run_id": f"{scen}-{point}-{rep}", "scenario": scen, "rep": rep, "seed": 100 + rep,
                             "point": point, "outcome": name, "value": float(v)})
    return pd.DataFrame(rows)


# ---- effects -----------------------------------------------------------------------------------

def test_effect_recovers_a_known_difference_and_its_interval_covers_it():
    rng = np.random.default_rng(7)
    base = rng.normal(100.0, 10.0, 30)  # large run-to-run spread ...
    scen = base - 5.0 + rng.normal(0.0, 1.0, 30)  # ... but the paired noise is small
    e = effects(tidy({"baseline": {"robberies": base}, "p": {"robberies": scen}})).iloc[0]
    se = 1.0 / math.sqrt(30)
    assert e["n"] == 30
    assert abs(e["diff"] + 5.0) < 4 * se
    assert e["diff_lo"] < -5.0 < e["diff_hi"]
    # the pairing is used: the interval is about 2 * t * 1/sqrt(30) wide, not 2 * t * 10/sqrt(30)
    assert e["diff_hi"] - e["diff_lo"] < 2.2 * 2.05 * se
    assert e["pct_lo"] < e["pct_change"] < e["pct_hi"]
    assert abs(e["pct_change"] - 100 * (-5.0 / base.mean())) < 0.5
    assert e["verdict"] == "better" and bool(e["significant"])


def test_t_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    hits = 0
    trials = 2000
    for _ in range(trials):
        iv = t_interval(rng.normal(-3.0, 2.0, 5))
        hits += iv.lo <= -3.0 <= iv.hi
    # binomial standard error at p = 0.95 and 2000 trials is 0.005: allow 4 of them
    assert abs(hits / trials - 0.95) < 0.02


def test_percent_change_interval_covers_the_true_ratio_about_95_percent_of_the_time():
    rng = np.random.default_rng(12)
    hits = 0
    trials = 2000
    for _ in range(trials):
        b = rng.normal(200.0, 30.0, 10)
        s = 0.8 * b + rng.normal(0.0, 5.0, 10)
        r = delta_ratio(s, b)
        hits += r.lo <= 0.8 <= r.hi
    assert abs(hits / trials - 0.95) < 0.03


def test_zero_difference_is_exactly_zero_with_a_zero_width_interval():
    vals = [3.1, 7.7, 5.2, 0.4]
    e = effects(tidy({"baseline": {"fear": vals, "homicides": vals}, "same": {"fear": vals, "homicides": vals}}))
    for row in e.itertuples():
        assert (row.diff, row.diff_lo, row.diff_hi) == (0.0, 0.0, 0.0)
        assert (row.pct_change, row.pct_lo, row.pct_hi) == (0.0, 0.0, 0.0)
        assert row.verdict == "no clear change"


def test_direction_comes_from_the_outcome_declaration():
    e = effects(tidy({"baseline": {"trust": [0.3, 0.4, 0.5], "fear": [0.3, 0.4, 0.5]},
                      "p": {"trust": [0.4, 0.5, 0.61], "fear": [0.4, 0.5, 0.61]}})).set_index("outcome")
    assert e.loc["trust", "verdict"] == "better"  # trust: higher is better
    assert e.loc["fear", "verdict"] == "worse"  # fear: lower is better
    assert not e.loc["trust", "lower_is_better"]


def test_pairs_are_matched_by_seed_not_by_row_order():
    s = tidy({"baseline": {"homicides": [10, 20, 30]}, "p": {"homicides": [9, 19, 29]}})
    shuffled = s.sample(frac=1.0, random_state=3)
    e = effects(shuffled).iloc[0]
    assert (e["diff"], e["diff_lo"], e["diff_hi"]) == (-1.0, -1.0, -1.0)


def test_unpaired_runs_are_left_out():
    s = tidy({"baseline": {"homicides": [10, 20, 30]}, "p": {"homicides": [9, 19]}})
    assert effects(s).iloc[0]["n"] == 2


def test_one_pair_gives_no_interval():
    e = effects(tidy({"baseline": {"homicides": [10.0]}, "p": {"homicides": [7.0]}})).iloc[0]
    assert e["diff"] == -3.0 and math.isnan(e["diff_lo"]) and math.isnan(e["diff_hi"])


def test_unknown_baseline_is_a_clear_error():
    with pytest.raises(ValueError, match="baseline scenario 'nope'"):
        effects(tidy({"baseline": {"homicides": [1, 2]}, "p": {"homicides": [1, 2]}}), baseline="nope")


def test_by_point_keeps_points_apart():
    a = tidy({"baseline": {"homicides": [10, 10]}, "p": {"homicides": [8, 8]}}, point=0)
    b = tidy({"baseline": {"homicides": [10, 10]}, "p": {"homicides": [5, 5]}}, point=1)
    e = effects(pd.concat([a, b]), outcomes=["homicides"], by_point=True).set_index("point")
    assert e.loc[0, "diff"] == -2.0 and e.loc[1, "diff"] == -5.0


def test_pooling_over_points_counts_replications_not_points():
    """The points of a sweep share each replication's seed: pooled, n is the replications.

    With the same pairs at five points (as when nothing swept matters), pooling must give the
    one-point answer, not an interval narrowed as if there were five times the replications.
    """
    rng = np.random.default_rng(3)
    base = rng.normal(100.0, 10.0, 4)
    scen = base - 2.0 + rng.normal(0.0, 3.0, 4)
    cost = [1000.0] * 4
    one = tidy({"baseline": {"homicides": base, "cost_usd": [0.0] * 4}, "p": {"homicides": scen, "cost_usd": cost}})
    five = pd.concat([one.assign(point=k) for k in range(5)], ignore_index=True)
    single, pooled = effects(one).set_index("outcome"), effects(five).set_index("outcome")
    assert pooled.loc["homicides", "n"] == 4
    for col in ("diff", "diff_lo", "diff_hi", "pct_change", "pct_lo", "pct_hi"):
        assert pooled.loc["homicides", col] == pytest.approx(single.loc["homicides", col], rel=1e-12)
    ce_single = cost_effectiveness(one).set_index("measure").loc["homicides"]
    ce_pooled = cost_effectiveness(five).set_index("measure").loc["homicides"]
    assert ce_pooled["n"] == 4
    for col in ("averted_lo", "averted_hi", "lo", "hi"):
        assert ce_pooled[col] == pytest.approx(ce_single[col], rel=1e-12)
    # points that differ pool to the mean over points of each replication
    a = tidy({"baseline": {"homicides": [10, 12, 11]}, "p": {"homicides": [8, 9, 9]}}, point=0)
    b = tidy({"baseline": {"homicides": [10, 12, 11]}, "p": {"homicides": [6, 7, 9]}}, point=1)
    e = effects(pd.concat([a, b]), outcomes=["homicides"]).iloc[0]
    assert e["n"] == 3
    assert e["diff"] == pytest.approx(np.mean([(-2 - 4) / 2, (-3 - 5) / 2, (-2 - 2) / 2]))
    expected = t_interval([-3.0, -4.0, -2.0])
    assert (e["diff_lo"], e["diff_hi"]) == pytest.approx((expected.lo, expected.hi))


# ---- ratios ------------------------------------------------------------------------------------

def test_fieller_matches_the_closed_form():
    # constant numerator 100, denominator 9, 10, 11: a = 100 - t^2/3, b = 1000, c = 10^4 (see fieller_ratio)
    r = fieller_ratio([100.0, 100.0, 100.0], [9.0, 10.0, 11.0])
    t2 = 4.302652729911275 ** 2
    a = 100 - t2 / 3
    root = math.sqrt(1000.0 ** 2 - a * 1e4)
    assert r.estimate == 10.0
    assert r.lo == pytest.approx((1000 - root) / a, rel=1e-9)
    assert r.hi == pytest.approx((1000 + root) / a, rel=1e-9)


def test_fieller_is_unbounded_when_the_denominator_may_be_zero():
    r = fieller_ratio([100.0, 100.0, 100.0], [-1.0, 1.0, 3.0])
    assert r.hi == math.inf


# ---- cost-effectiveness ------------------------------------------------------------------------

def hand_made(s_homicides: list[float], s_other: list[float], s_cost: list[float]) -> pd.DataFrame:
    base = {"homicides": [10, 12, 11], "robberies": [100, 90, 95], "extortions": [40, 44, 42],
            "assaults": [50, 50, 50], "cost_usd": [0, 0, 0]}
    scen = {"homicides": s_homicides, "robberies": s_other, "extortions": [40, 44, 42], "assaults": [50, 50, 50],
            "cost_usd": s_cost}
    return tidy({"baseline": base, "package": scen})


def test_cost_per_homicide_and_per_crime_averted_on_a_hand_made_example():
    s = hand_made([8, 9, 10], [90, 80, 85], [3000, 3000, 3000])
    ce = cost_effectiveness(s).set_index("measure")
    # homicides averted 2, 3, 1 -> mean 2; crimes averted (2+10), (3+10), (1+10) -> mean 12
    assert ce.loc["homicides", "averted"] == pytest.approx(2.0)
    assert ce.loc["homicides", "cost_per_averted"] == pytest.approx(1500.0)
    assert ce.loc["crimes", "averted"] == pytest.approx(12.0)
    assert ce.loc["crimes", "cost_per_averted"] == pytest.approx(250.0)
    assert (ce["status"] == "ok").all()
    assert ce.loc["crimes", "lo"] <= 250.0 <= ce.loc["crimes", "hi"]
    # cost fixed at 3000: the crime ratio's interval is 3000 / (the t interval of crimes averted)
    av = t_interval([12.0, 13.0, 11.0])
    assert ce.loc["crimes", "lo"] == pytest.approx(3000.0 / av.hi, rel=1e-9)
    assert ce.loc["crimes", "hi"] == pytest.approx(3000.0 / av.lo, rel=1e-9)


def test_not_averted_when_crime_rises_instead_of_a_negative_cost():
    s = hand_made([12, 14, 13], [110, 100, 105], [3000, 3000, 3000])
    ce = cost_effectiveness(s)
    assert (ce["status"] == "not averted").all()
    assert ce["cost_per_averted"].isna().all()
    assert (ce["averted"] < 0).all()


def test_no_extra_cost_gives_no_ratio():
    ce = cost_effectiveness(hand_made([8, 9, 10], [90, 80, 85], [0, 0, 0]))
    assert (ce["status"] == "no extra cost").all() and ce["cost_per_averted"].isna().all()


def test_crimes_outcome_is_built_from_the_four_true_crimes_when_absent():
    s = hand_made([8, 9, 10], [90, 80, 85], [1, 1, 1])
    assert "crimes" not in set(s["outcome"])
    e = effects(s, outcomes=["crimes"]).iloc[0]
    assert e["baseline_mean"] == pytest.approx(11 + 95 + 42 + 50)


# ---- time series -------------------------------------------------------------------------------

def test_bands_by_month_sum_counts_and_average_levels():
    rows = []
    for scen, shift in (("baseline", 0.0), ("p", 1.0)):
        for rep in range(3):
            for step in range(60):  # 60 daily steps of a 360-step year = 2 months
                rows.append({"run_id": f"{scen}{rep}", "scenario": scen, "rep": rep, "seed": rep, "point": 0,
                             "step": step, "year": step / 360.0, "homicides": 1.0 + rep + shift,
                             "fear": 0.1 * rep + shift})
    b = timeseries_bands(pd.DataFrame(rows), ["homicides", "fear"]).set_index(["scenario", "outcome", "month"])
    h = b.loc[("baseline", "homicides", 0)]
    assert h["mean"] == pytest.approx(30 * 2.0) and h["n"] == 3  # 30 days x (1, 2, 3) -> mean 60
    half = 4.302652729911275 * 30.0 / math.sqrt(3)  # t(2) x sd(30, 60, 90) / sqrt(3)
    assert (h["lo"], h["hi"]) == (pytest.approx(60 - half), pytest.approx(60 + half))
    assert b.loc[("p", "fear", 1), "mean"] == pytest.approx(1.1)
    spread = timeseries_bands(pd.DataFrame(rows), ["homicides"], band="spread").set_index(["scenario", "month"])
    assert spread.loc[("baseline", 0), "lo"] == pytest.approx(30 * (1 + 0.05))  # 2.5 % quantile of 30, 60, 90


# ---- places ------------------------------------------------------------------------------------

def hood_table() -> tuple[pd.DataFrame, nx.Graph]:
    """A path 0-1-2-3-4 of equal neighbourhoods; the package targets 0 (plus a city-wide programme).

    Crime falls by 6 a month in 0, rises by 2 in its neighbour 1, and is unchanged further away.
    """
    graph = nx.path_graph(5)
    rows = []
    for seed in (1, 2, 3):
        for scen in ("baseline", "package"):
            for month in range(12):
                for k in range(5):
                    crimes = 10.0 + seed
                    cost = 0.0
                    if scen == "package":
                        crimes += {0: -6.0, 1: 2.0}.get(k, 0.0)
                        cost = 100.0 + (500.0 if k == 0 else 0.0)  # 100 everywhere: the city-wide part
                    rows.append({"run_id": f"{scen}{seed}", "scenario": scen, "rep": seed - 1, "seed": seed,
                                 "point": 0, "month": month, "neighbourhood": k, "homicides": 0.0, "robberies": crimes,
                                 "extortions": 0.0, "assaults": 0.0, "cost_usd": cost, "trust": 0.5,
                                 "residents": 1000})
    return pd.DataFrame(rows), graph


def test_treated_neighbourhoods_are_those_above_the_city_wide_cost_floor():
    nb, _ = hood_table()
    tr = treated_neighbourhoods(nb, "package")
    assert set(tr[tr["treated"]]["neighbourhood"]) == {0}
    assert len(tr) == 15


def test_neighbourhood_change_is_paired_per_year_and_ranked():
    nb, _ = hood_table()
    ch = neighbourhood_change(nb, outcome_name="crimes")
    first = ch[ch["seed"] == 1].set_index("neighbourhood")
    assert first.loc[0, "diff"] == pytest.approx(-72.0)  # -6 a month for 12 months
    assert first.loc[0, "diff_per_1000"] == pytest.approx(-72.0)
    assert first.loc[0, "rank"] == 1 and first.loc[1, "rank"] == 5
    assert first.loc[1, "pct_change"] == pytest.approx(100 * 24 / (11 * 12))


def test_displacement_separates_treated_neighbours_and_elsewhere():
    nb, graph = hood_table()
    d = displacement(nb, {1: graph, 2: graph, 3: graph}).set_index("group")
    assert d.loc["treated", "diff"] == pytest.approx(-72.0)
    assert d.loc["neighbours", "diff"] == pytest.approx(24.0)
    assert d.loc["elsewhere", "diff"] == 0.0 and d.loc["elsewhere", "pct_change"] == 0.0
    assert d.loc["neighbours", "neighbourhoods"] == 1 and d.loc["elsewhere", "neighbourhoods"] == 3
    assert d.loc["neighbours", "diff_lo"] == d.loc["neighbours", "diff_hi"] == 24.0


def test_displacement_says_so_when_nothing_is_targeted():
    nb, graph = hood_table()
    nb.loc[nb["scenario"] == "package", "cost_usd"] = 100.0
    d = displacement(nb, lambda seed: graph)
    assert list(d["group"]) == ["all"] and "no targeted delivery" in d["note"].iloc[0]


# ---- sensitivity -------------------------------------------------------------------------------

def _sweep_summary(X: np.ndarray, y: np.ndarray, reps: int = 2) -> pd.DataFrame:
    """A sweep's tidy summary: each point run ``reps`` times; replications differ by +-1 around y."""
    rows = []
    for p, v in enumerate(y):
        for rep in range(reps):
            rows.append({"run_id": f"p{p}r{rep}", "scenario": "sweep", "rep": rep, "seed": rep, "point": p,
                         "outcome": "homicides", "value": float(v) + (1.0 if rep % 2 else -1.0)})
    return pd.DataFrame(rows)


def test_sobol_indices_of_the_ishigami_function():
    from SALib.sample import sobol as sobol_sample
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
    X = sobol_sample.sample(problem, 1024, seed=1)
    s = _sweep_summary(X, Ishigami.evaluate(X))
    res = sobol_indices(problem, s, "homicides").set_index("parameter")
    # analytic values for a = 7, b = 0.1
    assert res.loc["x1", "S1"] == pytest.approx(0.314, abs=0.05)
    assert res.loc["x2", "S1"] == pytest.approx(0.442, abs=0.05)
    assert res.loc["x3", "S1"] == pytest.approx(0.0, abs=0.05)
    assert res.loc["x3", "ST"] == pytest.approx(0.244, abs=0.05)
    assert (res["S1_conf"] > 0).all()


def test_morris_indices_of_a_linear_function_from_the_runs_table():
    from SALib.sample import morris as morris_sample

    problem = {"num_vars": 3, "names": ["a.b", "c", "d"], "bounds": [[0, 1], [0, 2], [0, 1]]}
    X = morris_sample.sample(problem, 20, num_levels=4, seed=2)
    y = 10 * X[:, 0] + 1 * X[:, 1]
    s = _sweep_summary(X, y)
    runs = pd.DataFrame([{"point": p, "rep": r, "a.b": x[0], "c": x[1], "d": x[2]}
                         for p, x in enumerate(X) for r in range(2)])
    res = morris_indices(problem, s, "homicides", runs).set_index("parameter")
    assert res.loc["a.b", "mu_star"] == pytest.approx(10.0)
    assert res.loc["c", "mu_star"] == pytest.approx(2.0)  # SALib: effect per unit of the scaled range (0..2)
    assert res.loc["d", "mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert res.loc["a.b", "sigma"] == pytest.approx(0.0, abs=1e-9)


def test_sensitivity_rejects_points_that_are_not_a_sample():
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    s = _sweep_summary(np.zeros((5, 2)), np.arange(5.0))
    with pytest.raises(ValueError, match="multiple of"):
        sobol_indices(problem, s, "homicides")
    with pytest.raises(ValueError, match="sample rows"):
        morris_indices(problem, _sweep_summary(np.zeros((6, 2)), np.arange(6.0)), "homicides", np.zeros((3, 2)))


# ---- with the model ----------------------------------------------------------------------------

def test_same_scenario_under_two_names_gives_exact_zeros_on_real_runs():
    from model import run

    ov = ["city.residents=5000", "city.neighbourhoods=10"]
    runs = []
    for rep, seed in enumerate((5, 6)):
        r = run("scenarios/baseline.yaml", seed=seed, years=0.25, overrides=ov)
        runs += [("baseline", rep, r), ("copy", rep, r)]
    t = analysis.tables_from_runs(runs)
    e = effects(t.summary)
    assert (e["diff"] == 0).all() and (e["diff_lo"].fillna(0) == 0).all() and (e["diff_hi"].fillna(0) == 0).all()
    assert set(t.summary.columns) >= {"run_id", "scenario", "rep", "seed", "point", "outcome", "value"}
    assert (neighbourhood_change(t.neighbourhoods())["diff"] == 0).all()
