"""Survival evidence models (``decisionmodel.evidence.models.crlm_survival``,
``systemic_survival``, their kernels and the profile tooling).

Fast tests build the models, run prior draws (no MCMC) through ``outputs``, ``checks``
and ``survival_by_profile``, compare the survival kernels with naive references written
here (scipy quadrature and root finding, the closed-form two-exponential convolution), and
check monotonicity properties with hypothesis. The ``slow`` tests run NUTS: recovery of
known cure fraction, recurrence scale and shape, and of the systemic medians and the
resection effect, from aggregate data simulated here, and the
real fits on the shipped evidence (all posterior-predictive checks pass, R-hat <= 1.01,
bulk/tail ESS >= 400, no divergences).

Published numbers (as the project's evidence dossier reports them): de Jong MC et al. Ann Surg
2009;250:440-8 (5-year OS 47.3 %, n = 1669; recurrence 947/1669; median RFS 16.3 months);
Creasy JM et al. Surgery 2018;163:1238-44 (actual 10-year survival 295/1211, cure
250/1211); Fong Y et al. Ann Surg 1999;230:309-21; Ruers T et al. J Natl Cancer Inst
2017;109:djx015 (CLOCC HR 0.58, 0.38-0.88); Milosevic M et al. Colorectal Dis 2020 (PulMiCC
HR 0.93, 0.56-1.56).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from pathlib import Path
from types import MappingProxyType

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytest
import xarray as xr
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize

from decisionmodel.clinical.fong import FONG_CRITERIA
from decisionmodel.evidence import load_all
from decisionmodel.evidence.fit import fit
from decisionmodel.evidence.models import (
    crlm_profile,
    crlm_survival,
    survival_kernels,
    systemic_survival,
)
from decisionmodel.evidence.registry import CHECK_COLUMNS, ModelSpec, load_models
from decisionmodel.exceptions import ProfileError

ROOT = Path(__file__).resolve().parents[2]
PRIORS = ROOT / "priors"
FAST = {"mode": "FAST_COMPILE"}  # prior draws without compiling C/numba code


@pytest.fixture(scope="module")
def evidence():
    return load_all(PRIORS)


@pytest.fixture(scope="module")
def crlm_prior(evidence):
    model = crlm_survival.build_crlm_survival(evidence)
    return pm.sample_prior_predictive(draws=60, model=model, random_seed=7, compile_kwargs=FAST)


@pytest.fixture(scope="module")
def systemic_prior(evidence):
    model = systemic_survival.build_systemic_survival(evidence)
    return pm.sample_prior_predictive(draws=60, model=model, random_seed=7, compile_kwargs=FAST)


def _as_posterior(prior: xr.DataTree) -> xr.DataTree:
    """Prior draws relabelled as a posterior (what pymc.testing.mock_sample does)."""
    return xr.DataTree.from_dict({"posterior": prior["prior"].to_dataset()})


def _point_posterior(**values: float) -> xr.Dataset:
    """A one-draw posterior with chosen crlm parameters (defaults near the real fit)."""
    base = {
        "cure_fraction": 0.22,
        "recurrence_scale": 0.95,
        "recurrence_shape": 1.0,
        "post_recurrence_excess_hazard": 0.35,
        "new_cohort_effect": 0.0,
        "fong_attenuation": 0.37,
        "fong_score_mean": 2.079,
    } | values
    scalar = {k: (("chain", "draw"), np.array([[v]])) for k, v in base.items()}
    fong = np.log([1.6, 1.98, 1.6, 1.9, 1.5])
    cov = np.log([1.86, 2.56, 1.60, 1.9])
    prev = np.array([0.33, 0.03, 0.18, 0.10])
    return xr.Dataset(
        scalar
        | {
            "log_hr_fong_univariable": (("chain", "draw", "fong_criterion"), fong[None, None]),
            "log_hr_covariate": (("chain", "draw", "covariate"), cov[None, None]),
            "prevalence": (("chain", "draw", "covariate"), prev[None, None]),
        },
        coords={
            "chain": [0],
            "draw": [0],
            "fong_criterion": list(FONG_CRITERIA),
            "covariate": list(crlm_survival.COVARIATES),
        },
    )


# ----------------------------------------------------------------------------- kernels vs naive


@pytest.mark.parametrize(
    ("lam", "k", "mu", "hr", "t"),
    [
        (0.9, 1.0, 0.35, 1.0, 5.0),
        (0.5, 0.7, 0.2, 1.4, 10.0),
        (1.2, 1.5, 0.5, 0.6, 3.0),
        (2.0, 0.8, 0.3, 5.0, 20.0),
        (0.3, 1.2, 0.1, 1.0, 0.2),
    ],
)
def test_noncured_alive_matches_quadrature(lam, k, mu, hr, t):
    """U(t) = P(T_r > t) + int_0^t f_r(s) exp(-hr mu (t - s)) ds, integrated by scipy."""

    def density(s):
        return hr * k * lam**k * s ** (k - 1) * math.exp(-hr * (lam * s) ** k)

    conv, _ = integrate.quad(lambda s: density(s) * math.exp(-hr * mu * (t - s)), 0, t, limit=200)
    naive = math.exp(-hr * (lam * t) ** k) + conv
    got = survival_kernels._noncured_alive(np, np.array([t]), lam, k, mu, hr)[0]
    assert got == pytest.approx(naive, abs=2e-6)


def test_noncured_alive_two_exponentials_closed_form():
    # exponential recurrence (rate a) then exponential death (rate b): hypoexponential
    a, b = 0.9, 0.35
    t = np.linspace(0.1, 15, 30)
    closed = (b * np.exp(-a * t) - a * np.exp(-b * t)) / (b - a)
    np.testing.assert_allclose(
        survival_kernels._noncured_alive(np, t, a, 1.0, b, 1.0), closed, atol=1e-9
    )


@pytest.mark.parametrize(
    ("pi", "lam", "k", "hr"),
    [(0.22, 1.0, 1.0, 1.0), (0.3, 0.5, 0.7, 1.3), (0.1, 2.0, 1.5, 0.8), (0.25, 0.9, 1.1, 1.2)],
)
def test_medians_match_root_finding(pi, lam, k, hr):
    rfs = optimize.brentq(lambda t: survival_kernels._rfs(np, t, pi, lam, k, hr) - 0.5, 1e-6, 100)
    ttr = optimize.brentq(lambda t: survival_kernels._ttr(np, t, pi, lam, k, hr) - 0.5, 1e-6, 100)
    assert survival_kernels._rfs_median(np, pi, lam, k, hr) == pytest.approx(rfs, rel=1e-7)
    assert survival_kernels._ttr_median(np, pi, lam, k, hr) == pytest.approx(ttr, rel=1e-10)


def test_background_constants_match_the_tree():
    tree = yaml.safe_load((ROOT / "trees" / "crlm.yaml").read_text())["parameters"]
    assert survival_kernels.GOMPERTZ_A == tree["gomp_a"]["value"]
    assert survival_kernels.GOMPERTZ_B == tree["gomp_b"]["value"]
    assert survival_kernels.AGE_REF == tree["age_ref"]["value"]


def test_pytensor_and_numpy_kernels_agree():
    import pytensor.tensor as pt

    args = (0.22, 0.9, 1.1, 0.35)
    hr = np.array([0.8, 1.0, 1.5])
    t = np.array([2.0, 5.0, 10.0])
    sym = [pt.dscalar(n) for n in ("pi", "lam", "k", "mu")]
    fn = pytensor.function(sym, survival_kernels._os(pt, t, *sym, hr), mode="FAST_COMPILE")
    np.testing.assert_allclose(fn(*args), survival_kernels._os(np, t, *args, hr), rtol=1e-12)


# ----------------------------------------------------------------------------- data extraction


def test_crlm_data_reads_the_published_numbers(evidence):
    d = crlm_survival.crlm_data(evidence)
    by_id = {t.id: t for t in d.proportions}
    # de Jong 2009: full cohort size (the dossier's Beta(790, 879))
    assert (by_id["dejong2009_os_5y"].x, by_id["dejong2009_os_5y"].n) == (789, 1669)
    assert by_id["dejong2009_os_5y"].observed == 0.473
    # Fong 1999: the dossier's n_eff = n/2 for actuarial values
    assert by_id["fong1999_os_5y"].n == 500
    assert by_id["fong1999_crs3_os_5y"].score == 3
    # Creasy 2018: actual counts
    assert (by_id["creasy2018_cure_observed"].x, by_id["creasy2018_cure_observed"].n) == (250, 1211)
    # Vigano 2014: size from the 95 % interval 16.5-23.5 %, p(1-p)/se^2 ~ 502
    assert by_id["vigano2014_cure_fraction"].n == pytest.approx(502, abs=1)
    med = {t.id: t for t in d.medians}
    assert med["dejong2009_median_rfs"].sigma == pytest.approx(1 / math.sqrt(947))
    assert med["angelsen2015_median_os_after_recurrence"].sigma == 0.12
    # log HR priors from the 95 % intervals: Liu 2015 R1 1.60 (1.46-1.76)
    assert d.log_hr_mean["r1"] == pytest.approx(math.log(1.6))
    assert d.log_hr_sd["r1"] == pytest.approx(math.log(1.76 / 1.46) / 3.92, rel=1e-3)
    assert d.log_hr_sd["dfi_lt_12m"] == 0.2  # the dossier's assumed sdlog (no interval)
    assert d.fong_score_counts == (52, 262, 350, 243, 80, 14)
    assert sum(d.fong_score_counts) == 1001


def test_systemic_data_reads_the_published_numbers(evidence):
    d = systemic_survival.systemic_data(evidence)
    assert [t.observed for t in d.arms] == [30.0, 29.0, 28.7, 25.0, 29.8, 25.8, 40.5]
    assert d.m1c[0].observed == 16.3
    hr = {h.id: h for h in d.hazard_ratios}
    assert hr["ruers2017_clocc_hr_os"].log_mean == pytest.approx(math.log(0.58))
    assert hr["ruers2017_clocc_hr_os"].log_se == pytest.approx(0.214, abs=1e-3)
    assert hr["milosevic2020_pulmicc_hr_os"].log_se == pytest.approx(0.261, abs=1e-3)


def test_years_convert_to_months():
    assert survival_kernels._months({"value": 3.5, "unit": "years"}) == 42.0


# ----------------------------------------------------------------------------- models build


def test_crlm_model_has_named_variables_with_dims(evidence):
    model = crlm_survival.build_crlm_survival(evidence)
    names = set(model.named_vars)
    for v in (
        "cure_fraction",
        "recurrence_scale",
        "recurrence_shape",
        "cohort_effect",
        "log_hr_fong",
        "log_hr_covariate",
        "prevalence",
        "proportion_obs",
        "log_median_obs",
    ):
        assert v in names
    dims = model.named_vars_to_dims
    assert dims["cohort_effect"] == ("cohort",)
    assert dims["log_hr_fong"] == ("fong_criterion",)
    assert dims["proportion_obs"] == ("proportion_target",)
    assert model.coords["cohort"] == crlm_survival.COHORTS
    assert "dejong2009_os_5y" in model.coords["proportion_target"]
    assert model.coords["median_target"][0] == "dejong2009_median_rfs"


def test_systemic_model_has_named_variables_with_dims(evidence):
    model = systemic_survival.build_systemic_survival(evidence)
    dims = model.named_vars_to_dims
    assert dims["log_median_obs"] == ("systemic_arm",)
    assert dims["median_model"] == ("median_target",)
    assert dims["log_hr_obs"] == ("hr_target",)
    assert dims["log_hr_setting"] == ("rct_setting",)
    assert "hr_resection_vs_systemic" in model.named_vars
    assert model.coords["rct_setting"] == ("liver", "lung")


def test_the_former_module_path_reexports_the_models():
    """``decisionmodel.evidence.models_survival`` (an import path kept for callers) holds the
    very objects of the model modules, and no ``SPECS`` (the registry reads the modules)."""
    from decisionmodel.evidence import models_survival as former

    for name in former.__all__:
        if name == "SAMPLER_SETTINGS":
            continue
        here = [
            getattr(m, name)
            for m in (crlm_survival, crlm_profile, systemic_survival, survival_kernels)
            if hasattr(m, name)
        ]
        assert here and all(obj is getattr(former, name) for obj in here), name
    assert former.SAMPLER_SETTINGS == {
        "crlm_survival": crlm_survival.SAMPLER_SETTINGS,
        "systemic_survival": systemic_survival.SAMPLER_SETTINGS,
    }
    assert not hasattr(former, "SPECS")
    assert former.FONG_CRITERIA is FONG_CRITERIA and former.ProfileError is ProfileError


def test_specs_follow_the_registry_contract():
    specs = [*crlm_survival.SPECS, *systemic_survival.SPECS]
    names = [s.name for s in specs]
    assert names == ["crlm_survival", "systemic_survival"]
    assert all(isinstance(s, ModelSpec) for s in specs)
    assert set(specs[0].files) == {"crlm_survival", "systemic_survival"}
    registered = load_models([crlm_survival.__name__, systemic_survival.__name__])
    assert list(registered) == names


# ----------------------------------------------------------------------------- prior draws through outputs/checks


TREE_NAMES_CRLM = {"pi_cure", "lam_recurrence", "median_os_post_recurrence_mo", "hr_r1"}
TREE_NAMES_SYSTEMIC = {"median_os_systemic_mo", "median_os_m1c_mo"}


def test_crlm_outputs_on_prior_draws(crlm_prior):
    dt = _as_posterior(crlm_prior)
    out = crlm_survival.crlm_outputs(dt)
    assert TREE_NAMES_CRLM <= set(out)
    assert {"hr_ras", "hr_braf", "hr_fong_point", "hr_extrahepatic"} <= set(out)
    assert {f"hr_fong_{c}" for c in FONG_CRITERIA} <= set(out)
    tree = yaml.safe_load((ROOT / "trees" / "crlm.yaml").read_text())["parameters"]
    for name, da in out.items():
        assert da.dims == ("chain", "draw"), name
        assert da.shape == (1, 60)
        assert np.all(np.isfinite(da.values)), name
        if da.attrs["tree_parameter"]:
            assert da.attrs["tree_parameter"] in tree
    assert np.all((out["pi_cure"] > 0) & (out["pi_cure"] < 1))
    # hr_r1 is exp of the R1 log-HR draw
    np.testing.assert_allclose(
        out["hr_r1"].values,
        np.exp(dt["posterior"]["log_hr_covariate"].sel(covariate="r1").values),
    )


def test_outputs_accept_mock_sample(evidence):
    model = crlm_survival.build_crlm_survival(evidence)
    from pymc.testing import mock_sample

    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        dt = mock_sample(draws=5, chains=2, model=model, random_seed=3)
    out = crlm_survival.crlm_outputs(dt)
    assert out["pi_cure"].shape == (2, 5)
    checks = crlm_survival.crlm_checks(dt, evidence)
    assert list(checks.columns) == list(CHECK_COLUMNS)


def test_crlm_checks_frame(crlm_prior, evidence):
    checks = crlm_survival.crlm_checks(_as_posterior(crlm_prior), evidence)
    assert list(checks.columns) == list(CHECK_COLUMNS)
    assert checks["target"].tolist()[:2] == ["fong1999_os_5y", "fong1999_os_10y"]
    assert len(checks) == len(crlm_survival.crlm_data(evidence).proportions) + 3
    assert checks["passed"].dtype == bool
    assert (checks["lower"] <= checks["upper"]).all()
    row = checks.set_index("target").loc["dejong2009_os_5y"]
    assert row["observed"] == 0.473 and row["source"] == "de Jong 2009"
    # wide prior draws: the published numbers sit inside the prior predictive
    assert checks["passed"].all()


def test_crlm_predictions_use_the_model_graph(evidence, crlm_prior):
    """The numpy recomputation equals the pytensor likelihood's p at each draw."""
    model = crlm_survival.build_crlm_survival(evidence)
    data = crlm_survival.crlm_data(evidence)
    prior = crlm_prior["prior"].to_dataset()
    p_np, _ = crlm_survival.crlm_predictions(prior, data)
    p_rv = model["proportion_obs"].owner.inputs[-1]  # the clipped p, in terms of the RVs
    (p_var,) = model.replace_rvs_by_values([p_rv])
    fn = model.compile_fn(
        p_var,
        inputs=model.value_vars,
        mode="FAST_COMPILE",
        point_fn=False,
        on_unused_input="ignore",
    )
    point = {}
    for rv in model.free_RVs:
        x = prior[rv.name].isel(chain=0, draw=3).values
        tr = model.rvs_to_transforms[rv]
        point[model.rvs_to_values[rv].name] = (
            np.asarray(tr.forward(pytensor.tensor.as_tensor_variable(x), *rv.owner.inputs).eval())
            if tr is not None
            else x
        )
    got = fn(*[point[v.name] for v in model.value_vars])
    np.testing.assert_allclose(np.clip(p_np[0, 3], 1e-12, 1 - 1e-12), got, rtol=1e-9)


