"""Outcome draws are paired with parameter draws (and effects with costs) by their ``sample``
labels when both sides carry labels, by position otherwise.

Before, the pairing was by position only: permuting the outcome draws of a labelled input
relative to the parameter draws destroyed the dependence and gave EVPPI = 0 with no error.

References, independent of the package:

* the unpermuted input (matching by label restores exactly its arrays, so the results are
  equal to the last bit, with the same seed);
* a linear-Gaussian case built here: a, b ~ N(0, 1) independent, INB = 100 + 200·a + 300·b,
  so E[INB | a] ~ N(100, 200²) and EVPPI(a) = s·φ(m/s) + m·Φ(m/s) − max(m, 0) with m = 100,
  s = 200 (the expected loss of a normal), 39.56. The estimate from 10⁴ draws is judged
  with the reference cases' rule, max(10 %, 3 × its standard error).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from decisionmodel.exceptions import VOIInputError
from decisionmodel.voi import evpi, evppi, evppi_rank, evsi, normal_mean
from decisionmodel.voi.inputs import align_draws, sample_labels

N = 10_000
K = 1000.0  # willingness to pay of the cost/effect form
M, S = 100.0, 200.0
TRUTH = S * stats.norm.pdf(M / S) + M * stats.norm.cdf(M / S) - max(M, 0.0)


@pytest.fixture(scope="module")
def case():
    """Parameter draws and engine-style outcomes (cost, effect over strategy × sample), both
    labelled by a ``sample`` coordinate that is not simply 0..N−1 (labels 1000, 1003, ...)."""
    rng = np.random.default_rng(20)
    a, b = rng.normal(size=N), rng.normal(size=N)
    labels = 1000 + 3 * np.arange(N)
    params = xr.Dataset({"a": ("sample", a), "b": ("sample", b)}, coords={"sample": labels})
    effect = np.stack([np.zeros(N), (M + S * a) / K])
    cost = np.stack([np.zeros(N), -300.0 * b])
    outcomes = xr.Dataset(
        {"cost": (("strategy", "sample"), cost), "effect": (("strategy", "sample"), effect)},
        coords={"strategy": ["old", "new"], "sample": labels},
    )
    nb = (K * outcomes["effect"] - outcomes["cost"]).rename("nb")  # = (0, 100 + 200a + 300b)
    perm = np.random.default_rng(21).permutation(N)
    return {"params": params, "outcomes": outcomes, "nb": nb, "perm": perm}


def _value(res) -> np.ndarray:
    return np.asarray(res["value"].values)


def _assert_near_truth(res):
    value = float(np.ravel(res["value"].values)[0])
    se = float(np.ravel(res["se"].values)[0])
    assert abs(value - TRUTH) <= max(0.10 * TRUTH, 3 * se), (value, se, TRUTH)


# --------------------------------------------------------------------------- permuted = unpermuted
def test_permuted_outcomes_dataset_gives_the_unpermuted_evppi(case):
    params, outcomes, perm = case["params"], case["outcomes"], case["perm"]
    ref = evppi(outcomes, params, "a", wtp=K, rng=1)
    _assert_near_truth(ref)
    got = evppi(outcomes.isel(sample=perm), params, "a", wtp=K, rng=1)
    np.testing.assert_array_equal(_value(got), _value(ref))
    np.testing.assert_array_equal(got["se"].values, ref["se"].values)
    # what positional pairing gave: the permutation breaks the dependence, EVPPI ~ 0
    broken = evppi(
        costs=outcomes["cost"].values.T[perm],
        effects=outcomes["effect"].values.T[perm],
        wtp=K,
        inputs=params.to_dataframe().reset_index(drop=True),
        pars="a",
        se=False,
    )
    assert float(np.ravel(broken["value"].values)[0]) < 0.1 * TRUTH


def test_permuted_nb_dataarray_gives_the_unpermuted_evppi(case):
    params, nb, perm = case["params"], case["nb"], case["perm"]
    ref = evppi(nb, params, [["a"], ["a", "b"]], rng=2)
    _assert_near_truth(ref.isel(group=[0]))
    for shuffled in (nb.isel(sample=perm), nb.isel(sample=perm).transpose("sample", "strategy")):
        got = evppi(shuffled, params, [["a"], ["a", "b"]], rng=2)
        np.testing.assert_array_equal(_value(got), _value(ref))


def test_permuted_parameters_give_the_evppi_up_to_row_order(case):
    """Matching keeps the parameter draws' order, so permuting the parameters permutes the
    rows the regression sees: the same estimate up to the tolerance of the smoothing
    parameter search."""
    params, nb, perm = case["params"], case["nb"], case["perm"]
    ref = evppi(nb, params, "a", se=False)
    got = evppi(nb, params.isel(sample=perm), "a", se=False)
    np.testing.assert_allclose(_value(got), _value(ref), rtol=1e-4)


def test_nb_with_a_wtp_dimension_is_matched_too(case):
    params, outcomes, perm = case["params"], case["outcomes"], case["perm"]
    wtp = xr.DataArray([500.0, K], dims="wtp", coords={"wtp": [500.0, K]})
    grid = (wtp * outcomes["effect"] - outcomes["cost"]).transpose("wtp", "strategy", "sample")
    ref = evppi(grid, params, "a", se=False)
    got = evppi(grid.isel(sample=perm), params, "a", se=False)
    np.testing.assert_array_equal(_value(got), _value(ref))
    assert ref["value"].sel(wtp=K).item() == pytest.approx(TRUTH, rel=0.10)


def test_dataframes_with_a_labelled_index_are_matched(case):
    """``Dataset.to_dataframe()`` (index ``sample``) and a permuted frame (``iloc``) label
    their rows; matching them gives the unpermuted result."""
    params, nb, perm = case["params"], case["nb"], case["perm"]
    frame = params.to_dataframe()
    nb_frame = nb.to_pandas().T  # rows = samples, index = the sample labels
    ref = evppi(nb_frame, frame, "a", rng=3)
    _assert_near_truth(ref)
    for outcomes, inputs in (
        (nb_frame.iloc[perm], frame),
        (nb.isel(sample=perm), frame),
        (nb_frame.iloc[perm], params),
    ):
        got = evppi(outcomes, inputs, "a", rng=3)
        np.testing.assert_array_equal(_value(got), _value(ref))


def test_costs_and_effects_given_separately_are_matched_to_each_other_and_to_inputs(case):
    params, outcomes, perm = case["params"], case["outcomes"], case["perm"]
    cost, effect = outcomes["cost"], outcomes["effect"]
    ref = evppi(costs=cost, effects=effect, wtp=K, inputs=params, pars="a", rng=4)
    _assert_near_truth(ref)
    for c, e in (
        (cost, effect.isel(sample=perm)),  # effects shuffled against costs
        (cost.isel(sample=perm), effect.isel(sample=perm)),  # both against the inputs
        (cost.isel(sample=perm), effect),
        (cost.to_pandas().T.iloc[perm], effect),  # a labelled DataFrame and a DataArray
    ):
        got = evppi(costs=c, effects=e, wtp=K, inputs=params, pars="a", rng=4)
        np.testing.assert_array_equal(_value(got), _value(ref))
    # EVPI needs no parameters, but costs and effects still pair by label
    exact = evpi(costs=cost, effects=effect, wtp=K)
    shuffled = evpi(costs=cost, effects=effect.isel(sample=perm), wtp=K)
    assert shuffled["value"].item() == exact["value"].item()
    nb = K * effect.values[1] - cost.values[1]  # independent: the loss of the new strategy
    assert exact["value"].item() == pytest.approx(np.maximum(-nb, 0).mean(), rel=1e-12)


def test_one_labelled_partner_reorders_its_unlabelled_partner(case):
    """Costs labelled, effects a frame with the default index (positional with the costs):
    when the costs are matched to the inputs the effects move with them."""
    params, outcomes, perm = case["params"], case["outcomes"], case["perm"]
    cost, effect = outcomes["cost"], outcomes["effect"]
    ref = evppi(costs=cost, effects=effect, wtp=K, inputs=params, pars="a", se=False)
    got = evppi(
        costs=cost.isel(sample=perm),
        effects=pd.DataFrame(effect.values.T[perm], columns=["old", "new"]),  # costs' order
        wtp=K,
        inputs=params,
        pars="a",
        se=False,
    )
    np.testing.assert_array_equal(_value(got), _value(ref))


def test_evsi_and_evppi_rank_match_by_label(case):
    params, nb, perm = case["params"], case["nb"], case["perm"]
    study = normal_mean("a", sd=2.0)
    ref = evsi(nb, params, study=study, n=[10, 100], rng=5)
    got = evsi(nb.isel(sample=perm), params, study=study, n=[10, 100], rng=5)
    np.testing.assert_array_equal(_value(got), _value(ref))
    np.testing.assert_array_equal(got["se"].values, ref["se"].values)
    # closed form: E[a | data] ~ N(0, v), v = n/(n + 4) (n0 = sd²/Var a = 4), so
    # EVSI = L(100, 200·sqrt(v)); the reference cases' EVSI tolerance is 15 %
    for n, value in zip((10, 100), _value(ref), strict=True):
        s = S * np.sqrt(n / (n + 4.0))
        exact = s * stats.norm.pdf(M / s) + M * stats.norm.cdf(M / s) - M
        assert value == pytest.approx(exact, rel=0.15)
    rank = evppi_rank(nb, params, se=False)
    again = evppi_rank(nb.isel(sample=perm), params, se=False)
    pd.testing.assert_frame_equal(again, rank)
    assert rank["parameter"].tolist() == ["b", "a"]


# --------------------------------------------------------------------------- label sets differ
@pytest.mark.parametrize(
    ("select", "pattern"),
    [
        (lambda ds: ds.isel(sample=slice(1, None)), r"nb lacks 1 label\(s\) of inputs: 1000"),
        (
            lambda ds: ds.assign_coords(sample=ds["sample"].values + 1),
            r"nb lacks 10000 label\(s\) of inputs: 1000, 1003, .*nb has 10000 label\(s\) "
            r"that inputs lacks: 1001, 1004",
        ),
        (
            lambda ds: ds.isel(sample=np.r_[0, np.arange(N - 1)]),
            r"nb: sample label\(s\) 1000 repeat",
        ),
    ],
    ids=["missing", "different", "duplicate"],
)
def test_different_label_sets_raise_naming_the_labels(case, select, pattern):
    params, outcomes = case["params"], case["outcomes"]
    with pytest.raises(VOIInputError, match=pattern):
        evppi(select(outcomes), params, "a", wtp=K, se=False)
    with pytest.raises(VOIInputError, match=pattern):
        evsi(select(case["nb"]), params, study=normal_mean("a", sd=2.0), n=10, rng=0)


def test_extra_outcome_draws_raise(case):
    params = case["params"].isel(sample=slice(0, N - 2))
    with pytest.raises(
        VOIInputError,
        match=r"nb and inputs hold different draws, matched by their sample labels "
        r"\(10000 and 9998 draws\): nb has 2 label\(s\) that inputs lacks: 30994, 30997",
    ):
        evppi(case["nb"], params, "a", se=False)


def test_costs_and_effects_with_different_labels_raise(case):
    cost, effect = case["outcomes"]["cost"], case["outcomes"]["effect"]
    with pytest.raises(VOIInputError, match=r"effects lacks 1 label\(s\) of costs: 1000"):
        evpi(costs=cost, effects=effect.isel(sample=slice(1, None)), wtp=K)
    frame = effect.to_pandas().T
    frame.index = ["x"] * N
    with pytest.raises(VOIInputError, match=r"effects: sample label\(s\) 'x' repeat"):
        evpi(costs=cost, effects=frame, wtp=K)


def test_identical_label_sequences_need_no_matching():
    """Two objects with the same labels in the same order, repeats included, pair as they
    are (position and label agree)."""
    rng = np.random.default_rng(22)
    idx = pd.Index([0, 0, *range(1, 399)])
    x = pd.DataFrame({"a": rng.normal(size=400)}, index=idx)
    nb = pd.DataFrame({"o": np.zeros(400), "n": 5 + 10 * x["a"].to_numpy()}, index=idx)
    got = evppi(nb, x, "a", se=False)
    ref = evppi(nb.reset_index(drop=True), x.reset_index(drop=True), "a", se=False)
    np.testing.assert_array_equal(_value(got), _value(ref))


# --------------------------------------------------------------------------- positional input
def test_unlabelled_input_pairs_by_position(case):
    """A default RangeIndex, an array or a mapping carries no labels: the draws pair by
    position even when the other side is labelled (and shuffled)."""
    params, nb, perm = case["params"], case["nb"], case["perm"]
    shuffled = nb.isel(sample=perm)
    by_position = evppi(
        shuffled.values.T, params.to_dataframe().reset_index(drop=True), "a", se=False
    )
    for inputs in (
        params.to_dataframe().reset_index(drop=True),
        {"a": params["a"].values, "b": params["b"].values},
    ):
        got = evppi(shuffled, inputs, "a", se=False)
        np.testing.assert_array_equal(_value(got), _value(by_position))
    plain = xr.Dataset({"a": ("sample", params["a"].values)})  # a sample dim, no coordinate
    assert sample_labels(plain) is None
    got = evppi(shuffled, plain, "a", se=False)
    np.testing.assert_array_equal(_value(got), _value(by_position))


def test_unlabelled_inputs_of_another_length_raise(case):
    nb = case["nb"]
    short = pd.DataFrame({"a": np.zeros(N - 1) + np.arange(N - 1)})
    with pytest.raises(VOIInputError, match="inputs has 9999 rows but net benefit has 10000 draws"):
        evppi(nb, short, "a", se=False)
    with pytest.raises(VOIInputError, match="inputs has 9999 rows but net benefit has 10000 draws"):
        evsi(nb, short, study=normal_mean("a", sd=1.0), n=10, rng=0)
    cost, effect = case["outcomes"]["cost"], case["outcomes"]["effect"]
    with pytest.raises(VOIInputError, match=r"costs has shape \(10000, 2\) but effects has"):
        evpi(costs=cost, effects=effect.values.T[:-1], wtp=K)


def test_what_counts_as_labels():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    assert sample_labels(frame) is None
    assert sample_labels(frame.iloc[[2, 0, 1]]).tolist() == [2, 0, 1]
    assert sample_labels(frame.iloc[1:]).tolist() == [1, 2]  # RangeIndex 1..2: a label
    assert sample_labels(frame.set_index(pd.Index([5, 6, 7]))).tolist() == [5, 6, 7]
    assert sample_labels(np.zeros((3, 2))) is None
    assert sample_labels({"a": [1.0, 2.0]}) is None
    da = xr.DataArray(np.zeros((3, 2)), dims=("sample", "strategy"))
    assert sample_labels(da) is None
    assert sample_labels(da.assign_coords(sample=[7, 8, 9])).tolist() == [7, 8, 9]


def test_align_draws_returns_aligned_input_unchanged(case):
    params, outcomes = case["params"], case["outcomes"]
    nb, costs, effects = align_draws(params, outcomes)
    assert nb is outcomes and costs is None and effects is None
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    assert align_draws(frame, np.zeros((2, 2)))[0].shape == (2, 2)
