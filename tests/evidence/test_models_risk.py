"""Evidence models for risks: surgical risk, intraoperative findings, tumour kinetics.

Fast tests build the three models on the shipped evidence (``priors/``), run them through
``pymc.testing.mock_sample`` (prior draws standing in for a posterior, compiled in
pytensor's FAST_COMPILE mode so no Numba compilation is needed), and check ``outputs``
and ``checks``; the reparameterised surgical-risk model is compared with the plain
random-effects model it stands for; the tumour-kinetics functions are compared with
closed forms. Tests marked ``slow`` run real NUTS fits: recovery of known parameters from
data simulated here, and the fits on the shipped evidence (posterior-predictive checks,
R-hat <= 1.01, bulk and tail ESS >= 400, no divergences).

Published numbers, as the project's evidence dossier reports them, come from the papers:
Robertson DJ et al. Cancer 2009;115:752-9 (30-/90-day mortality 4.0 % / 8.2 %, n = 3957);
Allen VB et al. Cochrane Database Syst Rev 2016;7:CD009323 (staging laparoscopy
sensitivity 64.4 %, 50.1-76.6 %); Finlay IG et al. Br J Surg 1988;75:641-4 (doubling times
155 +/- 34 and 86 +/- 12 days, SEM); the dossier's derived regrowth times (section 8).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytest
import xarray as xr
from pymc.testing import mock_sample
from scipy import special, stats

from decisionmodel.clinical.kinetics import DAYS_PER_MONTH, regrowth_days
from decisionmodel.evidence import evidence_from_dict, load_all
from decisionmodel.evidence.models import intraoperative, surgical_risk, tumour_kinetics
from decisionmodel.evidence.registry import CHECK_COLUMNS, ModelSpec, load_models
from decisionmodel.exceptions import EvidenceModelError, MissingEvidenceError, ParameterError

PRIORS = Path(__file__).resolve().parents[2] / "priors"
MODULES = (surgical_risk, intraoperative, tumour_kinetics)
SPECS = {spec.name: spec for mod in MODULES for spec in mod.SPECS}

SURGICAL_OUTPUTS = {
    *(f"p_mort30_{p}" for p in ("hepatectomy", "repeat_hepatectomy", "lung", "whipple")),
    *(f"p_mort90_{p}" for p in ("hepatectomy", "repeat_hepatectomy", "lung", "whipple")),
    "p_mort30_bypass",
    "p_mort90_bypass",
    "p_mort30_crs_hipec",
    "p_mort90_crs_hipec",
    *(f"p_major_morbidity_{p}" for p in ("hepatectomy", "lung", "bypass", "crs", "crs_hipec")),
    *(f"p_morbidity_{p}" for p in ("repeat_hepatectomy", "whipple", "crs_hipec")),
}
INTRAOPERATIVE_OUTPUTS = {
    "p_peritoneal_at_laparotomy",
    "p_occult_mets_whipple",
    "sens_staging_laparoscopy",
}
KINETICS_OUTPUTS = {
    *(
        f"growth_rate_{p}"
        for p in ("crlm", "crlm_overt", "crlm_occult", "crlm_metachronous", "lung", "primary_crc")
    ),
    "regrowth_time_r0_crlm_mo",
    "regrowth_time_r1_crlm_mo",
    "regrowth_time_r2_crlm_mo",
}


@pytest.fixture(scope="module")
def evidence() -> dict[str, Any]:
    return load_all(PRIORS)


def prior_tree(model: pm.Model, draws: int = 300, seed: int = 1) -> xr.DataTree:
    """``mock_sample`` (prior draws as a posterior), compiled without Numba (fast)."""
    with pytensor.config.change_flags(mode="FAST_COMPILE"), model:
        return mock_sample(draws=draws, random_seed=seed)


def fit(model: pm.Model, seed: int, **kwargs: Any) -> tuple[xr.DataTree, float]:
    """A real NUTS fit under pytest settings (one core, PyMC's sampler, fixed seed)."""
    t0 = time.perf_counter()
    with model:
        dt = pm.sample(cores=1, nuts_sampler="pymc", random_seed=seed, progressbar=False, **kwargs)
    return dt, time.perf_counter() - t0


def post_flat(dt: xr.DataTree, name: str) -> np.ndarray:
    da = dt["posterior"][name]
    return da.stack(sample=("chain", "draw")).transpose("sample", ...).values


def entry(eid: str, quantity: str, **fields: Any) -> dict[str, Any]:
    """An evidence entry of a simulated study (citation and flags filled in)."""
    return {
        "id": eid,
        "quantity": quantity,
        "citation": {"authors": "Simulated S", "journal": "Test", "year": 2026},
        "verified": False,
        "confidence": "D",
        **fields,
    }


def simulated(area: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        area: evidence_from_dict(
            {"area": area, "description": "simulated in the test", "entries": entries}
        )
    }


# ----------------------------------------------------------------------------- registry


def test_specs_follow_the_registry_contract() -> None:
    assert list(SPECS) == ["surgical_risk", "intraoperative", "tumour_kinetics"]
    for name, spec in SPECS.items():
        assert isinstance(spec, ModelSpec)
        assert spec.files == (name,)
    found = load_models([mod.__name__ for mod in MODULES])
    assert list(found) == list(SPECS)


def test_missing_area_or_data_is_an_evidence_model_error(evidence: dict[str, Any]) -> None:
    with pytest.raises(MissingEvidenceError, match="surgical_risk"):
        SPECS["surgical_risk"].build({"intraoperative": evidence["intraoperative"]})
    only_a_prior = simulated(
        "surgical_risk",
        [entry("default_x", "mortality_90d", type="value", value=0.03, unit="proportion")],
    )
    with pytest.raises(EvidenceModelError, match="no usable series"):
        SPECS["surgical_risk"].build(only_a_prior)


# ----------------------------------------------------------------------------- surgical risk


def test_surgical_data_rules(evidence: dict[str, Any]) -> None:
    d = surgical_risk.surgical_risk_data(evidence).set_index("id")
    # proportions with n become counts: Robertson 2009, 4.0 % and 8.2 % of 3957
    assert d.loc["robertson2009_mortality_30d", ["events", "n"]].tolist() == [158, 3957]
    assert d.loc["robertson2009_mortality_90d", ["events", "n"]].tolist() == [324, 3957]
    assert d.loc["robertson2009_mortality_90d", "horizon"] == 90
    assert d.loc["fong1999_mortality_operative", "horizon"] == 30  # operative -> 30-day
    assert d.loc["lam2013_repeat_hepatectomy_mortality", ["events", "n"]].tolist() == [19, 1610]
    assert d.loc["quenet2021_morbidity_grade3_60d_hipec", "procedure"] == "crs_hipec"
    assert d.loc["quenet2021_morbidity_grade3_60d_crs_alone", "procedure"] == "crs"
    assert d.loc["cameron2006_whipple_morbidity", "outcome"] == "morbidity"
    assert d.loc["dudek2021_morbidity_major", "outcome"] == "major_morbidity"
    # derived priors, entries without n, and rows outside the procedure table are not data
    for eid in (
        "default_hepatectomy_mortality_90d",
        "default_bypass_mortality",
        "mayo2011_mortality_90d",
        "elnakeeb2017_whipple_mortality_early",
        "markos1989_mortality_low_ppofev1",
        "distler2010_stent_mortality",
        "gurusamy2013_goo_with_gj",
    ):
        assert eid not in d.index
    assert len(d) == 20
    # the two Robertson rows are one series; Quenet's arms are two
    assert (
        d.loc["robertson2009_mortality_30d", "study"]
        == d.loc["robertson2009_mortality_90d", "study"]
    )
    labels = d.loc[d.index.str.startswith("quenet2021_morbidity_grade3"), "study"]
    assert labels.nunique() == 2


def test_surgical_nested_30_and_90_day_likelihood(evidence: dict[str, Any]) -> None:
    design = surgical_risk._surgical_design(surgical_risk.surgical_risk_data(evidence))
    obs = list(design["obs"])
    i30, i90 = obs.index("robertson2009_mortality_30d"), obs.index("robertson2009_mortality_90d")
    # 30-day deaths out of n, then deaths on days 31-90 out of the 30-day survivors
    assert (design["obs_kind"][i30], design["obs_y"][i30], design["obs_n"][i30]) == (0, 158, 3957)
    assert (design["obs_kind"][i90], design["obs_y"][i90], design["obs_n"][i90]) == (
        2,
        324 - 158,
        3957 - 158,
    )
    i = obs.index("bmcsurg2021_mortality_90d")  # 90-day only
    assert (design["obs_kind"][i], design["obs_y"][i], design["obs_n"][i]) == (1, 3, 564)


def test_surgical_model_builds_with_named_variables_and_coords(evidence: dict[str, Any]) -> None:
    model = SPECS["surgical_risk"].build(evidence)
    assert model.coords["procedure"] == (
        "hepatectomy",
        "repeat_hepatectomy",
        "lung",
        "whipple",
        "bypass",
        "crs",
        "crs_hipec",
    )
    assert model.coords["outcome"] == ("mortality_30d", "major_morbidity", "morbidity")
    assert model.coords["family"] == ("mortality", "morbidity")
    assert len(model.coords["study"]) == 19 and len(model.coords["obs"]) == 20
    assert len(model.coords["cell"]) == 14
    # 3 + 1 + 1 contrasts: four hepatectomy mortality series, two hepatectomy major
    # morbidity series, two CRS + HIPEC mortality series
    assert model.coords["contrast"] == (
        "hepatectomy:mortality_30d:1",
        "hepatectomy:mortality_30d:2",
        "hepatectomy:mortality_30d:3",
        "hepatectomy:major_morbidity:1",
        "crs_hipec:mortality_30d:1",
    )
    assert {v.name for v in model.free_RVs} == {
        "tau",
        "theta_bar",
        "contrast_u",
        "w",
        "z_new",
        "delta",
    }
    dims = model.named_vars_to_dims
    assert dims["mu"] == ("procedure", "outcome")
    assert dims["p_new_centre"] == ("procedure", "outcome")
    assert dims["p_new_centre_mort90"] == ("procedure",)
    assert dims["theta"] == ("study",)
    assert dims["y"] == ("obs",)


def test_surgical_bypass_prior_is_the_dossier_default(evidence: dict[str, Any]) -> None:
    """logit-normal match of Beta(3.75, 71.25): exact mean digamma(a) - digamma(b)."""
    mean, sd = surgical_risk._beta_logit_moments(3.75, 71.25)
    draws = special.logit(np.random.default_rng(0).beta(3.75, 71.25, 200_000))
    assert mean == pytest.approx(draws.mean(), abs=0.01)
    assert sd == pytest.approx(draws.std(), abs=0.01)
    dt = prior_tree(SPECS["surgical_risk"].build(evidence), draws=2000)
    mu = dt["posterior"]["mu"].sel(procedure="bypass", outcome="mortality_30d").values
    assert mu.mean() == pytest.approx(mean, abs=0.05)
    assert mu.std() == pytest.approx(sd, rel=0.08)


def test_surgical_parameterisation_is_the_plain_random_effects_model(
    evidence: dict[str, Any],
) -> None:
    """Forward draws of the sampled parameterisation have the joint law of
    mu ~ N(m0, s0), theta_s | mu ~ N(mu, tau): theta - mu is N(0, tau), independent of mu."""
    dt = prior_tree(SPECS["surgical_risk"].build(evidence), draws=4000, seed=2)
    post = dt["posterior"]
    tau = post["tau"].sel(family="mortality").values.ravel()
    mu = post["mu"].sel(procedure="hepatectomy", outcome="mortality_30d").values.ravel()
    studies = [s for s in post["theta"].coords["study"].values if ":hepatectomy:mortality" in s]
    assert len(studies) == 4
    m0, s0 = surgical_risk._MU_PRIOR["mortality_30d"]
    assert mu.mean() == pytest.approx(m0, abs=0.08)
    assert mu.std() == pytest.approx(s0, rel=0.05)
    dev = np.stack([post["theta"].sel(study=s).values.ravel() - mu for s in studies])
    standardised = dev / tau
    assert standardised.std(axis=1) == pytest.approx(np.ones(4), abs=0.05)
    assert np.abs(np.corrcoef(np.vstack([mu, dev]))[0, 1:]).max() < 0.05
    assert np.abs(np.corrcoef(standardised)[np.triu_indices(4, 1)]).max() < 0.05


def test_surgical_outputs_and_prior_predictive_checks(evidence: dict[str, Any]) -> None:
    spec = SPECS["surgical_risk"]
    dt = prior_tree(spec.build(evidence))
    out = spec.outputs(dt)
    assert set(out) == SURGICAL_OUTPUTS
    for name, da in out.items():
        assert da.dims == ("chain", "draw") and da.name == name
        assert float(da.min()) >= 0 and float(da.max()) <= 1
    # 90-day mortality exceeds 30-day mortality in every draw (delta >= 0)
    assert bool((out["p_mort90_hepatectomy"] >= out["p_mort30_hepatectomy"]).all())
    checks = spec.checks(dt, evidence)
    assert list(checks.columns) == list(CHECK_COLUMNS)
    assert len(checks) == 20
    assert checks["target"].tolist() == surgical_risk.surgical_risk_data(evidence)["id"].tolist()
    assert checks["passed"].all(), checks[~checks["passed"]]  # prior predictive covers the data


# ----------------------------------------------------------------------------- intraoperative


def test_intraoperative_data(evidence: dict[str, Any]) -> None:
    d = intraoperative.intraoperative_data(evidence)
    series = d["series"].set_index("id")
    assert series.loc[
        "leal2016_unexpected_extrahepatic_disease", ["site", "events", "n"]
    ].tolist() == [
        "crlm",
        5,
        626,
    ]
    assert series.loc["gemenetzis2018_occult_metastases", ["events", "n"]].tolist() == [117, 1423]
    assert "oba2019_radiologically_occult_metastases" not in series.index  # wider definition
    assert "default_unexpected_metastases_whipple" not in series.index
    sens = d["sensitivity"].iloc[0]
    # Allen 2016: 64.4 % (50.1-76.6); the interval is symmetric on the logit scale
    assert sens["logit_estimate"] == pytest.approx(special.logit(0.644))
    half = (special.logit(0.766) - special.logit(0.501)) / 2
    assert sens["logit_se"] == pytest.approx(half / stats.norm.ppf(0.975))


def test_intraoperative_model_outputs_and_checks(evidence: dict[str, Any]) -> None:
    spec = SPECS["intraoperative"]
    model = spec.build(evidence)
    assert model.coords["site"] == ("crlm", "whipple")
    assert {v.name for v in model.free_RVs} == {"logit_m", "log_kappa", "u_new", "logit_sens"}
    assert model.named_vars_to_dims["y"] == ("series",)
    dt = prior_tree(model)
    out = spec.outputs(dt)
    assert set(out) == INTRAOPERATIVE_OUTPUTS
    for name, da in out.items():
        assert da.dims == ("chain", "draw") and da.name == name
    # the new-series probability is the Beta(m kappa, (1 - m) kappa) quantile at u_new
    post = dt["posterior"]
    a = (post["m"] * post["kappa"]).values
    b = ((1 - post["m"]) * post["kappa"]).values
    np.testing.assert_allclose(
        post["p_new_series"].values, special.betaincinv(a, b, post["u_new"].values), rtol=1e-6
    )
    checks = spec.checks(dt, evidence)
    assert list(checks.columns) == list(CHECK_COLUMNS) and len(checks) == 4
    assert checks["passed"].all(), checks[~checks["passed"]]


# ----------------------------------------------------------------------------- tumour kinetics


def test_kinetics_data(evidence: dict[str, Any]) -> None:
    d = tumour_kinetics.kinetics_data(evidence).set_index("population")
    assert list(d.index) == [
        "crlm_overt",
        "crlm_occult",
        "crlm_metachronous",
        "lung",
        "primary_crc",
    ]
    # Finlay 1988: SD = SEM * sqrt(n) (the dossier's ~113 and ~51 days)
    assert d.loc["crlm_overt", "sd"] == pytest.approx(34 * math.sqrt(11))
    assert d.loc["crlm_occult", "sd"] == pytest.approx(12 * math.sqrt(18))
    assert d.loc["crlm_metachronous", ["kind", "n"]].tolist() == ["mean", 361]
    assert d.loc["lung", ["n", "n_assumed"]].tolist() == [21, True]
    assert d.loc["primary_crc", ["median", "q1", "q3"]].tolist() == [211, 112, 404]


def test_kinetics_quartile_covariance_matches_order_statistics() -> None:
    """The asymptotic covariance of normal sample quartiles, against simulation."""
    chol = tumour_kinetics._quartile_chol()
    n = 400
    x = np.random.default_rng(3).standard_normal((4000, n))
    q = np.quantile(x, [0.25, 0.5, 0.75], axis=1).T
    np.testing.assert_allclose(np.cov(q.T) * n, chol @ chol.T, rtol=0.12, atol=0.03)


def test_kinetics_parameterisation_keeps_the_priors(evidence: dict[str, Any]) -> None:
    """loc = anchor + scale(s) * zeta with zeta's prior the image of loc's: forward draws
    give loc ~ Normal(log 100, 1) and s ~ LogNormal(log 0.7, 0.35), independent."""
    dt = prior_tree(SPECS["tumour_kinetics"].build(evidence), draws=4000, seed=5)
    post = dt["posterior"]
    for pop in ("crlm_occult", "crlm_metachronous", "primary_crc"):
        loc = post["loc"].sel(population=pop).values.ravel()
        log_s = np.log(post["s"].sel(population=pop).values.ravel())
        assert loc.mean() == pytest.approx(math.log(100), abs=0.05), pop
        assert loc.std() == pytest.approx(1.0, rel=0.05), pop
        assert log_s.mean() == pytest.approx(math.log(0.7), abs=0.02), pop
        assert log_s.std() == pytest.approx(0.35, rel=0.05), pop
        assert abs(np.corrcoef(loc, log_s)[0, 1]) < 0.05, pop
    # m is the log median: loc minus s^2/2 where loc is a log mean
    m, s, loc = (post[v].sel(population="crlm_occult") for v in ("m", "s", "loc"))
    np.testing.assert_allclose(m, loc - s**2 / 2)


def test_kinetics_model_outputs_and_checks(evidence: dict[str, Any]) -> None:
    spec = SPECS["tumour_kinetics"]
    model = spec.build(evidence)
    assert model.coords["margin"] == ("R0", "R1", "R2")
    assert model.named_vars_to_dims["regrowth_time"] == ("population", "margin")
    assert {v.name for v in model.free_RVs} == {"log_s", "zeta", "z_patient", "log10_lethal_cells"}
    dt = prior_tree(model)
    out = spec.outputs(dt)
    assert set(out) == KINETICS_OUTPUTS
    for name, da in out.items():
        assert da.dims == ("chain", "draw") and da.name == name
        assert float(da.min()) > 0
    post = dt["posterior"]
    # growth rate = ln 2 / DT of a new tumour; regrowth = ln(N_lethal / N_residual) / r
    dt_new = np.exp(post["m"] + post["s"] * post["z_patient"])
    np.testing.assert_allclose(post["growth_rate"], np.log(2) / dt_new, rtol=1e-10)
    r = out["growth_rate_crlm"]
    expected = regrowth_days(r, 10.0**7, 10.0 ** post["log10_lethal_cells"])
    np.testing.assert_allclose(out["regrowth_time_r0_crlm_mo"], expected / DAYS_PER_MONTH)
    checks = spec.checks(dt, evidence)
    assert list(checks.columns) == list(CHECK_COLUMNS) and len(checks) == 10
    assert checks["passed"].all(), checks[~checks["passed"]]


# ----------------------------------------------------------------------------- kinetics functions


def test_regrowth_time_closed_form() -> None:
    r = 0.0081
    assert regrowth_days(r, 1e7, 1e12) == pytest.approx(math.log(1e5) / r)
    # EVIDENCE section 8: DT 86 days, 10^6 / 10^7 / 10^8 -> 10^9 cells: 2.3 / 1.6 / 0.8 years
    years = regrowth_days(math.log(2) / 86, np.array([1e6, 1e7, 1e8]), 1e9) / 365.25
    np.testing.assert_allclose(years, [2.3, 1.6, 0.8], atol=0.06)
    # broadcasting and xarray in, xarray out
    rates = xr.DataArray([[0.01, 0.02]], dims=("chain", "draw"))
    t = regrowth_days(rates, xr.DataArray([1e7, 1e8], dims="margin"), 1e12)
    assert isinstance(t, xr.DataArray) and set(t.dims) == {"chain", "draw", "margin"}
    assert float(t.sel(margin=1)[0, 0]) == pytest.approx(math.log(1e4) / 0.01)


@pytest.mark.parametrize(
    ("r", "residual", "lethal"),
    [
        (0.0, 1e7, 1e12),
        (-0.01, 1e7, 1e12),
        (np.nan, 1e7, 1e12),
        (0.01, 0.0, 1e12),
        (0.01, 1e9, 1e9),
    ],
)
def test_regrowth_time_rejects_bad_input(r: float, residual: float, lethal: float) -> None:
    with pytest.raises(ParameterError):
        regrowth_days(r, residual, lethal)


def test_dfi_posterior_matches_the_conjugate_closed_form() -> None:
    """log r ~ N(a, b); log DFI | r ~ N(log(L / r), sigma): log r | DFI is normal with
    precision 1/b^2 + 1/sigma^2 and mean (a/b^2 + (log L - log DFI)/sigma^2) / precision."""
    a, b, sigma = math.log(math.log(2) / 75), 0.55, 0.25
    log_r = np.random.default_rng(4).normal(a, b, 400_000)
    n_start, n_detect, dfi = 1e7, 1e9, 12.0
    w = tumour_kinetics.dfi_weights(np.exp(log_r), dfi, n_detect, n_start, sigma_log_dfi=sigma)
    assert w.shape == log_r.shape and w.sum() == pytest.approx(1)
    y = math.log(math.log(n_detect / n_start)) - math.log(dfi * DAYS_PER_MONTH)
    prec = 1 / b**2 + 1 / sigma**2
    mean, sd = (a / b**2 + y / sigma**2) / prec, prec**-0.5
    assert np.sum(w * log_r) == pytest.approx(mean, abs=0.005)
    assert math.sqrt(np.sum(w * (log_r - mean) ** 2)) == pytest.approx(sd, rel=0.02)
    resampled = tumour_kinetics.growth_rate_given_dfi(
        np.exp(log_r), dfi, n_detect, n_start, sigma_log_dfi=sigma, rng=5
    )
    assert np.log(resampled).mean() == pytest.approx(mean, abs=0.005)
    assert np.log(resampled).std() == pytest.approx(sd, rel=0.03)


def test_dfi_with_a_sharp_likelihood_recovers_the_deterministic_rate() -> None:
    """With no noise, r = ln(N_detect / N_start) / DFI exactly."""
    r = np.random.default_rng(6).lognormal(math.log(0.01), 0.5, 200_000)
    post = tumour_kinetics.growth_rate_given_dfi(r, 14.0, 1e9, 1e7, sigma_log_dfi=0.01, rng=0)
    assert np.median(post) == pytest.approx(math.log(100) / (14.0 * DAYS_PER_MONTH), rel=0.02)


def test_dfi_conditioning_shifts_the_growth_rate_as_expected() -> None:
    prior = math.log(2) / np.random.default_rng(7).lognormal(math.log(75), 0.55, 50_000)
    short = tumour_kinetics.growth_rate_given_dfi(prior, 6, n_start=1e7, rng=0)
    long = tumour_kinetics.growth_rate_given_dfi(prior, 36, n_start=1e7, rng=0)
    # a short disease-free interval means fast growth, a long one slow growth
    assert np.median(short) > np.median(prior) > np.median(long)
    # a residual burden needs fewer doublings than one cell, so the same DFI means slower growth
    from_cell = tumour_kinetics.growth_rate_given_dfi(prior, 60, n_start=1.0, rng=0)
    from_residual = tumour_kinetics.growth_rate_given_dfi(prior, 60, n_start=1e5, rng=0)
    assert np.median(from_cell) > np.median(from_residual)
    # deterministic given rng; the result keeps shape and dims
    np.testing.assert_array_equal(
        short, tumour_kinetics.growth_rate_given_dfi(prior, 6, n_start=1e7, rng=0)
    )
    da = xr.DataArray(prior.reshape(2, -1), dims=("chain", "draw"))
    out = tumour_kinetics.growth_rate_given_dfi(da, 12, n_start=1e7, rng=0)
    assert isinstance(out, xr.DataArray) and out.dims == ("chain", "draw")
    assert tumour_kinetics.dfi_weights(da, 12, n_start=1e7).dims == ("chain", "draw")


def test_dfi_resampling_needs_an_explicit_rng() -> None:
    prior = math.log(2) / np.random.default_rng(7).lognormal(math.log(75), 0.55, 1_000)
    with pytest.raises(TypeError, match="rng is required"):
        tumour_kinetics.growth_rate_given_dfi(prior, 12, n_start=1e7, rng=None)
    with pytest.raises(TypeError, match="required keyword-only argument: 'rng'"):
        tumour_kinetics.growth_rate_given_dfi(prior, 12, n_start=1e7)  # type: ignore[call-arg]
    np.testing.assert_array_equal(
        tumour_kinetics.growth_rate_given_dfi(prior, 12, n_start=1e7, rng=3),
        tumour_kinetics.growth_rate_given_dfi(prior, 12, n_start=1e7, rng=np.random.default_rng(3)),
    )


def test_dfi_conflicting_with_the_prior_warns() -> None:
    """From one cell, 10^9 cells in 12 months need DT ~ 12 days: far in the prior's tail."""
    prior = math.log(2) / np.random.default_rng(8).lognormal(math.log(75), 0.55, 20_000)
    with pytest.warns(UserWarning, match="effective sample size"):
        tumour_kinetics.growth_rate_given_dfi(prior, 12, n_start=1.0, rng=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dfi_months": 0.0},
        {"dfi_months": -3.0},
        {"dfi_months": 12.0, "n_start": 1e10},
        {"dfi_months": 12.0, "n_start": 0.0},
        {"dfi_months": 12.0, "sigma_log_dfi": 0.0},
    ],
)
def test_dfi_rejects_bad_input(kwargs: dict[str, float]) -> None:
    with pytest.raises(ParameterError):
        tumour_kinetics.growth_rate_given_dfi(np.array([0.01, 0.02]), **kwargs, rng=0)
    with pytest.raises(ParameterError):
        tumour_kinetics.dfi_weights(np.array([0.01, -0.02]), 12.0)