def test_systemic_outputs_flag_confounding(systemic_prior):
    out = systemic_survival.systemic_outputs(_as_posterior(systemic_prior))
    assert TREE_NAMES_SYSTEMIC <= set(out)
    hr = out["hr_resection_vs_systemic"]
    assert hr.dims == ("chain", "draw")
    assert hr.attrs["confounded"] is True
    assert "CLOCC" in hr.attrs["caution"] and "PulMiCC" in hr.attrs["caution"]
    assert "confounded" in systemic_survival.build_systemic_survival.__doc__
    for name in TREE_NAMES_SYSTEMIC:
        assert out[name].attrs["tree_parameter"] == name
        assert out[name].attrs.get("confounded") is None


def test_resection_effect_is_a_parameter_not_a_difference_of_arms(evidence):
    """The HR depends on the randomised HRs only, not on the systemic medians."""
    model = systemic_survival.build_systemic_survival(evidence)
    from pytensor.graph.traversal import ancestors

    hr = model["hr_resection_vs_systemic"]
    anc = {v.name for v in ancestors([hr]) if v.name}
    assert "setting_z" in anc and "indirectness_z" in anc
    assert not {"log_median_allcomer", "liver_limited_effect", "log_median_m1c"} & anc


def test_systemic_checks_frame(systemic_prior, evidence):
    checks = systemic_survival.systemic_checks(_as_posterior(systemic_prior), evidence)
    assert list(checks.columns) == list(CHECK_COLUMNS)
    assert set(checks["target"]) >= {
        "ruers2017_clocc_hr_os",
        "milosevic2020_pulmicc_hr_os",
        "ruers2017_clocc_median_os_chemo_only",
    }


