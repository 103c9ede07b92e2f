"""The shared net-benefit kernels: the WTP check and the opportunity loss (EVPI)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from decisionmodel.cea import summary
from decisionmodel.exceptions import CEAInputError, VOIInputError
from decisionmodel.netbenefit import check_wtp, opportunity_loss
from decisionmodel.voi import evpi


@pytest.mark.parametrize(
    ("wtp", "why"),
    [
        ("lots", "a number or a 1-D sequence"),
        ([[1, 2]], "scalar or 1-D"),
        ([], "empty"),
        ([1, np.inf], "finite"),
        ([np.nan], "finite"),
        ([-1, 2], "non-negative"),
        ([3, 3], "unique"),
    ],
    ids=["text", "2d", "empty", "inf", "nan", "negative", "repeat"],
)
@pytest.mark.parametrize("error", [ValueError, CEAInputError, VOIInputError])
def test_bad_grids_raise_the_layers_error(wtp, why, error):
    with pytest.raises(error, match=why):
        check_wtp(wtp, error=error)


def test_positive_refuses_zero_and_order_is_kept():
    assert check_wtp([0, 5e4, 2e4]).tolist() == [0.0, 5e4, 2e4]
    assert check_wtp(np.float32(3)).dtype == np.float64
    with pytest.raises(CEAInputError, match="> 0"):
        check_wtp([0, 1], error=CEAInputError, positive=True)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 3), st.integers(2, 4), st.integers(2, 30)),
        elements=st.floats(-1e6, 1e6, allow_nan=False),
    )
)
def test_mean_loss_is_expected_max_minus_max_expected(nb):
    """EVPI = E[max_d NB_d] - max_d E[NB_d] (a naive two-term form) up to rounding, and
    every per-draw loss is >= 0."""
    loss = opportunity_loss(nb)
    assert loss.shape == (nb.shape[0], nb.shape[2]) and (loss >= 0).all()
    naive = nb.max(axis=1).mean(axis=1) - nb.mean(axis=2).max(axis=1)
    np.testing.assert_allclose(loss.mean(axis=1), naive, rtol=1e-9, atol=1e-6)


def test_decision_table_evpi_is_voi_evpi_bit_for_bit():
    """One EVPI: cea.summary and voi.evpi give the same bits on the same outcomes."""
    rng = np.random.default_rng(4)
    cost = rng.gamma(5.0, 2e3, size=(3, 4000))
    effect = rng.normal([[1.0], [1.1], [1.15]], 0.3, size=(3, 4000))
    ds = xr.Dataset(
        {"cost": (("strategy", "sample"), cost), "effect": (("strategy", "sample"), effect)},
        coords={"strategy": ["a", "b", "c"]},
    )
    w = [0.0, 2e4, 5e4, 1e5]
    table = summary(ds, w)["evpi"].values
    assert np.array_equal(table, evpi(ds, wtp=w)["value"].values)
    # and it is the smallest expected loss (the loss of the recommended strategy)
    assert np.array_equal(table, summary(ds, w)["expected_loss"].values.min(axis=1))