# ============================================================================= slow: calibration, real fits


def covers(draws: np.ndarray, truth: float) -> bool:
    lo, hi = np.quantile(draws, [0.025, 0.975])
    return bool(lo <= truth <= hi)


def as_tree(out: dict[str, xr.DataArray]) -> xr.DataTree:
    return xr.DataTree.from_dict({"posterior": xr.Dataset(out)})


def diagnostics(dt: xr.DataTree, var_names: list[str]) -> pd.DataFrame:
    """Worst R-hat, bulk ESS and tail ESS per variable."""
    rhat = az.rhat(dt, var_names=var_names)
    bulk = az.ess(dt, var_names=var_names)
    tail = az.ess(dt, var_names=var_names, method="tail")
    return pd.DataFrame(
        {
            v: {
                "rhat": float(rhat[v].max()),
                "ess_bulk": float(bulk[v].min()),
                "ess_tail": float(tail[v].min()),
            }
            for v in var_names
        }
    ).T


@pytest.mark.slow
def test_surgical_risk_recovers_known_parameters() -> None:
    """12 mortality series (30-day, 90-day or both) and 12 major-morbidity series from a
    random-effects logit model with known mu, tau and delta."""
    rng = np.random.default_rng(20261127)
    mu_m, tau_m, delta = special.logit(0.025), 0.5, 0.7
    mu_c, tau_c = special.logit(0.18), 0.3
    entries = []
    for i in range(12):
        n = int(rng.integers(300, 3000))
        theta = mu_m + tau_m * rng.standard_normal()
        p30, p90 = special.expit(theta), special.expit(theta + delta)
        y30 = int(rng.binomial(n, p30))
        y90 = y30 + int(rng.binomial(n - y30, (p90 - p30) / (1 - p30)))
        common = {"type": "events", "n": n, "procedure": "hepatectomy"}
        if i < 6 or i >= 9:
            entries.append(
                entry(f"sim{i:02d}_mortality_30d", "mortality_30d", events=y30, **common)
            )
        if i >= 6:
            entries.append(
                entry(f"sim{i:02d}_mortality_90d", "mortality_90d", events=y90, **common)
            )
        n = int(rng.integers(100, 1500))
        p = special.expit(mu_c + tau_c * rng.standard_normal())
        entries.append(
            entry(
                f"sim{i:02d}_morbidity_major",
                "morbidity_major",
                events=int(rng.binomial(n, p)),
                **common | {"n": n},
            )
        )
    ev = simulated("surgical_risk", entries)
    dt, _ = fit(SPECS["surgical_risk"].build(ev), seed=1, draws=500, tune=700, chains=2)
    assert int(dt["sample_stats"]["diverging"].sum()) == 0
    post = dt["posterior"]
    mu = post["mu"].sel(procedure="hepatectomy")
    truth = {
        "mu mortality": (mu.sel(outcome="mortality_30d"), mu_m, 0.35),
        "mu major morbidity": (mu.sel(outcome="major_morbidity"), mu_c, 0.25),
        "tau mortality": (post["tau"].sel(family="mortality"), tau_m, 0.3),
        "tau morbidity": (post["tau"].sel(family="morbidity"), tau_c, 0.2),
    }
    for what, (da, true, tol) in truth.items():
        draws = da.values.ravel()
        assert covers(draws, true), what
        assert abs(draws.mean() - true) < tol, what
    # delta is informed by the three series reporting both horizons (about 110 deaths on
    # days 31-90); in this simulated draw their pooled log odds ratio is 0.59, 2.6 posterior
    # SDs below the truth. The posterior follows that naive estimate and stays within
    # 3 posterior SDs of the truth.
    both = [e for e in entries if e["id"][:5] in {"sim09", "sim10", "sim11"}]
    y30 = sum(e["events"] for e in both if e["quantity"] == "mortality_30d")
    y90 = sum(e["events"] for e in both if e["quantity"] == "mortality_90d")
    n = sum(e["n"] for e in both if e["quantity"] == "mortality_30d")
    naive = special.logit(y90 / n) - special.logit(y30 / n)
    d = post["delta"].values.ravel()
    assert abs(d.mean() - naive) < 0.05
    assert abs(d.mean() - delta) < 3 * d.std()
    # 27 rows with 95 % intervals: about one outside by chance when the model is true
    checks = SPECS["surgical_risk"].checks(dt, ev)
    assert len(checks) == 27 and checks["passed"].mean() >= 0.85