# ----------------------------------------------------------------------------- profiles


def test_survival_by_profile_shape_and_attrs(crlm_prior):
    s = crlm_profile.survival_by_profile(
        _as_posterior(crlm_prior),
        {"fong": 3, "ras": "mutant", "braf": "wild", "margin": "R1", "extrahepatic": False},
        [0.0, 1.0, 5.0, 10.0],
    )
    assert s.dims == ("chain", "draw", "time")
    assert s.shape == (1, 60, 4)
    np.testing.assert_array_equal(s.sel(time=0.0).values, 1.0)
    assert np.all(np.diff(s.values, axis=-1) <= 1e-12)  # decreasing in time
    assert s.attrs["kind"] == "os"


def test_empty_profile_is_the_pooled_baseline():
    post = _point_posterior()
    t = [5.0]
    pooled = crlm_profile.survival_by_profile(post, {}, t)
    mix = crlm_profile.survival_by_profile(post, {"fong": None, "ras": None}, t)
    xr.testing.assert_allclose(pooled.drop_attrs(), mix.drop_attrs())
    assert crlm_profile.profile_log_hr(post, {}).item() == 0.0


def test_profile_log_hr_is_centred_at_the_mix():
    post = _point_posterior()
    # R1: log 1.6 * (1 - 0.18); R0: -log 1.6 * 0.18
    assert crlm_profile.profile_log_hr(post, {"margin": "R1"}).item() == pytest.approx(
        math.log(1.6) * 0.82
    )
    assert crlm_profile.profile_log_hr(post, {"margin": "R0"}).item() == pytest.approx(
        -math.log(1.6) * 0.18
    )
    beta_bar = np.mean(np.log([1.6, 1.98, 1.6, 1.9, 1.5]))
    assert crlm_profile.profile_log_hr(post, {"fong": 4}).item() == pytest.approx(
        0.37 * beta_bar * (4 - 2.079)
    )
    named = crlm_profile.profile_log_hr(post, {"fong": ["node_positive", "cea_gt_200"]})
    assert named.item() == pytest.approx(0.37 * (math.log(1.6) + math.log(1.9) - beta_bar * 2.079))


