"""The nonparametric regression engine (decisionmodel.voi.regression).

Accuracy against known smooth functions, the smoothing-parameter criteria against slow
explicit-matrix references, posterior draws against closed-form standard errors, and input
handling. Tolerances are stated next to each assertion with where they come from; the noise
level of a correctly specified fit with e edf on n rows is σ·sqrt(e/n) (root mean square
error of the fitted values), which is the yardstick used throughout.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from decisionmodel.exceptions import VOIInputError
from decisionmodel.voi import regression as reg
from decisionmodel.voi.regression import RegressionFit, fit_regression


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


# --------------------------------------------------------------------------- accuracy
def test_one_input_smooth_function_is_recovered():
    rng = np.random.default_rng(11)
    n, sigma = 3000, 0.5
    x = rng.uniform(-2, 2, n)
    truth = np.sin(2 * x) + 0.3 * x
    fit = fit_regression(x, truth + rng.normal(0, sigma, n), "gam")
    assert isinstance(fit, RegressionFit) and fit.method == "gam"
    assert fit.fitted.shape == (n, 1) and fit.edf.shape == (1,)
    # a fit with ~10 edf has RMSE ≈ σ·sqrt(10/n) = 0.029; 0.05 allows smoothing bias
    assert _rmse(fit.fitted[:, 0], truth) < 0.05
    assert 5 < fit.edf[0] < 20
    # residual SD estimates σ (relative SE of an SD from 3000 rows ≈ 1.3 %)
    assert fit.residual_sd[0] == pytest.approx(sigma, rel=0.05)
    assert fit.diagnostics["r_squared"][0] > 0.5
    assert 0.9 < fit.diagnostics["k_index"][0] < 1.1  # nothing left in the residuals


def test_skewed_input_and_heavy_tails():
    """Gamma-distributed input (quantile knots): the fit follows a saturating curve."""
    rng = np.random.default_rng(12)
    n = 5000
    x = rng.gamma(2.0, 1.0, n)
    truth = 10 * x / (1 + x)
    fit = fit_regression(x, truth + rng.normal(0, 1.0, n), "gam")
    assert _rmse(fit.fitted[:, 0], truth) < 0.06  # σ·sqrt(8/5000) = 0.04


def test_linear_truth_gives_two_edf():
    """REML with the null-space penalty: a straight line is the intercept plus one slope.

    For noise, REML keeps the wiggly part at zero with positive probability but not always
    (its smoothing-parameter estimate has a point mass at infinity); over seeds the median
    edf is 2 and no fit wanders far from it.
    """
    edfs = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=2000)
        edfs.append(fit_regression(x, 3 * x + rng.normal(size=2000), "gam").edf[0])
    assert 1.95 < np.median(edfs) < 2.5
    assert max(edfs) < 4.5


def test_constant_truth_is_shrunk_to_a_constant():
    """A response unrelated to X: the fitted values vary far less than an OLS line's would.

    An OLS slope on pure noise has fitted-value SD ≈ σ/√n = 0.014 here; the null-space
    penalty shrinks it (fully, in most samples).
    """
    sds = []
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        x = rng.gamma(3.0, 1.0, 5000)
        fit = fit_regression(x, rng.normal(size=5000), "gam")
        sds.append(fit.fitted[:, 0].std())
    assert np.median(sds) < 0.004
    assert max(sds) < 0.03


def test_two_inputs_tensor_product_with_interaction():
    rng = np.random.default_rng(13)
    n = 4000
    X = rng.normal(size=(n, 2))
    truth = np.sin(X[:, 0]) * X[:, 1] + 0.5 * X[:, 1]
    fit = fit_regression(X, truth + rng.normal(0, 1, n), "gam")
    assert fit.diagnostics["basis"].startswith("tensor")
    assert fit.diagnostics["n_basis"] == 49
    # σ·sqrt(15/4000) = 0.06; an additive fit would leave the interaction (RMSE ≈ 0.5)
    assert _rmse(fit.fitted[:, 0], truth) < 0.1
    assert len(fit.diagnostics["smoothing"][0]["lambda"]) == 2


def test_four_inputs_and_five_inputs_gp():
    rng = np.random.default_rng(14)
    n = 4000
    X = rng.normal(size=(n, 5))
    truth = np.sin(X[:, 0]) * X[:, 1] + 0.5 * X[:, 2] ** 2 + X[:, 3]
    y = truth + rng.normal(0, 1, n)
    gam4 = fit_regression(X[:, :4], y, "gam")
    assert gam4.diagnostics["n_basis"] == 256
    assert _rmse(gam4.fitted[:, 0], truth) < 0.15  # σ·sqrt(40/4000) = 0.1
    gp = fit_regression(X, y, rng=np.random.default_rng(0))  # auto → gp for 5 inputs
    assert gp.method == "gp"
    assert _rmse(gp.fitted[:, 0], truth) < 0.15
    lin = fit_regression(X, y, "linear")
    assert _rmse(lin.fitted[:, 0], truth) > 0.5  # the baseline misses the curvature
    # the fifth input is irrelevant: its lengthscale is long
    ell = gp.diagnostics["smoothing"][0]["lengthscale"]
    assert ell[4] > 3 * min(ell[:3])


def test_each_response_gets_its_own_smoothing():
    rng = np.random.default_rng(15)
    x = rng.uniform(-2, 2, 3000)
    Y = np.column_stack([2 * x, np.sin(3 * x), np.zeros_like(x)]) + rng.normal(0, 0.3, (3000, 3))
    fit = fit_regression(x, Y, "gam")
    assert fit.fitted.shape == (3000, 3)
    # a straight line and a constant need ≤ 2 edf; REML may add a little wiggle to noise
    # (see test_linear_truth_gives_two_edf), the sine needs many more
    assert fit.edf[0] < 4.5 and fit.edf[2] < 4.5 and fit.edf[1] > 8


def test_exact_relationship_is_interpolated():
    """A deterministic smooth response (R² = 1) is reproduced to round-off."""
    x = np.random.default_rng(16).normal(size=2000)
    y = 20000 * x - 700
    fit = fit_regression(x, y, "gam")
    assert np.abs(fit.fitted[:, 0] - y).max() < 1e-6 * np.abs(y).max()


# --------------------------------------------------------------------------- criteria vs brute force
def _brute_setup(x, y):
    """The P-spline of the 1-D engine built with explicit matrices (n small)."""
    xs = (x - x.mean()) / x.std()
    B, S, _ = reg._marginal_basis(xs, 25)
    G = B.T @ B
    S = S * np.trace(G) / np.trace(S)  # the engine's scaling of the penalty
    return B, S, G


@pytest.mark.parametrize("criterion", ["gcv", "reml"])
def test_fast_eigenbasis_criterion_matches_explicit_matrix_solves(criterion):
    """One smoothing parameter (select=False): the criterion minimised by the fast
    Demmler–Reinsch search equals the criterion computed by explicit solves on a λ grid,
    and the chosen fit equals the brute-force optimum."""
    rng = np.random.default_rng(17)
    n = 300
    x = rng.normal(size=n)
    y = np.sin(1.5 * x) + rng.normal(0, 0.4, n)
    B, S, G = _brute_setup(x, y)
    Bty = B.T @ y
    rank_S = np.linalg.matrix_rank(S)

    def brute(lam):
        A = G + lam * S
        beta = np.linalg.solve(A, Bty)
        rss = float(((y - B @ beta) ** 2).sum())
        if criterion == "gcv":
            edf = np.trace(np.linalg.solve(A, G))  # tr of the hat matrix B A⁻¹ B'
            return n * rss / (n - edf) ** 2, B @ beta
        pen = float(beta @ S @ beta) * lam
        ev = np.linalg.eigvalsh(lam * S)
        logdet_S = np.log(np.sort(ev)[-rank_S:]).sum()
        return (n - 2) * math.log(rss + pen) + np.linalg.slogdet(A)[1] - logdet_S, B @ beta

    grid = np.exp(np.linspace(-12, 12, 121))
    vals = np.array([brute(lam)[0] for lam in grid])
    lam_best = grid[int(np.argmin(vals))]
    fit = fit_regression(x, y, "gam", smoothing=criterion, select=False)
    lam_fast = fit.diagnostics["smoothing"][0]["lambda"]
    # the fast optimum is at least as good as the grid's best, and the λ agree to within
    # the grid spacing (Δlog λ = 0.2) up to the flatness of the criterion
    assert brute(lam_fast)[0] <= vals.min() + 1e-6 * abs(vals.min())
    assert abs(math.log(lam_fast) - math.log(lam_best)) < 0.5
    np.testing.assert_allclose(fit.fitted[:, 0], brute(lam_fast)[1], atol=1e-6)

    # the eigenbasis criterion itself equals the brute-force one up to a constant
    dr = reg._DR((x - x.mean()) / x.std(), 25, select=False)
    z = dr.phi.T @ y
    rss0 = float(((y - dr.phi @ z) ** 2).sum())
    lam_pos = dr.lam > 0
    assert lam_pos.sum() == rank_S
    fast = [
        float(
            dr.criterion(
                dr.omegas(np.array(math.log(lam)), np.array(0.0)), z**2, rss0, n, criterion
            )
        )
        for lam in grid[::10]
    ]
    slow = vals[::10]
    if criterion == "gcv":
        np.testing.assert_allclose(fast, slow, rtol=1e-8)
    else:
        np.testing.assert_allclose(np.diff(fast), np.diff(slow), atol=1e-6)


def test_double_penalty_reml_matches_explicit_solves():
    """select=True: REML with the wiggly and the null-space smoothing parameter, fast
    versus explicit (the null-space penalty is on the linear column orthogonal to the
    intercept)."""
    rng = np.random.default_rng(18)
    n = 300
    x = rng.normal(size=n)
    y = rng.normal(size=n)
    xs = (x - x.mean()) / x.std()
    B, S, G = _brute_setup(x, y)
    dr = reg._DR(xs, 25, select=True)
    lin = dr.phi[:, 1]
    Sn = np.outer(B.T @ lin, B.T @ lin)

    def brute(rw, rn):
        Sl = math.exp(rw) * S + math.exp(rn) * Sn
        A = G + Sl
        beta = np.linalg.solve(A, B.T @ y)
        D = y @ y - (B.T @ y) @ beta
        ev = np.sort(np.linalg.eigvalsh(Sl))[1:]  # all but the intercept direction
        return (n - 1) * math.log(D) + np.linalg.slogdet(A)[1] - np.log(ev).sum()

    z = dr.phi.T @ y
    rss0 = float(((y - dr.phi @ z) ** 2).sum())
    pts = [(0.0, 0.0), (3.0, -2.0), (8.0, 6.0), (-4.0, 10.0)]
    slow = [brute(*p) for p in pts]
    fast = [
        float(dr.criterion(dr.omegas(np.array(a), np.array(b)), z**2, rss0, n, "reml"))
        for a, b in pts
    ]
    np.testing.assert_allclose(np.diff(fast), np.diff(slow), atol=1e-6)


def test_tensor_code_with_one_input_agrees_with_the_eigenbasis_code():
    """Same model (select=False) fitted by the 1-D eigenbasis search and by the general
    tensor-product code with L-BFGS-B on REML: the fitted curves agree."""
    rng = np.random.default_rng(19)
    x = rng.normal(size=3000)
    y = np.sin(x) + rng.normal(0, 0.5, 3000)
    a = fit_regression(x, y, "gam", select=False)
    b = fit_regression(x, y, "gam", select=False, tensor_1d=True)
    # both estimate sin(x) with RMSE ≈ 0.5·sqrt(8/3000) = 0.026; they should agree far better
    assert np.abs(a.fitted - b.fitted).max() < 0.01
    assert a.edf[0] == pytest.approx(b.edf[0], abs=0.2)


def test_tensor_reml_gradient_is_exact():
    rng = np.random.default_rng(20)
    X = rng.normal(size=(1500, 2))
    Y = (np.sin(X[:, 0]) * X[:, 1] + rng.normal(size=1500))[:, None]
    T = reg._Tensor(X, Y, [6, 6], select=True)
    for rho in (np.array([0.0, 1.0, 2.0]), np.array([-3.0, 4.0, 1.0])):
        g = T.reml(rho, 0)[1]
        err = optimize.check_grad(lambda r: T.reml(r, 0)[0], lambda r: T.reml(r, 0)[1], rho)
        assert err < 1e-4 * max(1.0, np.abs(g).max())


def test_gp_marginal_likelihood_gradient_is_exact():
    rng = np.random.default_rng(21)
    m, p = 120, 3
    X = rng.normal(size=(m, p))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1] + rng.normal(0, 0.3, m)
    y = (y - y.mean()) / y.std()
    D2 = np.stack([((X[:, i, None] - X[None, :, i]) ** 2).ravel() for i in range(p)])
    lin = X @ X.T / p

    @reg.single_threaded_blas  # as inside fit_regression (small matrices)
    def f(t):
        return reg._gp_neg_log_ml(t, D2, lin, y)

    for theta in (np.zeros(p + 3), rng.normal(0, 0.5, p + 3)):
        g = f(theta)[1]
        err = optimize.check_grad(lambda t: f(t)[0], lambda t: f(t)[1], theta)
        assert err < 1e-4 * max(1.0, np.abs(g).max())


# --------------------------------------------------------------------------- posterior draws
def test_linear_draws_match_ols_standard_errors():
    """For OLS the posterior SD of each fitted value is σ̂·sqrt(h_ii) exactly."""
    rng = np.random.default_rng(22)
    n = 500
    X = rng.normal(size=(n, 2))
    y = 1 + X @ [2.0, -1.0] + rng.normal(0, 2.0, n)
    fit = fit_regression(X, y, "linear")
    H = np.column_stack([np.ones(n), X])
    h = np.einsum("ij,ji->i", H, np.linalg.solve(H.T @ H, H.T))
    sigma = math.sqrt(((y - fit.fitted[:, 0]) ** 2).sum() / (n - 3))
    draws = fit.sample_fitted(4000, np.random.default_rng(1))
    assert draws.shape == (4000, n, 1)
    # 4000 draws: the relative SE of an SD is 1/sqrt(8000) = 1.1 %; allow 5 %
    np.testing.assert_allclose(draws[:, :, 0].std(axis=0), sigma * np.sqrt(h), rtol=0.05)
    np.testing.assert_allclose(
        draws.mean(axis=0), fit.fitted, atol=5 * sigma * np.sqrt(h.max() / 4000)
    )


@pytest.mark.parametrize(
    ("X", "method"),
    [
        (np.random.default_rng(23).normal(size=(2000, 1)), "gam"),
        (np.random.default_rng(23).normal(size=(2000, 2)), "gam"),
        (np.random.default_rng(23).normal(size=(1500, 5)), "gp"),
    ],
)
def test_draws_are_centred_on_the_fit_and_reflect_its_uncertainty(X, method):
    rng = np.random.default_rng(24)
    y = np.sin(X[:, 0]) + rng.normal(0, 1.0, len(X))
    fit = fit_regression(X, y, method, rng=np.random.default_rng(0))
    draws = fit.sample_fitted(400, rng)[:, :, 0]
    sd = draws.std(axis=0)
    # pointwise posterior SD of a smooth with e edf is about σ·sqrt(e/n) on average
    expected = fit.residual_sd[0] * math.sqrt(fit.edf[0] / len(X))
    assert 0.5 * expected < sd.mean() < 2.0 * expected
    assert np.abs(draws.mean(axis=0) - fit.fitted[:, 0]).max() < 5 * sd.max() / math.sqrt(400)


# --------------------------------------------------------------------------- inputs
def test_discrete_inputs():
    rng = np.random.default_rng(25)
    n = 4000
    two = rng.integers(0, 2, n).astype(float)
    y = 3.0 * two + rng.normal(size=n)
    fit = fit_regression(two, y, "gam")
    # saturated for two levels: the fitted values are the group means, up to the null-space
    # shrinkage of the difference by a factor ≈ 1 − SE²/effect² = 1 − 1e-4
    for v in (0.0, 1.0):
        assert fit.fitted[two == v, 0].mean() == pytest.approx(y[two == v].mean(), abs=2e-3)
    exact = fit_regression(two, y, "gam", select=False)
    for v in (0.0, 1.0):
        assert exact.fitted[two == v, 0].mean() == pytest.approx(y[two == v].mean(), abs=1e-8)
    counts = rng.binomial(10, 0.3, n).astype(float)  # a discrete study summary (≤ 11 values)
    truth = np.log1p(counts)
    fit = fit_regression(counts, truth + rng.normal(0, 0.5, n), "gam")
    assert _rmse(fit.fitted[:, 0], truth) < 0.05  # σ·sqrt(5/4000) = 0.018
    X2 = np.column_stack([two, rng.normal(size=n)])
    fit2 = fit_regression(X2, 2 * X2[:, 0] * X2[:, 1] + rng.normal(size=n), "gam")
    assert _rmse(fit2.fitted[:, 0], 2 * X2[:, 0] * X2[:, 1]) < 0.1


def test_constant_columns_are_ignored():
    rng = np.random.default_rng(26)
    x = rng.normal(size=(500, 2))
    x[:, 1] = 4.0
    y = x[:, 0] + rng.normal(size=500)
    fit = fit_regression(x, y, "gam")
    assert fit.diagnostics["inputs_used"] == [0]
    const = fit_regression(np.full((500, 1), 2.0), y, "gam")
    assert const.method == "constant"
    np.testing.assert_allclose(const.fitted[:, 0], y.mean())
    assert const.sample_fitted(3, rng).shape == (3, 500, 1)


def test_constant_response():
    x = np.random.default_rng(27).normal(size=300)
    for method in ("gam", "gp", "linear"):
        fit = fit_regression(x, np.full(300, 5.0), method, rng=0)
        np.testing.assert_allclose(fit.fitted, 5.0, atol=1e-9)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.ones((10, 1)), np.ones(9)), {}, "rows"),
        ((np.ones((10, 1)), np.ones(10), "spline"), {}, "unknown regression method"),
        ((np.ones((10, 1)), np.ones(10), "gam"), {"n_hyper": 3}, "unknown option"),
        ((np.full((10, 1), np.nan), np.ones(10)), {}, "NaN"),
        ((np.ones((3, 1)), np.ones(3)), {}, "at least 5 rows"),
        ((np.random.default_rng(0).normal(size=(50, 5)), np.ones(50), "gam"), {}, "give k"),
        (
            (np.random.default_rng(0).normal(size=(50, 1)), np.ones(50), "gam"),
            {"smoothing": "aic"},
            "smoothing",
        ),
        (
            (np.random.default_rng(0).normal(size=(50, 1)), np.ones(50), "gam"),
            {"k": 3},
            "at least 4",
        ),
        (
            (np.random.default_rng(0).normal(size=(50, 1)), np.ones(50), "gam"),
            {"k": [3]},
            "at least 4",
        ),
        (
            (np.random.default_rng(0).normal(size=(50, 1)), np.ones(50), "gam"),
            {"k": [10, 10]},
            "one per input",
        ),
    ],
)
def test_bad_input_raises_voi_input_error(args, kwargs, match):
    with pytest.raises(VOIInputError, match=match):
        fit_regression(*args, **kwargs)


def test_gam_k_per_input_also_for_one_input():
    """``k`` is one number or one per input: a one-element list for one input is that
    input's basis size, as a list of two is for two inputs (it raised a TypeError)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 1))
    y = np.sin(x[:, 0]) + rng.normal(0, 0.3, 300)
    scalar = fit_regression(x, y, "gam", k=10)
    for k in ([10], (10,), np.array([10])):
        fit = fit_regression(x, y, "gam", k=k)
        np.testing.assert_array_equal(fit.fitted, scalar.fitted)
        np.testing.assert_array_equal(fit.edf, scalar.edf)