@pytest.mark.slow
def test_intraoperative_recovers_known_parameters() -> None:
    """12 series from a beta-binomial with known mean and concentration."""
    rng = np.random.default_rng(11)
    m, kappa = 0.12, 40.0
    entries = []
    for i in range(12):
        n = int(rng.integers(100, 1000))
        p = rng.beta(m * kappa, (1 - m) * kappa)
        entries.append(
            entry(
                f"sim{i:02d}_unexpected",
                "unexpected_metastases_at_laparotomy",
                type="events",
                events=int(rng.binomial(n, p)),
                n=n,
                procedure="planned pancreatectomy",
            )
        )
    ev = simulated("intraoperative", entries)
    dt, _ = fit(
        SPECS["intraoperative"].build(ev),
        seed=2,
        draws=500,
        tune=700,
        chains=2,
    )
    assert int(dt["sample_stats"]["diverging"].sum()) == 0
    logit_m = post_flat(dt, "logit_m")[:, 0]
    log_kappa = post_flat(dt, "log_kappa")[:, 0]
    assert covers(logit_m, special.logit(m)) and abs(logit_m.mean() - special.logit(m)) < 0.3
    assert covers(log_kappa, math.log(kappa)) and abs(log_kappa.mean() - math.log(kappa)) < 0.6
    assert SPECS["intraoperative"].checks(dt, ev)["passed"].mean() >= 0.85  # 12 rows