def test_profile_cure_uses_the_cloglog_link():
    post = _point_posterior()
    big_t = [60.0]  # after every non-cured patient has died: net survival = cure fraction
    hr = math.exp(crlm_profile.profile_log_hr(post, {"braf": "mutant"}).item())
    s = crlm_profile.survival_by_profile(post, {"braf": "mutant"}, big_t, kind="disease")
    assert s.item() == pytest.approx(0.22**hr, rel=1e-6)


def test_profile_average_is_close_to_the_pooled_curve():
    """Jensen gap between the average patient and the mix of profiles stays small."""
    post = _point_posterior()
    t = [2.0, 5.0, 10.0]
    counts = np.array([52, 262, 350, 243, 80, 14]) / 1001
    prev = dict(zip(crlm_survival.COVARIATES, [0.33, 0.03, 0.18, 0.10], strict=True))
    acc = np.zeros(3)
    for s in range(6):
        for ras in (0, 1):
            for braf in (0, 1):
                for r1 in (0, 1):
                    for ehd in (0, 1):
                        w = counts[s]
                        for cov, x in zip(
                            crlm_survival.COVARIATES, (ras, braf, r1, ehd), strict=True
                        ):
                            w *= prev[cov] if x else 1 - prev[cov]
                        prof = {
                            "fong": s,
                            "ras": bool(ras),
                            "braf": bool(braf),
                            "margin": "R1" if r1 else "R0",
                            "extrahepatic": bool(ehd),
                        }
                        acc += w * crlm_profile.survival_by_profile(post, prof, t).values.ravel()
    pooled = crlm_profile.survival_by_profile(post, {}, t).values.ravel()
    assert np.all(np.abs(acc - pooled) < 0.05)


