"""Study designs for EVSI: simulators against closed-form moments, likelihoods against scipy,
conjugate posteriors and prior effective sample sizes against their formulas, and input errors.

Monte Carlo checks use a fixed seed and a tolerance of 4 standard errors of the simulated
mean (a false failure has probability ~6e-5 per check)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from decisionmodel.exceptions import VOIInputError
from decisionmodel.voi.studies import (
    StudyDesign,
    binary,
    binary_two_arm,
    custom_study,
    get_study,
    normal_mean,
    survival_two_arm,
)

Z = 4.0  # tolerance in standard errors of a simulated mean


def _const(n_draws: int, **cols: float) -> pd.DataFrame:
    return pd.DataFrame({k: np.full(n_draws, v) for k, v in cols.items()})


# --------------------------------------------------------------------------- binomial


@pytest.mark.parametrize(("p", "n"), [(0.3, 10), (0.05, 200), (0.9, 37)])
def test_binary_simulator_has_binomial_mean_and_variance(p, n):
    x = binary("p").simulate(_const(40_000, p=p), n, rng=1)["events"].to_numpy()
    mean, var = n * p, n * p * (1 - p)
    assert abs(x.mean() - mean) < Z * np.sqrt(var / len(x))
    # SE of a sample variance: sqrt((mu4 - var^2)/N), mu4 of the binomial from scipy's kurtosis
    kurt = stats.binom.stats(n, p, moments="k")
    se_var = np.sqrt((float(kurt) + 2) * var**2 / len(x))
    assert abs(x.var(ddof=1) - var) < Z * se_var


def test_binary_simulation_uses_each_draws_own_probability():
    p = np.repeat([0.1, 0.6], 20_000)
    x = binary("p").simulate(pd.DataFrame({"p": p}), 50, rng=2)["events"].to_numpy()
    for value in (0.1, 0.6):
        sel = x[p == value]
        assert abs(sel.mean() - 50 * value) < Z * np.sqrt(50 * value * (1 - value) / sel.size)


def test_two_arm_binary_simulates_both_arms_independently():
    d = binary_two_arm(p1="a", p2="b")
    data = d.simulate(_const(40_000, a=0.2, b=0.7), 30, rng=3)
    for col, p in (("events1", 0.2), ("events2", 0.7)):
        x = data[col].to_numpy()
        assert abs(x.mean() - 30 * p) < Z * np.sqrt(30 * p * (1 - p) / x.size)
    # independent arms: correlation within 4/sqrt(N)
    assert abs(np.corrcoef(data["events1"], data["events2"])[0, 1]) < Z / np.sqrt(40_000)


def test_binomial_loglik_equals_scipy_up_to_a_constant_per_data_set():
    rng = np.random.default_rng(4)
    draws = pd.DataFrame({"a": rng.uniform(0.01, 0.99, 50), "b": rng.uniform(0.01, 0.99, 50)})
    d = binary_two_arm("a", "b")
    data = d.simulate(draws.iloc[:7], 25, rng)
    ll = d.loglik(data, draws, 25)
    ref = stats.binom.logpmf(
        data["events1"].to_numpy()[:, None], 25, draws["a"].to_numpy()[None]
    ) + stats.binom.logpmf(data["events2"].to_numpy()[:, None], 25, draws["b"].to_numpy()[None])
    diff = ll - ref
    np.testing.assert_allclose(diff - diff[:, :1], 0, atol=1e-9)


def test_binomial_loglik_at_probability_zero_or_one_gives_zero_weight_without_warnings():
    d = binary("p")
    data = pd.DataFrame({"events": [0.0, 3.0, 10.0]})
    draws = pd.DataFrame({"p": [0.0, 0.5, 1.0]})
    with np.errstate(all="raise"):
        ll = d.loglik(data, draws, 10)
    w = np.exp(ll - ll.max(axis=1, keepdims=True))
    assert np.isfinite(ll).all()
    # 0 events is impossible under p = 1, 3 events impossible under p = 0 or 1, 10 under p = 0
    assert w[0, 2] == 0 and w[1, 0] == 0 and w[1, 2] == 0 and w[2, 0] == 0
    assert w[0, 0] == 1 and w[2, 2] == 1


def test_beta_binomial_posterior_and_n0():
    rng = np.random.default_rng(5)
    draws = pd.DataFrame({"p": rng.beta(12.0, 25.0, 200_000)})
    d = binary("p")
    n0 = d.prior_n0(draws)["p"]
    assert n0 == pytest.approx(37.0, rel=0.02)  # a + b, fitted by moments to the draws
    post = d.posterior(pd.DataFrame({"events": [4.0]}), 10, 100_000, rng, draws)["p"]
    a, b = 12.0 * n0 / 37, 25.0 * n0 / 37
    assert post.mean() == pytest.approx((a + 4) / (a + b + 10), rel=0.01)
    # an explicit prior is used as given
    fixed = binary("p", prior=(53.0, 60.0))
    assert fixed.prior_n0(draws) == {"p": 113.0}
    post = fixed.posterior(pd.DataFrame({"events": [40.0]}), 100, 200_000, rng, draws)["p"]
    assert post.mean() == pytest.approx(
        93 / 213, abs=Z * np.sqrt(stats.beta.var(93, 120) / 200_000)
    )


# --------------------------------------------------------------------------- normal


def test_normal_mean_simulator_moments_known_and_estimated_sd():
    d = normal_mean("mu", sd=2.0, estimate_sd=True)
    n = 8
    data = d.simulate(_const(40_000, mu=1.5), n, rng=6)
    x, s = data["xbar"].to_numpy(), data["s"].to_numpy()
    assert abs(x.mean() - 1.5) < Z * 2 / np.sqrt(n) / np.sqrt(x.size)
    assert x.var(ddof=1) == pytest.approx(4 / n, rel=Z * np.sqrt(2 / x.size))
    # E[s^2] = sd^2, Var[s^2] = 2 sd^4 / (n - 1)
    assert abs((s**2).mean() - 4) < Z * np.sqrt(2 * 16 / (n - 1) / s.size)
    # xbar and s are independent for normal data
    assert abs(np.corrcoef(x, s)[0, 1]) < Z / np.sqrt(x.size)


def test_normal_loglik_equals_scipy_up_to_a_constant_per_data_set():
    rng = np.random.default_rng(7)
    draws = pd.DataFrame({"mu": rng.normal(100.0, 1.0, 40), "sigma": rng.uniform(0.5, 3.0, 40)})
    n = 12
    # known sd: the likelihood of the mean
    d = normal_mean("mu", sd=1.5)
    data = d.simulate(draws.iloc[:5], n, rng)
    ref = stats.norm.logpdf(
        data["xbar"].to_numpy()[:, None], draws["mu"].to_numpy()[None], 1.5 / np.sqrt(n)
    )
    diff = d.loglik(data, draws, n) - ref
    np.testing.assert_allclose(diff - diff[:, :1], 0, atol=1e-7)
    # sd a parameter, estimated: xbar ~ N(mu, sigma^2/n) and (n-1)s^2/sigma^2 ~ chi2(n-1)
    d = normal_mean("mu", sd="sigma", estimate_sd=True)
    data = d.simulate(draws.iloc[:5], n, rng)
    xb, s = data["xbar"].to_numpy()[:, None], data["s"].to_numpy()[:, None]
    mu, sig = draws["mu"].to_numpy()[None], draws["sigma"].to_numpy()[None]
    ref = (
        stats.norm.logpdf(xb, mu, sig / np.sqrt(n))
        + stats.chi2.logpdf((n - 1) * s**2 / sig**2, n - 1)
        + np.log((n - 1) / sig**2)
    )
    diff = d.loglik(data, draws, n) - ref
    np.testing.assert_allclose(diff - diff[:, :1], 0, atol=1e-7)


def test_normal_posterior_and_n0():
    rng = np.random.default_rng(8)
    draws = pd.DataFrame({"theta": rng.normal(0.04, 0.03, 100_000)})
    d = normal_mean("theta", sd=0.3, prior=(0.04, 0.03))
    assert d.prior_n0(draws)["theta"] == pytest.approx(100.0)  # sd^2 / sd0^2
    post = d.posterior(pd.DataFrame({"xbar": [0.1]}), 50, 200_000, rng, draws)["theta"]
    assert post.mean() == pytest.approx((100 * 0.04 + 50 * 0.1) / 150, abs=1e-4)
    assert post.std() == pytest.approx(0.3 / np.sqrt(150), rel=0.01)


# --------------------------------------------------------------------------- survival


@pytest.mark.parametrize(("accrual", "follow_up"), [(3.0, 2.0), (0.0, 1.5), (4.0, 0.0)])
def test_survival_events_match_the_closed_form_probability(accrual, follow_up):
    trial = survival_two_arm("rate", "hr", accrual=accrual, follow_up=follow_up)
    n, lam, hr = 40, 0.3, 0.6
    data = trial.simulate(_const(20_000, rate=lam, hr=hr), n, rng=9)
    for col, r in (("events_control", lam), ("events_treated", lam * hr)):
        p = float(trial.event_probability(r))
        d = data[col].to_numpy()
        assert abs(d.mean() - n * p) < Z * np.sqrt(n * p * (1 - p) / d.size)


@pytest.mark.parametrize(("shape", "dropout"), [(1.0, 0.0), (1.0, 0.2), (1.7, 0.0)])
def test_survival_score_identity_events_equal_rate_times_exposure(shape, dropout):
    """Under independent censoring the score of λ has mean zero: E[d] = λ·E[Σ y^shape]
    exactly, for exponential and Weibull survival and with drop-out."""
    trial = survival_two_arm("rate", "hr", accrual=2.0, follow_up=1.0, shape=shape, dropout=dropout)
    lam = 0.5
    data = trial.simulate(_const(20_000, rate=lam, hr=1.0), 30, rng=10)
    score = data["events_control"].to_numpy() - lam * data["exposure_control"].to_numpy()
    assert abs(score.mean()) < Z * score.std(ddof=1) / np.sqrt(score.size)


def test_exponential_mle_is_unbiased_under_censoring():
    """The MLE d/E of the rate is consistent; its finite-sample bias is λ/E[d] to first order
    (as λ·n/(n−1) − λ without censoring), ~0.1 % of λ here, so the simulated mean must lie
    within that bias plus 4 Monte Carlo SEs of the true rate."""
    trial = survival_two_arm("rate", "hr", accrual=3.0, follow_up=2.0)
    lam, hr, n = 0.25, 0.7, 400
    data = trial.simulate(_const(20_000, rate=lam, hr=hr), n, rng=11)
    for d, e, r in (
        ("events_control", "exposure_control", lam),
        ("events_treated", "exposure_treated", lam * hr),
    ):
        mle = data[d].to_numpy() / data[e].to_numpy()
        bias = r / (n * float(trial.event_probability(r)))
        assert abs(mle.mean() - r) < Z * mle.std(ddof=1) / np.sqrt(mle.size) + bias
    # the log-HR estimate from the summary centres on log(hr) with SE ~ sqrt(1/d_c + 1/d_t)
    s = survival_two_arm("rate", "hr", accrual=3.0, follow_up=2.0, summary="loghr")
    summ = s.summary(data, 400)
    assert (
        abs(summ[:, 0].mean() - np.log(hr)) < Z * summ[:, 0].std(ddof=1) / np.sqrt(len(summ)) + 0.01
    )
    assert summ[:, 1].mean() == pytest.approx(summ[:, 0].std(), rel=0.05)


def test_survival_loglik_matches_patient_level_formula_and_log_hr_scale():
    rng = np.random.default_rng(12)
    draws = pd.DataFrame({"rate": rng.uniform(0.1, 1.0, 30), "loghr": rng.normal(-0.3, 0.2, 30)})
    trial = survival_two_arm("rate", "loghr", accrual=1.0, follow_up=1.0, log_hr=True)
    data = trial.simulate(draws.iloc[:4], 20, rng)
    lam, h = draws["rate"].to_numpy()[None], np.exp(draws["loghr"].to_numpy())[None]
    col = {c: data[c].to_numpy()[:, None] for c in data.columns}
    ref = (
        col["events_control"] * np.log(lam)
        - lam * col["exposure_control"]
        + col["events_treated"] * np.log(lam * h)
        - lam * h * col["exposure_treated"]
    )
    np.testing.assert_allclose(trial.loglik(data, draws, 20), ref, rtol=1e-10)


def test_survival_summaries_have_documented_columns():
    draws = _const(10, rate=0.4, hr=0.8)
    for kind, k in (("rates", 2), ("counts", 4), ("loghr", 2)):
        t = survival_two_arm("rate", "hr", accrual=1.0, follow_up=1.0, summary=kind)
        assert t.simulate_summary(draws, 15, rng=0).shape == (10, k)
        assert len(t.summary_names) == k


# --------------------------------------------------------------------------- custom and lookup


def test_custom_study_wraps_a_user_function():
    def f(inputs, n, rng):
        return rng.normal(inputs["mu"], 1 / np.sqrt(n))  # a 1-D array is one statistic

    s = custom_study(f, pars="mu", name="normal")
    out = s.simulate(pd.DataFrame({"mu": np.zeros(5), "other": np.ones(5)}), 4, rng=0)
    assert out.shape == (5, 1) and s.pars == ("mu",) and not s.has_likelihood
    with pytest.raises(VOIInputError, match="no likelihood"):
        s.loglik(out, pd.DataFrame({"mu": [0.0]}), 4)


def test_custom_study_output_is_checked():
    draws = pd.DataFrame({"mu": np.zeros(5)})
    with pytest.raises(VOIInputError, match="returned 3 rows"):
        custom_study(lambda d, n, r: np.zeros(3)).simulate(draws, 2, rng=0)
    with pytest.raises(VOIInputError, match="parameter columns"):
        custom_study(lambda d, n, r: d[["mu"]]).simulate(draws, 2, rng=0)
    with pytest.raises(VOIInputError, match="NaN"):
        custom_study(lambda d, n, r: np.full(5, np.nan)).simulate(draws, 2, rng=0)
    with pytest.raises(VOIInputError, match="shape"):
        custom_study(lambda d, n, r: np.zeros(5), loglik=lambda y, d, n: np.zeros(3)).loglik(
            pd.DataFrame({"x1": [0.0]}), draws, 2
        )
    with pytest.raises(VOIInputError, match="must be a function"):
        custom_study("not a function")  # type: ignore[arg-type]


def test_get_study_resolves_voi_names_and_rejects_unknown_ones():
    assert isinstance(get_study("binary", "p"), StudyDesign)
    assert get_study("trial_binary", ["p1", "p2"]).pars == ("p1", "p2")
    assert get_study("normal_known", "theta", sd=0.3).sd == 0.3
    d = binary("p")
    assert get_study(d) is d
    with pytest.raises(VOIInputError, match="unknown study design 'cohort'"):
        get_study("cohort", "p")
    with pytest.raises(VOIInputError, match="needs pars naming 2"):
        get_study("trial_binary", "p1")
    with pytest.raises(VOIInputError, match="study 'binary'"):
        get_study("binary", "p", sd=1.0)
    with pytest.raises(VOIInputError, match="must be a study design"):
        get_study(42)


@pytest.mark.parametrize(
    ("design", "frame", "message"),
    [
        (binary("p"), {"q": [0.5]}, "parameter 'p' is not a column"),
        (binary("p"), {"p": [0.5, 1.2]}, r"must lie in \[0, 1\]"),
        (binary_two_arm("a", "a"), {"a": [0.5]}, "same column"),
        (normal_mean("mu", sd=-1.0), {"mu": [0.0]}, "sd must be a positive number"),
        (normal_mean("mu", sd="s"), {"mu": [0.0], "s": [0.0]}, "must be > 0"),
        (survival_two_arm("r", "h", accrual=1, follow_up=1), {"r": [0.0], "h": [1.0]}, "rates"),
        (
            survival_two_arm("r", "h", accrual=1, follow_up=1),
            {"r": [0.1], "h": [-1.0]},
            "log_hr=True",
        ),
        (
            survival_two_arm("r", "h", accrual=0, follow_up=0),
            {"r": [0.1], "h": [1.0]},
            "must be > 0",
        ),
        (
            survival_two_arm("r", "h", accrual=1, follow_up=1, summary="km"),
            {"r": [0.1], "h": [1.0]},
            "summary",
        ),
    ],
)
def test_designs_validate_their_columns(design, frame, message):
    with pytest.raises(VOIInputError, match=message):
        design.validate(pd.DataFrame(frame))


@pytest.mark.parametrize("n", [0, -5, 2.5, "ten", None])
def test_sample_size_must_be_a_positive_integer(n):
    with pytest.raises(VOIInputError, match="sample size n"):
        binary("p").simulate(pd.DataFrame({"p": [0.5]}), n)


def test_estimated_sd_needs_two_observations():
    with pytest.raises(VOIInputError, match="integer >= 2"):
        normal_mean("mu", estimate_sd=True).simulate(pd.DataFrame({"mu": [0.0]}), 1)