@pytest.mark.slow
def test_tumour_kinetics_recovers_known_parameters() -> None:
    """Doubling times simulated from known lognormals, summarised as the papers do (mean and
    SD, mean and SEM, median and IQR)."""
    rng = np.random.default_rng(12)
    truth = {
        "sima_dt": (math.log(80), 0.6, 80),
        "simb_dt": (math.log(150), 0.8, 60),
        "simc_dt": (math.log(60), 0.5, 70),
    }
    x = {k: rng.lognormal(m, s, n) for k, (m, s, n) in truth.items()}
    entries = [
        entry(
            "sima_dt",
            "doubling_time",
            type="mean_sd",
            mean=float(x["sima_dt"].mean()),
            sd=float(x["sima_dt"].std(ddof=1)),
            n=80,
            unit="days",
        ),
        entry(
            "simb_dt",
            "doubling_time",
            type="median_iqr",
            median=float(np.median(x["simb_dt"])),
            q1=float(np.quantile(x["simb_dt"], 0.25)),
            q3=float(np.quantile(x["simb_dt"], 0.75)),
            n=60,
            unit="days",
        ),
        entry(
            "simc_dt",
            "doubling_time",
            type="mean_sd",
            mean=float(x["simc_dt"].mean()),
            se=float(x["simc_dt"].std(ddof=1) / math.sqrt(70)),
            n=70,
            unit="days",
        ),
    ]
    ev = simulated("tumour_kinetics", entries)
    dt, _ = fit(
        SPECS["tumour_kinetics"].build(ev),
        seed=3,
        draws=500,
        tune=700,
        chains=2,
    )
    assert int(dt["sample_stats"]["diverging"].sum()) == 0
    post = dt["posterior"]
    for pop, (m, s, _) in truth.items():
        m_draws = post["m"].sel(population=pop).values.ravel()
        s_draws = post["s"].sel(population=pop).values.ravel()
        assert covers(m_draws, m) and abs(m_draws.mean() - m) < 0.2, pop
        assert covers(s_draws, s) and abs(s_draws.mean() - s) < 0.2, pop
    assert SPECS["tumour_kinetics"].checks(dt, ev)["passed"].all()