@pytest.mark.parametrize(
    ("profile", "match"),
    [
        ({"age": 60}, "unknown key"),
        ({"fong": 6}, "outside"),
        ({"fong": True}, "score"),
        ({"fong": ["nodes"]}, "criteria"),
        ({"ras": "maybe"}, "invalid value"),
        ({"ras": "R1"}, "invalid value"),
        ({"margin": "R2"}, "invalid value"),
        ({"fong": "node_positive"}, "criteria"),
    ],
)
def test_invalid_profiles_raise(profile, match):
    with pytest.raises(ProfileError, match=match):
        crlm_profile.profile_log_hr(_point_posterior(), profile)


def test_invalid_times_and_kind():
    post = _point_posterior()
    with pytest.raises(ValueError, match="times"):
        crlm_profile.survival_by_profile(post, {}, [-1.0])
    with pytest.raises(ValueError, match="kind"):
        crlm_profile.survival_by_profile(post, {}, [1.0], kind="pfs")


def test_kinds_are_ordered():
    """RFS <= TTR (deaths also end RFS) and OS <= disease-specific survival."""
    post = _point_posterior()
    t = [1.0, 3.0, 8.0]
    k = {
        kind: crlm_profile.survival_by_profile(post, {"fong": 2}, t, kind=kind).values
        for kind in ("os", "disease", "rfs", "ttr")
    }
    assert np.all(k["rfs"] <= k["ttr"])
    assert np.all(k["os"] <= k["disease"])
    assert np.all(k["rfs"] <= k["os"])
    older = crlm_profile.survival_by_profile(post, {"fong": 2}, t, age=75.0).values
    assert np.all(older < k["os"])


