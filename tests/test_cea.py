"""Tests of decisionmodel.cea: ICER tables, net benefit, CEAC/CEAF, expected loss."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from decisionmodel.cea import (
    CEAInputError,
    ceac,
    ceaf,
    decision_table,
    expected_loss,
    icer_table,
    net_benefit,
    recommended,
    summary,
)
from decisionmodel.exceptions import DecisionModelError

D, ED, F = "dominated", "extendedly dominated", "frontier"


def deterministic(names, cost, effect, *, sample=False) -> xr.Dataset:
    """Outcomes without uncertainty; with ``sample=True`` a length-1 sample dim."""
    cost, effect = np.asarray(cost, dtype=float), np.asarray(effect, dtype=float)
    if sample:
        dims = ("strategy", "sample")
        cost, effect = cost[:, None], effect[:, None]
    else:
        dims = ("strategy",)
    return xr.Dataset(
        {"cost": (dims, cost), "effect": (dims, effect)}, coords={"strategy": list(names)}
    )


def psa(cost, effect, names=None) -> xr.Dataset:
    cost, effect = np.asarray(cost, dtype=float), np.asarray(effect, dtype=float)
    names = names or [f"s{i}" for i in range(cost.shape[0])]
    return xr.Dataset(
        {
            "cost": (("strategy", "sample"), cost),
            "effect": (("strategy", "sample"), effect),
            "ignored": (("strategy",), np.zeros(cost.shape[0])),
        },
        coords={"strategy": names, "sample": np.arange(cost.shape[1])},
    )


def random_psa(seed=0, n_strategy=4, n_sample=500) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    mu_c = rng.uniform(0, 20_000, n_strategy)
    mu_e = rng.uniform(0, 2, n_strategy)
    cost = mu_c[:, None] + rng.normal(0, 3000, (n_strategy, n_sample))
    effect = mu_e[:, None] + rng.normal(0, 0.3, (n_strategy, n_sample))
    return psa(cost, effect)


def statuses(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["strategy"], table["status"], strict=True))


def icers(table: pd.DataFrame) -> dict[str, float]:
    return dict(zip(table["strategy"], table["icer"], strict=True))


# ---------------------------------------------------------------------------------------
# icer_table: hand-made cases
# ---------------------------------------------------------------------------------------


def test_textbook_three_strategies():
    t = icer_table(deterministic("ABC", [0, 100, 300], [0, 1, 1.5]))
    assert t.columns.tolist() == [
        "strategy",
        "cost",
        "effect",
        "inc_cost",
        "inc_effect",
        "icer",
        "status",
    ]
    assert t["strategy"].tolist() == ["A", "B", "C"]
    assert t["status"].tolist() == [F, F, F]
    assert math.isnan(t["icer"][0]) and math.isnan(t["inc_cost"][0])
    assert t["icer"][1:].tolist() == [100.0, 400.0]
    assert t["inc_cost"][1:].tolist() == [100.0, 200.0]
    assert t["inc_effect"][1:].tolist() == [1.0, 0.5]


def test_herc_example_matches_dampack_test_suite():
    # dampack tests/testthat/test_calculate_icers.R (HERC example), same expected values
    names = ["E", "D", "C", "B", "A", "UC"]
    t = icer_table(
        deterministic(names, [55000, 35000, 25000, 10000, 12000, 5000], [5, 4, 3, 2, 1.5, 1])
    )
    assert t["strategy"].tolist() == ["UC", "B", "A", "C", "D", "E"]  # by cost
    assert statuses(t) == {"UC": F, "B": F, "D": F, "E": F, "C": ED, "A": D}
    got = t.set_index("strategy")
    assert got.loc[["B", "D", "E"], "icer"].tolist() == [5000.0, 12500.0, 20000.0]
    assert got.loc[["B", "D", "E"], "inc_cost"].tolist() == [5000.0, 25000.0, 20000.0]
    assert got.loc[["B", "D", "E"], "inc_effect"].tolist() == [1.0, 2.0, 1.0]
    assert got.loc[["UC", "C", "A"], ["inc_cost", "inc_effect", "icer"]].isna().all().all()


def test_strong_dominance_more_cost_less_effect():
    t = icer_table(deterministic("ABCD", [0, 100, 300, 250], [0, 1, 1.5, 0.8]))
    assert statuses(t) == {"A": F, "B": F, "C": F, "D": D}
    assert icers(t)["C"] == 400.0  # relative to B, D is skipped
    assert t["strategy"].tolist() == ["A", "B", "D", "C"]


def test_dominance_by_equal_cost_or_equal_effect():
    # same cost, less effect -> dominated; same effect, more cost -> dominated
    t = icer_table(deterministic("ABCD", [0, 100, 100, 150], [0, 1, 0.5, 1]))
    assert statuses(t) == {"A": F, "B": F, "C": D, "D": D}
    # cost ties are listed by effect descending
    assert t["strategy"].tolist() == ["A", "B", "C", "D"]


def test_dominance_cheaper_dominates_first_in_file():
    # the first strategy in the file is not a reference: here it is dominated
    t = icer_table(deterministic(["old", "new", "none"], [500, 400, 0], [1.0, 2.0, 0.0]))
    assert statuses(t) == {"old": D, "new": F, "none": F}
    assert icers(t)["new"] == 200.0


def test_dampack_three_strategies_two_dominated():
    t = icer_table(
        deterministic(
            ["No Treat", "Treat all", "Test & treat"],
            [163771.0, 164848.7, 163765.1],
            [6.48273, 6.52861, 6.52861],
        )
    )
    assert t["strategy"][0] == "Test & treat"
    assert statuses(t) == {"Test & treat": F, "No Treat": D, "Treat all": D}
    assert t["icer"].isna().all()


def test_extended_dominance():
    # X lies above the segment B-C: ICER(B->X) = 300 > ICER(X->C) = 100
    t = icer_table(deterministic("ABXC", [0, 100, 250, 300], [0, 1, 1.5, 2]))
    assert statuses(t) == {"A": F, "B": F, "X": ED, "C": F}
    assert icers(t)["C"] == 200.0
    assert math.isnan(icers(t)["X"])


def test_chained_extended_dominance_needs_three_passes():
    # pass 1 removes C (200 > 20), pass 2 removes D (110 > 70), pass 3 removes B
    # (100 > 96.67); only A and E remain, ICER 390 / 4
    t = icer_table(deterministic("ABCDE", [0, 100, 300, 320, 390], [0, 1, 2, 3, 4]))
    assert statuses(t) == {"A": F, "B": ED, "C": ED, "D": ED, "E": F}
    assert icers(t)["E"] == 97.5
    row = t.set_index("strategy").loc["E"]
    assert (row["inc_cost"], row["inc_effect"]) == (390.0, 4.0)


def test_extended_and_strong_dominance_together():
    t = icer_table(deterministic("ABCDEF", [0, 10, 40, 45, 50, 60], [0, 1, 1.2, 0.5, 3, 3]))
    # D: more cost and less effect than B; F: same effect as E, more cost;
    # C: ICER(B->C) = 150 > ICER(C->E) = 5.56
    assert statuses(t) == {"A": F, "B": F, "C": ED, "D": D, "E": F, "F": D}
    assert icers(t)["E"] == 20.0


def test_collinear_middle_strategy_stays_on_frontier():
    # dampack only removes strictly greater ICERs; equal ICERs keep the middle point
    t = icer_table(deterministic("ABC", [0, 100, 200], [0, 1, 2]))
    assert statuses(t) == {"A": F, "B": F, "C": F}
    assert icers(t)["C"] == 100.0


@pytest.mark.parametrize("order", [["B", "B2"], ["B2", "B"]])
def test_identical_strategies_keep_first_in_file_order(order):
    names = ["A", *order, "C"]
    cost = [0, 100, 100, 300]
    effect = [0, 1, 1, 1.5]
    t = icer_table(deterministic(names, cost, effect))
    assert statuses(t) == {"A": F, order[0]: F, order[1]: D, "C": F}
    assert icers(t)[order[0]] == 100.0
    assert icers(t)["C"] == 400.0
    assert t["strategy"].tolist() == names  # equal rows keep the file order


def test_identical_to_cheapest():
    t = icer_table(deterministic(["A", "A2", "B"], [0, 0, 10], [0, 0, 1]))
    assert statuses(t) == {"A": F, "A2": D, "B": F}
    assert icers(t)["B"] == 10.0


def test_single_strategy():
    t = icer_table(deterministic(["only"], [5.0], [2.0]))
    assert len(t) == 1
    assert t["status"].tolist() == [F]
    assert t[["inc_cost", "inc_effect", "icer"]].isna().all().all()
    assert (t["cost"][0], t["effect"][0]) == (5.0, 2.0)


def test_all_identical():
    t = icer_table(deterministic("XYZ", [3, 3, 3], [1, 1, 1]))
    assert statuses(t) == {"X": F, "Y": D, "Z": D}


def test_icer_table_averages_samples():
    ds = psa([[0, 0], [50, 150], [200, 400]], [[0, 0], [0.5, 1.5], [1, 2]], names=list("ABC"))
    t = icer_table(ds)
    assert t["cost"].tolist() == [0.0, 100.0, 300.0]
    assert t["effect"].tolist() == [0.0, 1.0, 1.5]
    assert t["icer"][1:].tolist() == [100.0, 400.0]
    # same result with a length-1 sample dim and with a mapping
    t1 = icer_table(deterministic("ABC", [0, 100, 300], [0, 1, 1.5], sample=True))
    pd.testing.assert_frame_equal(t, t1)
    t2 = icer_table({"cost": [0, 100, 300], "effect": [0, 1, 1.5], "strategy": list("ABC")})
    pd.testing.assert_frame_equal(t, t2)


# ---------------------------------------------------------------------------------------
# icer_table against a naive reference
# ---------------------------------------------------------------------------------------


def naive_frontier(cost, effect) -> set[int]:
    """Strategies that maximise expected NMB on an interval of WTP >= 0 (brute force).

    Strategy s is optimal at WTP w iff w * (e_s - e_t) >= c_s - c_t for every t; that
    gives a lower bound on w from the less effective strategies and an upper bound from
    the more effective ones. (Assumes no ties in cost or effect.)
    """
    n = len(cost)
    frontier = set()
    for s in range(n):
        lo, hi = 0.0, math.inf
        for t in range(n):
            if effect[t] < effect[s]:
                lo = max(lo, (cost[s] - cost[t]) / (effect[s] - effect[t]))
            elif effect[t] > effect[s]:
                hi = min(hi, (cost[t] - cost[s]) / (effect[t] - effect[s]))
        if lo < hi:
            frontier.add(s)
    return frontier


def naive_strongly_dominated(cost, effect) -> set[int]:
    n = len(cost)
    return {
        s
        for s in range(n)
        if any(t != s and cost[t] <= cost[s] and effect[t] >= effect[s] for t in range(n))
    }


def no_collinear_triple(cost, effect) -> bool:
    n = len(cost)
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(j + 1, n):
                cross = (effect[j] - effect[i]) * (cost[k] - cost[i]) - (effect[k] - effect[i]) * (
                    cost[j] - cost[i]
                )
                if cross == 0:
                    return False
    return True


@st.composite
def generic_points(draw):
    n = draw(st.integers(1, 8))
    cost = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n, unique=True))
    effect = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n, unique=True))
    assume(no_collinear_triple(cost, effect))
    return [float(c) for c in cost], [e / 4 for e in effect]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generic_points())
def test_icer_table_frontier_matches_naive_reference(points):
    cost, effect = points
    names = [f"s{i}" for i in range(len(cost))]
    t = icer_table(deterministic(names, cost, effect))
    st_of = statuses(t)

    frontier = {names[i] for i in naive_frontier(cost, effect)}
    dominated = {names[i] for i in naive_strongly_dominated(cost, effect)}
    assert {s for s, v in st_of.items() if v == F} == frontier
    assert {s for s, v in st_of.items() if v == D} == dominated
    assert {s for s, v in st_of.items() if v == ED} == set(names) - frontier - dominated

    # sorted by cost; frontier ICERs are the increasing slopes between frontier points
    assert t["cost"].is_monotonic_increasing
    front = t[t["status"] == F]
    assert np.isnan(front["icer"].iloc[0])
    slopes = np.diff(front["cost"]) / np.diff(front["effect"])
    np.testing.assert_allclose(front["icer"].iloc[1:], slopes)
    assert np.all(np.diff(slopes) > 0)
    assert t.loc[t["status"] != F, ["inc_cost", "inc_effect", "icer"]].isna().all().all()


# ---------------------------------------------------------------------------------------
# net benefit, CEAC, CEAF, expected loss, recommended
# ---------------------------------------------------------------------------------------


def test_net_benefit_values_and_dims():
    ds = psa([[100.0, 200.0], [0.0, 50.0]], [[1.0, 2.0], [0.0, 0.5]], names=["A", "B"])
    nmb = net_benefit(ds, [0, 1000])
    assert nmb.dims == ("wtp", "strategy", "sample")
    assert nmb.name == "nmb"
    assert nmb["wtp"].values.tolist() == [0.0, 1000.0]
    assert nmb.sel(wtp=1000, strategy="A").values.tolist() == [900.0, 1800.0]
    assert nmb.sel(wtp=0, strategy="B").values.tolist() == [0.0, -50.0]
    scalar = net_benefit(ds, 500)
    assert scalar.sizes["wtp"] == 1 and scalar["wtp"].values.tolist() == [500.0]


def test_nhb_times_wtp_equals_nmb():
    ds = random_psa(1)
    wtp = [100.0, 5000.0, 30000.0]
    nhb = net_benefit(ds, wtp, kind="health")
    nmb = net_benefit(ds, wtp)
    assert nhb.name == "nhb"
    xr.testing.assert_allclose(nhb * nhb["wtp"], nmb.rename("nhb"), rtol=1e-12)


def test_ceac_rows_sum_to_one_and_match_naive_loop():
    ds = random_psa(2, n_strategy=4, n_sample=300)
    wtp = np.array([0.0, 1e3, 1e4, 5e4])
    p = ceac(ds, wtp)
    assert p.dims == ("wtp", "strategy")
    np.testing.assert_allclose(p.sum("strategy"), 1.0)
    c, e = ds["cost"].values, ds["effect"].values
    for i, w in enumerate(wtp):
        counts = np.zeros(c.shape[0])
        for j in range(c.shape[1]):
            counts[np.argmax(w * e[:, j] - c[:, j])] += 1
        np.testing.assert_allclose(p.values[i], counts / c.shape[1])


def test_ceac_splits_ties():
    # at wtp 10: NMB of A and C is 0, of B -10, 0, 10, 20: sample 0 is a tie of A and C,
    # sample 1 a three-way tie, samples 2 and 3 go to B
    ds = psa([[0, 0, 0, 0], [10, 10, 10, 10], [0, 0, 0, 0]], [[0] * 4, [0, 1, 2, 3], [0] * 4])
    p = ceac(ds, [10])
    a = (1 / 2 + 1 / 3) / 4
    np.testing.assert_allclose(p.values[0], [a, (1 / 3 + 2) / 4, a])
    np.testing.assert_allclose(p.sum("strategy"), 1.0)


def test_recommended_and_ceaf_consistent():
    ds = random_psa(3)
    wtp = np.linspace(0, 40000, 9)
    rec = recommended(ds, wtp)
    assert rec.dims == ("wtp",)
    enmb = wtp[:, None] * ds["effect"].mean("sample").values - ds["cost"].mean("sample").values
    names = ds["strategy"].values
    assert rec.values.tolist() == names[enmb.argmax(axis=1)].tolist()

    frontier = ceaf(ds, wtp)
    assert frontier.index.name == "wtp"
    assert frontier.index.tolist() == wtp.tolist()
    assert frontier.columns.tolist() == ["strategy", "p_cost_effective"]
    assert frontier["strategy"].tolist() == rec.values.tolist()
    p = ceac(ds, wtp)
    expected = [float(p.sel(wtp=w, strategy=s)) for w, s in zip(wtp, rec.values, strict=True)]
    np.testing.assert_allclose(frontier["p_cost_effective"], expected)


def test_ceaf_need_not_be_ceac_maximum():
    # B has the higher expected NMB at 30 but wins in only 1 of 3 samples
    ds = psa([[0, 0, 0], [10, 10, 10]], [[0, 0, 0], [-1, -1, 5]], names=["A", "B"])
    f = ceaf(ds, [5, 30])
    assert f["strategy"].tolist() == ["A", "B"]
    np.testing.assert_allclose(f["p_cost_effective"], [2 / 3, 1 / 3])


def test_recommended_textbook_thresholds():
    ds = deterministic("ABC", [0, 100, 300], [0, 1, 1.5], sample=True)
    rec = recommended(ds, [0, 99, 101, 399, 401])
    assert rec.values.tolist() == ["A", "A", "B", "B", "C"]
    # exact tie at an ICER goes to the earlier strategy in file order
    assert recommended(ds, 100).values.tolist() == ["A"]


def test_expected_loss_min_is_evpi():
    ds = random_psa(4)
    wtp = np.array([0.0, 5e3, 2e4, 1e5])
    loss = expected_loss(ds, wtp)
    assert loss.dims == ("wtp", "strategy")
    nmb = net_benefit(ds, wtp).values
    evpi = nmb.max(axis=1).mean(axis=1) - nmb.mean(axis=2).max(axis=1)
    np.testing.assert_allclose(loss.min("strategy"), evpi, rtol=1e-9, atol=1e-6)
    assert (loss.values >= 0).all()
    # the strategy with the smallest loss is the recommended one
    rec = recommended(ds, wtp)
    assert loss["strategy"].values[loss.values.argmin(axis=1)].tolist() == rec.values.tolist()
    # per strategy: mean max NMB minus mean NMB of that strategy
    naive = nmb.max(axis=1).mean(axis=1)[:, None] - nmb.mean(axis=2)
    np.testing.assert_allclose(loss.values, naive, rtol=1e-9, atol=1e-6)


def test_expected_loss_zero_without_uncertainty():
    ds = deterministic("ABC", [0, 100, 300], [0, 1, 1.5], sample=True)
    loss = expected_loss(ds, [200])
    # NMB at 200: A 0, B 100, C 0
    assert loss.values.tolist() == [[100.0, 0.0, 100.0]]


def test_large_wtp_grid_is_chunked_consistently(monkeypatch):
    import decisionmodel.cea as cea

    ds = random_psa(5, n_strategy=3, n_sample=50)
    wtp = np.linspace(0, 5e4, 11)
    whole = ceac(ds, wtp), expected_loss(ds, wtp)
    monkeypatch.setattr(cea, "_CHUNK_CELLS", 7)  # one wtp per chunk
    parts = ceac(ds, wtp), expected_loss(ds, wtp)
    for a, b in zip(whole, parts, strict=True):
        xr.testing.assert_allclose(a, b)


# ---------------------------------------------------------------------------------------
# decision_table
# ---------------------------------------------------------------------------------------


def test_decision_table():
    ds = psa(
        [[300, 300], [0, 0], [50, 150], [250, 250]],
        [[1.5, 1.5], [0, 0], [0.5, 1.5], [0.8, 0.8]],
        names=["C", "A", "B", "D"],
    )
    df = decision_table(ds, [50, 1000.5])
    assert df.columns.tolist() == [
        "strategy",
        "cost",
        "effect",
        "nmb@50",
        "nmb@1000.5",
        "icer",
        "status",
        "p_ce@50",
        "p_ce@1000.5",
    ]
    assert df["strategy"].tolist() == ["C", "A", "B", "D"]  # outcomes order
    assert df["cost"].tolist() == [300.0, 0.0, 100.0, 250.0]
    assert df["effect"].tolist() == [1.5, 0.0, 1.0, 0.8]
    np.testing.assert_allclose(df["nmb@50"], [-225.0, 0.0, -50.0, -210.0])
    assert df["status"].tolist() == [F, F, F, D]
    np.testing.assert_array_equal(df["icer"], [400.0, np.nan, 100.0, np.nan])
    p = ceac(ds, [50, 1000.5])
    np.testing.assert_allclose(df["p_ce@50"], p.values[0])
    np.testing.assert_allclose(df["p_ce@1000.5"], p.values[1])
    assert df.attrs["wtp"] == [50.0, 1000.5]
    assert df.attrs["recommended"] == {50.0: "A", 1000.5: "C"}


# ---------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------

FUNCS = [net_benefit, ceac, ceaf, expected_loss, recommended, decision_table]


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize(
    ("wtp", "match"),
    [
        (-1.0, "non-negative"),
        ([0.0, -5.0], "non-negative"),
        (np.nan, "finite"),
        ([1.0, np.inf], "finite"),
        ([], "empty"),
        ([[1.0, 2.0]], "1-D"),
        ([1.0, 1.0], "unique"),
        ("cheap", "number"),
    ],
)
def test_bad_wtp(func, wtp, match):
    with pytest.raises(ValueError, match=match):
        func(random_psa(0, n_sample=5), wtp)


def test_health_net_benefit_needs_positive_wtp():
    ds = random_psa(0, n_sample=5)
    with pytest.raises(ValueError, match="> 0"):
        net_benefit(ds, [0.0, 100.0], kind="health")
    with pytest.raises(ValueError, match="kind"):
        net_benefit(ds, 100.0, kind="qaly")


@pytest.mark.parametrize("func", [*FUNCS, icer_table])
def test_nan_names_the_strategy(func):
    ds = random_psa(0, n_sample=5)
    ds["effect"][2, 3] = np.nan
    args = () if func is icer_table else (1000.0,)
    with pytest.raises(ValueError, match=r"effect contains NaN.*\['s2'\]"):
        func(ds, *args)
    ds = random_psa(0, n_sample=5)
    ds["cost"][1, 0] = np.inf
    with pytest.raises(ValueError, match=r"cost .*non-finite.*\['s1'\]"):
        func(ds, *args)


@pytest.mark.parametrize("func", [*FUNCS, icer_table])
def test_empty_strategies(func):
    ds = psa(np.zeros((0, 3)), np.zeros((0, 3)), names=[])
    args = () if func is icer_table else (1000.0,)
    with pytest.raises(ValueError, match="no strategies"):
        func(ds, *args)


def test_mismatched_dims():
    ds = random_psa(0, n_sample=5)
    bad = ds.assign(effect=ds["effect"].rename(sample="draw"))
    with pytest.raises(ValueError, match="dims"):
        ceac(bad, 100.0)
    with pytest.raises(ValueError, match="dims"):
        icer_table(bad)
    # a further dim is a batch dim (tests/test_cea_batches.py), computed cell by cell
    extra = ds.assign(cost=ds["cost"].expand_dims(chain=2))
    assert recommended(extra, 100.0).dims == ("chain", "wtp")
    assert (recommended(extra, 100.0).values == recommended(ds, 100.0).values).all()
    # no sample dim: fine for icer_table, an error for the probabilistic functions
    flat = ds.mean("sample")
    assert len(icer_table(flat)) == 4
    with pytest.raises(ValueError, match="sample"):
        ceac(flat, 100.0)
    with pytest.raises(ValueError, match="lack"):
        ceac(ds.drop_vars("cost"), 100.0)
    with pytest.raises(ValueError, match="shape"):
        ceac({"cost": np.zeros((2, 3)), "effect": np.zeros((2, 4))}, 100.0)


def test_duplicate_strategy_names():
    ds = psa(np.zeros((2, 3)), np.zeros((2, 3)), names=["A", "A"])
    with pytest.raises(ValueError, match="unique"):
        icer_table(ds)


def test_errors_are_decision_model_errors():
    with pytest.raises(DecisionModelError):
        ceac(random_psa(0, n_sample=5), -1)
    assert issubclass(CEAInputError, ValueError)


def test_mapping_input_and_transposed_dataset():
    ds = random_psa(6, n_strategy=3, n_sample=40)
    wtp = [1e3, 2e4]
    mapping = {"cost": ds["cost"].values, "effect": ds["effect"].values}
    np.testing.assert_array_equal(ceac(mapping, wtp).values, ceac(ds, wtp).values)
    assert ceac(mapping, wtp)["strategy"].values.tolist() == ["0", "1", "2"]
    transposed = ds.transpose("sample", "strategy")
    xr.testing.assert_equal(expected_loss(transposed, wtp), expected_loss(ds, wtp))
    with pytest.raises(ValueError, match="Dataset"):
        ceac([[1.0]], wtp)


# ----------------------------------------------------------------------------- summary


def _naive_summary(cost: np.ndarray, effect: np.ndarray, w: float) -> dict:
    """Per-draw loops: expected NMB, CEAC with shared ties, expected loss, EVPI."""
    n_s, n = cost.shape
    nmb = [[w * effect[k, i] - cost[k, i] for i in range(n)] for k in range(n_s)]
    p_ce, loss = [0.0] * n_s, [0.0] * n_s
    for i in range(n):
        column = [nmb[k][i] for k in range(n_s)]
        best = max(column)
        winners = [k for k in range(n_s) if column[k] == best]
        for k in range(n_s):
            p_ce[k] += (k in winners) / len(winners) / n
            loss[k] += (best - column[k]) / n
    enmb = [sum(row) / n for row in nmb]
    return {
        "nmb": enmb,
        "p_ce": p_ce,
        "expected_loss": loss,
        "evpi": min(loss),
        "recommended": int(np.argmax(enmb)),
    }


@given(st.integers(2, 4), st.integers(2, 30), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_summary_matches_a_per_draw_loop_and_the_table(n_s, n, seed):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 5, (n_s, n)).astype(float) * 100  # coarse values: ties happen
    effect = rng.integers(0, 4, (n_s, n)).astype(float) / 2
    ds = xr.Dataset(
        {"cost": (("strategy", "sample"), cost), "effect": (("strategy", "sample"), effect)},
        coords={"strategy": [f"s{k}" for k in range(n_s)]},
        attrs={"currency": "GBP", "other": 1},
    )
    wtp = [0.0, 150.0, 1000.0]
    s = summary(ds, wtp)
    for j, w in enumerate(wtp):
        ref = _naive_summary(cost, effect, w)
        for key in ("nmb", "p_ce", "expected_loss"):
            np.testing.assert_allclose(s[key].values[j], ref[key], rtol=1e-12, atol=1e-9)
        assert math.isclose(float(s["evpi"].values[j]), ref["evpi"], rel_tol=1e-12, abs_tol=1e-9)
        # the highest expected NMB; where two are tied the two ways of computing the mean
        # (w * E[effect] - E[cost], and the loop's mean NMB) may round apart, so either
        # tied strategy is right
        tied = [k for k, v in enumerate(ref["nmb"]) if v >= max(ref["nmb"]) - 1e-9]
        assert s["recommended"].values[j] in {f"s{k}" for k in tied}
        if len(tied) == 1:
            assert s["recommended"].values[j] == f"s{ref['recommended']}"
    icers = icer_table(ds).set_index("strategy").loc[s["strategy"].values]
    assert s["status"].values.tolist() == icers["status"].tolist()
    np.testing.assert_array_equal(s["icer"].values, icers["icer"].to_numpy(dtype=float))
    assert s.attrs == {"currency": "GBP"}
    table = decision_table(ds, wtp)
    np.testing.assert_array_equal(table["nmb@150"].to_numpy(), s["nmb"].sel(wtp=150).values)
    np.testing.assert_array_equal(table["p_ce@1000"].to_numpy(), s["p_ce"].sel(wtp=1000).values)