@pytest.fixture(scope="module")
def real_fits(evidence: dict[str, Any]) -> dict[str, tuple[xr.DataTree, pm.Model, float]]:
    """The three models fitted to the shipped evidence with PyMC's default NUTS settings
    (1000 tuning steps, 1000 draws, 4 chains, target_accept 0.8), the settings of
    ``decisionmodel.evidence.fit.fit``."""
    fits = {}
    for seed, (name, spec) in enumerate(SPECS.items(), start=100):
        model = spec.build(evidence)
        dt, seconds = fit(model, seed=seed, draws=1000, tune=1000, chains=4)
        fits[name] = (dt, model, seconds)
    return fits


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SPECS))
def test_real_fit_converges_and_reproduces_the_evidence(
    name: str, evidence: dict[str, Any], real_fits: dict[str, Any]
) -> None:
    dt, _, seconds = real_fits[name]
    spec = SPECS[name]
    assert int(dt["sample_stats"]["diverging"].sum()) == 0
    # every posterior variable, free or deterministic (the gate of evidence.fit)
    diag = diagnostics(dt, list(dt["posterior"].data_vars))
    assert (diag["rhat"] <= 1.01).all(), diag
    assert (diag["ess_bulk"] >= 400).all() and (diag["ess_tail"] >= 400).all(), diag
    out = spec.outputs(dt)
    out_diag = diagnostics(as_tree(out), list(out))
    assert (out_diag["rhat"] <= 1.01).all() and (out_diag["ess_bulk"] >= 400).all(), out_diag
    checks = spec.checks(dt, evidence)
    assert checks["passed"].all(), checks[~checks["passed"]]
    steps = float(dt["sample_stats"]["n_steps"].mean())
    print(f"\n{name}: fit {seconds:.1f} s, {steps:.1f} leapfrog steps per draw")
    print(diag.agg(["max", "min"]).round(4))