_binary = st.sampled_from([None, True, False])
_profiles = st.fixed_dictionaries(
    {
        "ras": st.sampled_from([None, "wild", "mutant"]),
        "margin": st.sampled_from([None, "R0", "R1"]),
        "extrahepatic": _binary,
    }
)


@settings(max_examples=25, deadline=None)
@given(profile=_profiles, score=st.integers(0, 4), kind=st.sampled_from(["os", "rfs", "disease"]))
def test_higher_fong_score_never_increases_survival(crlm_prior, profile, score, kind):
    dt = _as_posterior(crlm_prior)
    t = [0.5, 2.0, 5.0, 10.0]
    low = crlm_profile.survival_by_profile(dt, profile | {"fong": score}, t, kind=kind).values
    high = crlm_profile.survival_by_profile(dt, profile | {"fong": score + 1}, t, kind=kind).values
    assert np.all(high <= low + 1e-12)


@settings(max_examples=25, deadline=None)
@given(profile=_profiles, score=st.sampled_from([None, 0, 2, 5]))
def test_braf_mutant_below_wild_type(crlm_prior, profile, score):
    dt = _as_posterior(crlm_prior)
    t = [1.0, 5.0, 10.0]
    base = profile | {"fong": score}
    wild = crlm_profile.survival_by_profile(dt, base | {"braf": "wild"}, t).values
    mutant = crlm_profile.survival_by_profile(dt, base | {"braf": "V600E"}, t).values
    assert np.all(mutant <= wild + 1e-12)
    assert np.all(mutant < wild)  # strictly, at every draw and time > 0


@settings(max_examples=20, deadline=None)
@given(
    hr=st.floats(0.2, 8.0),
    factor=st.floats(1.0, 3.0),
    k=st.floats(0.5, 2.0),
    t=st.floats(0.1, 25.0),
)
def test_survival_decreases_with_the_hazard_multiplier(hr, factor, k, t):
    args = (np.array([t]), 0.22, 0.9, k, 0.35)
    assert (
        survival_kernels._os(np, *args, hr * factor)[0]
        <= survival_kernels._os(np, *args, hr)[0] + 1e-12
    )


# ----------------------------------------------------------------------------- slow: MCMC


def _fit(model: pm.Model, settings_: dict, seed: int) -> xr.DataTree:
    """PyMC's own NUTS on a model built here (for simulated evidence, which fit() does
    not take as a registered model's input)."""
    with model:
        return pm.sample(
            **settings_,
            cores=1,
            nuts_sampler="pymc",
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
        )


def _diagnostics(dt: xr.DataTree, model: pm.Model) -> pd.DataFrame:
    free = [rv.name for rv in model.free_RVs]
    rhat = az.rhat(dt, var_names=free)
    bulk = az.ess(dt, var_names=free)
    tail = az.ess(dt, var_names=free, method="tail")
    return pd.DataFrame(
        {
            "rhat": {v: float(rhat[v].max()) for v in free},
            "ess_bulk": {v: float(bulk[v].min()) for v in free},
            "ess_tail": {v: float(tail[v].min()) for v in free},
        }
    )


def _assert_converged(dt: xr.DataTree, model: pm.Model) -> None:
    diag = _diagnostics(dt, model)
    assert (diag["rhat"] <= 1.01).all(), diag
    assert (diag["ess_bulk"] >= 400).all(), diag
    assert (diag["ess_tail"] >= 400).all(), diag
    assert int(dt["sample_stats"]["diverging"].sum()) == 0


@pytest.fixture(scope="module")
def crlm_fit(evidence):
    # through fit(): the default sampler with the model's own settings, and its gate
    model = crlm_survival.build_crlm_survival(evidence)
    start = time.perf_counter()
    dt = fit("crlm_survival", evidence, rng=20261, cache=False)
    return model, dt, time.perf_counter() - start


@pytest.fixture(scope="module")
def systemic_fit(evidence):
    model = systemic_survival.build_systemic_survival(evidence)
    start = time.perf_counter()
    dt = fit("systemic_survival", evidence, rng=20262, cache=False)
    return model, dt, time.perf_counter() - start


