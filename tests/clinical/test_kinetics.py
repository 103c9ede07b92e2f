"""Exponential regrowth after resection (decisionmodel.clinical.kinetics).

References: the evidence dossier's worked numbers (section 8: t = DT log2(N_detect /
N_residual); DT 86 days (Finlay IG et al. Br J Surg 1988;75:641-4): 10^6 -> 10^9 cells 2.3
years, 10^7 -> 10^9 1.6 years, 10^8 -> 10^9 0.8 years; DT 71 days: 1.9 / 1.3 / 0.65
years; r = 0.0081 / 0.0097 / 0.0045 per day for DT 86 / 71 / 155 days) and the closed form
ln(N_1 / N_0) / r; the calibration target median time to recurrence ~15-16 months after
resection of colorectal liver metastases (section 2); and, when a cached fit is present,
the ``tumour_kinetics`` evidence model's own regrowth-time outputs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from decisionmodel.clinical.kinetics import (
    DAYS_PER_MONTH,
    DETECTION_CELLS,
    LETHAL_CELLS,
    RESIDUAL_CELLS,
    KineticsInputError,
    dfi_growth_rate_bound,
    doubling_time_from_growth_rate,
    growth_rate_from_doubling_time,
    regrowth_time,
    residual_cells,
    time_to_detection,
)
from decisionmodel.exceptions import DecisionModelError, ParameterError

YEAR_MONTHS = 12.0


@pytest.mark.parametrize(
    ("dt_days", "expected_years"),
    [(86, {1e6: 2.3, 1e7: 1.6, 1e8: 0.8}), (71, {1e6: 1.9, 1e7: 1.3, 1e8: 0.65})],
)
def test_dossier_worked_numbers(dt_days, expected_years):
    r = growth_rate_from_doubling_time(dt_days)
    for n0, years in expected_years.items():
        t = time_to_detection(r, residual_cells=n0) / YEAR_MONTHS
        digits = 2 if years == 0.65 else 1
        assert round(t, digits) == years
        # closed form t = DT log2(N_detect / N_0), in days
        assert t * 365.25 == pytest.approx(dt_days * math.log2(1e9 / n0))


def test_rate_and_doubling_time():
    for dt, r in ((86, 0.0081), (71, 0.0097), (155, 0.0045)):  # dossier values, truncated
        assert growth_rate_from_doubling_time(dt) == pytest.approx(r, abs=1e-4)
    x = np.array([20.0, 75.0, 400.0])
    np.testing.assert_allclose(doubling_time_from_growth_rate(growth_rate_from_doubling_time(x)), x)
    assert growth_rate_from_doubling_time(75.0) == pytest.approx(math.log(2) / 75)


def test_default_burdens():
    assert DETECTION_CELLS == 1e9
    assert LETHAL_CELLS == 1e12
    assert RESIDUAL_CELLS == {"R0": 1e7, "R1": 1e8, "R2": 1e9}
    assert residual_cells("r1") == 1e8
    assert DAYS_PER_MONTH == pytest.approx(365.25 / 12)


def test_regrowth_closed_form_by_margin():
    r = 0.01
    for margin, n0 in (("R0", 1e7), ("R1", 1e8), ("R2", 1e9)):
        expected_days = math.log(1e12 / n0) / r
        assert regrowth_time(r, margin) == pytest.approx(expected_days / DAYS_PER_MONTH)
    # R0 is the default; R1 and R2 are each one order of magnitude (ln 10 / r) shorter
    assert regrowth_time(r) == regrowth_time(r, "R0")
    step = math.log(10) / r / DAYS_PER_MONTH
    assert regrowth_time(r, "R0") - regrowth_time(r, "R1") == pytest.approx(step)
    assert regrowth_time(r, "R1") - regrowth_time(r, "R2") == pytest.approx(step)
    assert regrowth_time(r, residual_cells=1e10, lethal_cells=1e11) == pytest.approx(step)


def test_calibration_r0_to_median_time_to_recurrence():
    # dossier: with DT ~ 75 d, N_residual ~ 10^7 reproduces median TTR ~ 15-16 months
    t = time_to_detection(growth_rate_from_doubling_time(75))
    assert 14.5 <= t <= 17.0
    # R2 leaves a detectable burden: recurrence is immediate
    assert time_to_detection(0.01, "R2") == 0.0
    assert time_to_detection(0.01, residual_cells=5e9) == 0.0


def test_vectorised_numpy_against_loop():
    rng = np.random.default_rng(3)
    r = math.log(2) / rng.lognormal(math.log(75), 0.55, size=(4, 250))
    got = regrowth_time(r, "R1")
    naive = np.array([[math.log(1e12 / 1e8) / x / DAYS_PER_MONTH for x in row] for row in r])
    assert got.shape == r.shape
    np.testing.assert_allclose(got, naive)
    got = time_to_detection(r, "R0")
    naive = np.array([[math.log(1e9 / 1e7) / x / DAYS_PER_MONTH for x in row] for row in r])
    np.testing.assert_allclose(got, naive)


def test_vectorised_xarray_keeps_dims_and_coords():
    r = xr.DataArray(
        np.array([[0.005, 0.01], [0.02, 0.04]]),
        dims=("chain", "draw"),
        coords={"chain": [0, 1], "draw": [10, 11]},
    )
    for func in (regrowth_time, time_to_detection):
        out = func(r, "R0")
        assert isinstance(out, xr.DataArray)
        assert out.dims == ("chain", "draw")
        assert list(out["draw"].values) == [10, 11]
    np.testing.assert_allclose(
        regrowth_time(r, "R0").values, math.log(1e5) / r.values / DAYS_PER_MONTH
    )
    # per-draw lethal burdens broadcast by dimension name
    lethal = xr.DataArray([1e11, 1e13], dims="draw", coords={"draw": [10, 11]})
    out = regrowth_time(r, "R0", lethal_cells=lethal)
    np.testing.assert_allclose(out.values, np.log(np.array([1e4, 1e6])) / r.values / DAYS_PER_MONTH)


def test_dfi_growth_rate_bound():
    # one cell to 10^9 cells in 12 months
    r = dfi_growth_rate_bound(12)
    assert r == pytest.approx(math.log(1e9) / (12 * 365.25 / 12))
    assert doubling_time_from_growth_rate(r) == pytest.approx(12 * 30.4375 / math.log2(1e9))
    # from a residual of 10^7 cells: log2(100) doublings in the DFI
    r = dfi_growth_rate_bound(np.array([6.0, 24.0]), seed_cells=1e7)
    np.testing.assert_allclose(
        doubling_time_from_growth_rate(r), np.array([6.0, 24.0]) * DAYS_PER_MONTH / math.log2(100)
    )
    # growing at exactly the bound reaches detection at exactly the DFI
    assert time_to_detection(dfi_growth_rate_bound(9.0, seed_cells=1e6), residual_cells=1e6) == (
        pytest.approx(9.0)
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: regrowth_time(-0.01), "growth_rate_per_day"),
        (lambda: regrowth_time(np.array([0.01, np.nan])), "growth_rate_per_day"),
        (lambda: regrowth_time(True), "growth_rate_per_day"),
        (lambda: regrowth_time("0.01"), "growth_rate_per_day"),
        (lambda: regrowth_time(0.01, "R3"), "margin"),
        (lambda: regrowth_time(0.01, "R1", residual_cells=1e8), "either margin"),
        (lambda: regrowth_time(0.01, residual_cells=0), "residual_cells"),
        (lambda: regrowth_time(0.01, residual_cells=1e12), "lethal_cells"),
        (lambda: time_to_detection(0.01, detection_cells=-1), "detection_cells"),
        (lambda: growth_rate_from_doubling_time(0), "doubling_time_days"),
        (lambda: doubling_time_from_growth_rate(-1), "growth_rate_per_day"),
        (lambda: dfi_growth_rate_bound(0), "dfi_months"),
        (lambda: dfi_growth_rate_bound(12, seed_cells=1e9), "seed_cells"),
    ],
)
def test_invalid_inputs(call, match):
    with pytest.raises(KineticsInputError, match=match) as info:
        call()
    assert isinstance(info.value, ParameterError | DecisionModelError)


@pytest.mark.slow
def test_matches_the_evidence_model_outputs(evidence_fit):
    """Per draw, the evidence model's regrowth times are this closed form with its lethal
    burden draws; and the R0 default gives median time to recurrence ~15-16 months."""
    dt = evidence_fit("tumour_kinetics")
    from decisionmodel.evidence.draws import posterior_outputs
    from decisionmodel.evidence.registry import MODELS

    out = posterior_outputs(MODELS["tumour_kinetics"], dt)
    r = np.asarray(out["growth_rate_crlm"])
    lethal = 10.0 ** np.asarray(dt["posterior"]["log10_lethal_cells"]).ravel()
    assert lethal.shape == r.shape
    for margin in ("r0", "r1", "r2"):
        ours = regrowth_time(r, margin.upper(), lethal_cells=lethal)
        np.testing.assert_allclose(ours, np.asarray(out[f"regrowth_time_{margin}_crlm_mo"]))
    assert 15.0 <= float(np.median(time_to_detection(r, "R0"))) <= 16.5