@pytest.mark.slow
def test_real_fit_values_are_plausible(real_fits: dict[str, Any]) -> None:
    """Against the evidence: Robertson 2009's 90/30-day odds ratio, the dossier's default
    ranges, and the staging-laparoscopy sensitivity as the conjugate normal posterior."""
    sr = real_fits["surgical_risk"][0]["posterior"]
    # delta: log OR of 90- vs 30-day mortality, Robertson 2009 logit(0.082) - logit(0.040)
    assert float(sr["delta"].mean()) == pytest.approx(
        special.logit(324 / 3957) - special.logit(158 / 3957), abs=0.05
    )
    m90 = float(sr["p_pooled_mort90"].sel(procedure="hepatectomy").median())
    assert 0.01 < m90 < 0.08  # dossier default 90-day mortality 3 % (0.8-6.6 %)
    io = real_fits["intraoperative"][0]["posterior"]
    prec = 1 / 1.5**2 + 1 / 0.301501**2
    mean = (special.logit(0.644) / 0.301501**2) / prec
    assert float(io["logit_sens"].mean()) == pytest.approx(mean, abs=0.02)
    assert float(io["logit_sens"].std()) == pytest.approx(prec**-0.5, rel=0.05)
    tk = real_fits["tumour_kinetics"][0]["posterior"]
    median_dt_occult = float(np.exp(tk["m"].sel(population="crlm_occult")).median())
    assert 55 < median_dt_occult < 95  # dossier LogNormal(4.304, 0.548): median about 74 days