@pytest.mark.slow
def test_crlm_real_fit(crlm_fit, evidence):
    model, dt, _ = crlm_fit
    _assert_converged(dt, model)
    checks = crlm_survival.crlm_checks(dt, evidence)
    assert checks["passed"].all(), checks[~checks["passed"]]
    out = crlm_survival.crlm_outputs(dt)
    med = {k: float(v.median()) for k, v in out.items()}
    assert 0.15 < med["pi_cure"] < 0.30  # Creasy 2018 observed cure 20.6 %
    assert 0.35 < med["os_5y_resected"] < 0.5  # between Fong 37 % and de Jong 47.3 %
    assert 1.4 < med["hr_r1"] < 1.8
    # Fong strata ~4x from score 0 to 5 (Fong 1999): per point well below the
    # univariable criteria (~1.7)
    assert 1.15 < med["hr_fong_point"] < 1.55
    # profile monotonicity on posterior draws
    t = [2.0, 5.0, 10.0]
    curves = [crlm_profile.survival_by_profile(dt, {"fong": s}, t).values for s in range(6)]
    assert all(np.all(b <= a + 1e-12) for a, b in itertools.pairwise(curves))


@pytest.mark.slow
def test_systemic_real_fit(systemic_fit, evidence):
    model, dt, _ = systemic_fit
    _assert_converged(dt, model)
    checks = systemic_survival.systemic_checks(dt, evidence)
    assert checks["passed"].all(), checks[~checks["passed"]]
    out = systemic_survival.systemic_outputs(dt)
    hr = out["hr_resection_vs_systemic"]
    assert 0.5 < float(hr.median()) < 0.85  # pulled from CLOCC 0.58 towards PulMiCC 0.93
    lo, hi = np.quantile(hr.values, [0.025, 0.975])
    assert lo < 0.58 < hi and hi > 0.93  # wider than either trial alone suggests
    assert 25 < float(out["median_os_systemic_mo"].median()) < 50
    assert 14 < float(out["median_os_m1c_mo"].median()) < 19


def _simulated_crlm_evidence(evidence, truth: dict, seed: int):
    """Published numbers replaced by draws from the model at known parameters."""
    rng = np.random.default_rng(seed)
    data = crlm_survival.crlm_data(evidence)
    u = rng.normal(0.0, truth["tau"], len(crlm_survival.COHORTS))
    u -= u.mean()  # the model's typical cohort is the average of the cohorts
    reach = np.array([0.75, 0.9])  # non-cured who recurred within follow-up
    p, m = crlm_survival._crlm_predictions(
        np,
        data,
        truth["pi"],
        truth["lam"],
        truth["k"],
        truth["mu"],
        u,
        truth["fong_point"],
        reach,
    )
    crlm = {i: dict(e) for i, e in evidence["crlm_survival"].entries.items()}
    systemic = {i: dict(e) for i, e in evidence["systemic_survival"].entries.items()}
    for target, prob in zip(data.proportions, p, strict=True):
        e = crlm[target.id]
        x = int(rng.binomial(target.n, prob))
        if e["type"] == "events":
            e["events"] = round(x / target.n * e["n"])
        else:
            e["value"] = x / target.n
            if e.get("lower") is not None:  # keep the interval width around the new value
                half = (e["upper"] - e["lower"]) / 2
                e["lower"], e["upper"] = e["value"] - half, e["value"] + half
    for target, med in zip(data.medians, m, strict=True):
        entries = crlm if target.area == "crlm_survival" else systemic
        entries[target.id]["value"] = float(np.exp(np.log(med) + target.sigma * rng.normal()))
    out = dict(evidence)
    for area, entries in (("crlm_survival", crlm), ("systemic_survival", systemic)):
        frozen = {i: MappingProxyType(e) for i, e in entries.items()}
        out[area] = dataclasses.replace(evidence[area], entries=MappingProxyType(frozen))
    return out


@pytest.mark.slow
def test_crlm_recovers_known_cure_and_recurrence(evidence):
    """Calibration: fit aggregate data simulated from known pi, lambda, k."""
    truth = {"pi": 0.28, "lam": 0.7, "k": 1.3, "mu": 0.3, "tau": 0.1, "fong_point": 0.2}
    sim = _simulated_crlm_evidence(evidence, truth, seed=5)
    model = crlm_survival.build_crlm_survival(sim)
    dt = _fit(
        model,
        crlm_survival.SAMPLER_SETTINGS | {"draws": 500, "tune": 700, "chains": 2},
        seed=9,
    )
    post = dt["posterior"]
    for name, key in (
        ("cure_fraction", "pi"),
        ("recurrence_scale", "lam"),
        ("recurrence_shape", "k"),
        ("post_recurrence_excess_hazard", "mu"),
    ):
        lo, hi = np.quantile(post[name].values, [0.025, 0.975])
        assert lo < truth[key] < hi, (name, lo, hi)
    lo, hi = np.quantile(post["cure_fraction"].values, [0.025, 0.975])
    assert hi - lo < 0.15  # informative, unlike the prior (about 0.06-0.6)
    assert int(dt["sample_stats"]["diverging"].sum()) == 0


def _simulated_systemic_evidence(evidence, truth: dict, seed: int):
    """The systemic medians and randomised hazard ratios replaced by draws from the model
    at known parameters (same sizes and standard errors as the published numbers)."""
    rng = np.random.default_rng(seed)
    data = systemic_survival.systemic_data(evidence)
    entries = {i: dict(e) for i, e in evidence["systemic_survival"].entries.items()}
    for target in data.arms:
        mean = truth["nu"] + (truth["delta"] if target.kind == "liver_limited" else 0.0)
        log_m = mean + truth["tau_s"] * rng.normal() + target.sigma * rng.normal()
        entries[target.id].update(value=float(np.exp(log_m)), unit="months")
    (m1c,) = data.m1c
    entries[m1c.id].update(
        value=float(np.exp(truth["log_m1c"] + m1c.sigma * rng.normal())), unit="months"
    )
    for h in data.hazard_ratios:
        theta = truth["psi"] + truth["tau_h"] * rng.normal()
        obs = theta + h.log_se * rng.normal()
        entries[h.id].update(
            value=float(np.exp(obs)),
            lower=float(np.exp(obs - 1.959964 * h.log_se)),
            upper=float(np.exp(obs + 1.959964 * h.log_se)),
        )
    frozen = {i: MappingProxyType(e) for i, e in entries.items()}
    out = dict(evidence)
    out["systemic_survival"] = dataclasses.replace(
        evidence["systemic_survival"], entries=MappingProxyType(frozen)
    )
    return out


@pytest.mark.slow
def test_systemic_recovers_known_medians_and_resection_effect(evidence):
    """Calibration: fit medians and hazard ratios simulated from known parameters."""
    truth = {
        "nu": math.log(26.0),
        "delta": math.log(1.4),
        "tau_s": 0.05,
        "log_m1c": math.log(15.0),
        "psi": math.log(0.7),
        "tau_h": 0.15,
    }
    sim = _simulated_systemic_evidence(evidence, truth, seed=3)
    model = systemic_survival.build_systemic_survival(sim)
    dt = _fit(model, {"draws": 500, "tune": 700, "chains": 2, "target_accept": 0.9}, seed=4)
    post = dt["posterior"]
    for name, key in (
        ("log_median_allcomer", "nu"),
        ("liver_limited_effect", "delta"),
        ("log_median_m1c", "log_m1c"),
    ):
        lo, hi = np.quantile(post[name].values, [0.025, 0.975])
        assert lo < truth[key] < hi, (name, lo, hi, truth[key])
    lo, hi = np.quantile(post["log_median_allcomer"].values, [0.025, 0.975])
    assert hi - lo < 0.25  # six large trial arms pin it (prior 95 % width: 1.96)
    lo, hi = np.quantile(post["local_treatment_mean"].values, [0.025, 0.975])
    assert lo < truth["psi"] < hi
    assert int(dt["sample_stats"]["diverging"].sum()) == 0


def test_partly_stated_fong_criteria_keep_the_others_at_their_prevalence(crlm_prior):
    post = crlm_prior["prior"]
    # nothing stated = the pooled cohort
    np.testing.assert_allclose(
        crlm_profile.profile_log_hr(post, {"fong": {}}).values, 0.0, atol=1e-12
    )
    # all five stated = the list of the criteria met
    full = {c: c in ("node_positive", "cea_gt_200") for c in FONG_CRITERIA}
    np.testing.assert_allclose(
        crlm_profile.profile_log_hr(post, {"fong": full}).values,
        crlm_profile.profile_log_hr(post, {"fong": ["node_positive", "cea_gt_200"]}).values,
    )
    # one criterion stated: met > unknown (0) > not met, by alpha * beta_j * (1 - s/5) etc.
    met = crlm_profile.profile_log_hr(post, {"fong": {"dfi_lt_12m": True}}).values
    not_met = crlm_profile.profile_log_hr(post, {"fong": {"dfi_lt_12m": False}}).values
    p = post["prior"] if "prior" in post else post
    alpha = p["fong_attenuation"].values
    b = p["log_hr_fong_univariable"].sel(fong_criterion="dfi_lt_12m").values
    share = p["fong_score_mean"].values / 5
    np.testing.assert_allclose(met, alpha * b * (1 - share), rtol=1e-10)
    np.testing.assert_allclose(not_met, -alpha * b * share, rtol=1e-10)
    with pytest.raises(ProfileError, match="True/False"):
        crlm_profile.profile_log_hr(post, {"fong": {"dfi_lt_12m": "yes"}})
    with pytest.raises(ProfileError, match="True/False"):
        crlm_profile.profile_log_hr(post, {"fong": {"no_such": True}})
