"""Nonparametric regression engine for regression-based VOI (EVPPI, EVSI).

:func:`fit_regression` regresses several responses ``Y`` (n × d; typically incremental net
benefits, costs or effects against a reference strategy) on the same inputs ``X`` (n × k) and
returns a :class:`RegressionFit`: the fitted conditional means ``E[Y_j | X]`` at every row,
effective degrees of freedom, residual SDs, diagnostics, and draws of the fitted values from
the fit's approximate posterior (for standard errors of VOI estimates).

Every response gets its own smoothing parameters; the basis is shared where the method allows.

Methods
-------
``"gam"``
    Penalised regression splines with smoothing parameters chosen by REML (default) or GCV.

    * One input: cubic B-spline basis (``k`` = 25 functions by default) with interior knots at
      quantiles of the input and the O'Sullivan penalty ∫ f''(x)² dx (the exact
      second-derivative penalty; on equally spaced knots it is equivalent to a second-order
      difference P-spline penalty, and unlike the difference penalty on unequal knots its null
      space is exactly the straight lines). The fit is computed in the Demmler–Reinsch
      basis (one Cholesky + one symmetric eigen-decomposition), where the criterion for every
      smoothing parameter and every response is a sum over ``k`` terms, so all responses are
      searched at once on a grid of log λ and then polished by L-BFGS-B.
    * 2–4 inputs: tensor-product smooth (the row-wise Kronecker product of marginal cubic
      B-spline bases, ``k`` = 7, 6, 4 functions per margin for 2, 3, 4 inputs), one
      second-derivative penalty per margin, as mgcv's ``te()``; smoothing parameters by
      REML (analytic gradient) or GCV with L-BFGS-B.
    * ``select=True`` (default) adds mgcv's "double penalty": the penalty null space
      (straight lines, or for a tensor product the products of straight lines), except the
      intercept, is penalised too, with its own smoothing parameter. A response whose
      conditional mean is constant then gets a fitted function shrunk to the constant
      instead of a noisy straight line, which removes most of the upward bias of a
      regression EVPPI for parameters with no value of information; clear effects are not
      shrunk (REML leaves that penalty near zero).
``"gp"``
    Gaussian-process regression: squared-exponential ARD kernel plus a linear kernel,
    constant mean with a flat prior, Gaussian noise. Hyperparameters maximise the restricted
    marginal likelihood (analytic gradients, L-BFGS-B) on a random subsample of ``n_hyper``
    rows (default 500), with an N(log 2.5, 1) prior on each log lengthscale (inputs
    standardised) and starting values from the noise share estimated by nearest neighbours:
    with a few hundred noisy rows the likelihood alone also has an interpolating optimum
    (short lengthscales, no noise), which overfits and biases EVPPI upwards. The posterior
    mean at all n rows then uses every row through a subset-of-regressors (Nyström)
    approximation with ``n_inducing`` inducing points (default 500), i.e. Bayesian linear
    regression on ``n_inducing`` kernel features plus the linear terms.
``"linear"``
    Ordinary least squares with an intercept (a cheap baseline).
``"auto"``
    ``"gam"`` for at most 4 inputs, ``"gp"`` otherwise (as the R package voi).

Inputs are standardised internally; constant input columns are dropped (they carry no
information).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x = rng.uniform(-2, 2, size=(2000, 1))
>>> y = np.sin(x[:, 0]) + rng.normal(0, 0.3, 2000)
>>> fit = fit_regression(x, y, "gam")
>>> fit.fitted.shape, fit.method
((2000, 1), 'gam')
>>> bool(np.abs(fit.fitted[:, 0] - np.sin(x[:, 0])).max() < 0.1)
True
>>> fit.sample_fitted(3, rng).shape
(3, 2000, 1)
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg as sla
from scipy import optimize
from scipy.interpolate import BSpline
from scipy.spatial import cKDTree

from decisionmodel.exceptions import VOIInputError
from decisionmodel.rng import RNGLike, as_generator
from decisionmodel.voi.inputs import _required_generator

__all__ = ["METHODS", "RegressionFit", "fit_regression"]

try:  # threadpoolctl is optional: used only to keep BLAS single-threaded for small matrices
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None


def single_threaded_blas[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with BLAS/LAPACK limited to one thread (when threadpoolctl is present).

    The matrices here are small (at most a few hundred columns); multi-threaded OpenBLAS on
    a loaded machine makes a 500 × 500 Cholesky factorisation 10–50 times slower than one
    thread does, so one thread is both faster and more predictable.

    Parameters
    ----------
    func : callable
        The function to wrap.

    Returns
    -------
    callable
        ``func`` with the same signature, run under a one-thread BLAS limit.

    Examples
    --------
    >>> import numpy as np
    >>> @single_threaded_blas
    ... def gram(a):
    ...     return a.T @ a
    >>> gram(np.eye(2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx = (
            _threadpool_limits(limits=1)
            if _threadpool_limits is not None
            else contextlib.nullcontext()
        )
        with ctx:
            return func(*args, **kwargs)

    return wrapper


METHODS = ("auto", "gam", "gp", "linear")

#: default number of basis functions per margin of a GAM, by number of inputs
GAM_DEFAULT_K = {1: 25, 2: 7, 3: 6, 4: 4}
_RHO_BOUND = 30.0  # log smoothing parameters are searched within ±this of their scale


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class _Posterior:
    """Gaussian approximate posterior of one response's coefficients on a basis.

    fitted = basis @ coef; coef ~ N(mean, F F') with F = ``factor`` (a vector means a
    diagonal factor).
    """

    basis: np.ndarray  # (n, K)
    mean: np.ndarray  # (K,)
    factor: np.ndarray  # (K,) or (K, K)


@dataclass
class RegressionFit:
    """Result of :func:`fit_regression`.

    Attributes
    ----------
    fitted : numpy.ndarray
        (n, d): estimated conditional means E[Y_j | X] at each row.
    edf : numpy.ndarray
        (d,): effective degrees of freedom of each response's fit, intercept included
        (a straight line has 2).
    residual_sd : numpy.ndarray
        (d,): residual standard deviation, sqrt(RSS / (n − edf)).
    method : str
        ``"gam"``, ``"gp"``, ``"linear"`` or ``"constant"`` (every input constant).
    diagnostics : dict
        Per-response lists: ``r_squared``, ``smoothing`` (smoothing parameters or GP
        hyperparameters), ``k_index`` (mean squared difference of residuals of nearest
        neighbours in X over twice their variance: ≈ 1 when no structure is left, clearly
        below 1 when the basis is too small), plus method details (``basis``, ``criterion``,
        ``n_basis``, …).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 50)
    >>> fit = fit_regression(x, 2 * x + 1, "linear")
    >>> fit.method, fit.edf.tolist(), bool(np.allclose(fit.fitted[:, 0], 2 * x + 1))
    ('linear', [2.0], True)
    """

    fitted: np.ndarray
    edf: np.ndarray
    residual_sd: np.ndarray
    method: str
    diagnostics: dict = field(default_factory=dict)
    _posteriors: list[_Posterior] = field(default_factory=list, repr=False)

    @single_threaded_blas
    def sample_fitted(self, n_draws: int, rng: RNGLike) -> np.ndarray:
        """Draws of the fitted values from the fit's approximate posterior.

        The coefficients of each response are drawn from N(β̂, V_β) (the Bayesian posterior
        covariance of the penalised fit, smoothing parameters held fixed, as mgcv's
        ``vcov``) and mapped to fitted values at the n rows.

        Parameters
        ----------
        n_draws : int
            Number of draws.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers (normalised by :func:`decisionmodel.rng.as_generator`; a
            generator is used as it is, so successive calls continue its stream). ``None``
            raises its TypeError.

        Returns
        -------
        numpy.ndarray
            Shape (n_draws, n, d).

        Raises
        ------
        VOIInputError
            ``n_draws`` is negative.
        TypeError
            ``rng`` is None.
        """
        n_draws = int(n_draws)
        if n_draws < 0:
            raise VOIInputError(f"n_draws must be >= 0, got {n_draws}")
        rng = as_generator(rng)
        n, d = self.fitted.shape
        out = np.empty((n_draws, n, d))
        if not self._posteriors:
            out[:] = self.fitted[None]
            return out
        for j, post in enumerate(self._posteriors):
            z = rng.standard_normal((post.mean.shape[0], n_draws))
            if post.factor.ndim == 1:
                coef = post.mean[:, None] + post.factor[:, None] * z
            else:
                coef = post.mean[:, None] + post.factor @ z
            out[:, :, j] = (post.basis @ coef).T
        return out


# --------------------------------------------------------------------------- helpers
def _as_2d(a: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise VOIInputError(f"{what}: expected numbers") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise VOIInputError(f"{what}: expected a 1-D or 2-D array, got {arr.ndim} dimensions")
    if not np.isfinite(arr).all():
        raise VOIInputError(f"{what}: contains NaN or infinite values")
    return arr


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale columns; return (standardised non-constant columns, kept mask)."""
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    scale = np.maximum(np.abs(mu), 1.0)
    keep = sd > 1e-12 * scale
    Xs = (X[:, keep] - mu[keep]) / sd[keep]
    return Xs, keep


def _k_index(
    Xs: np.ndarray, resid: np.ndarray, scale: np.ndarray, max_rows: int = 5000
) -> np.ndarray:
    """mgcv-style basis-dimension check: mean ½(r_i − r_nn(i))² / var(r) over rows.

    ``scale`` is the variance of each response (residuals below ~1e-9 of its SD count as an
    exact fit).
    """
    n = Xs.shape[0]
    if n < 3 or Xs.shape[1] == 0:
        return np.ones(resid.shape[1])
    idx = np.arange(n) if n <= max_rows else np.linspace(0, n - 1, max_rows).astype(int)
    pts = Xs[idx]
    tree = cKDTree(pts)
    _, nn = tree.query(pts, k=2)
    other = nn[:, 1]
    r = resid[idx]
    var = r.var(axis=0)
    diff = 0.5 * ((r - r[other]) ** 2).mean(axis=0)
    # residuals at round-off level (an exact fit) carry no information: report 1
    ok = var > 1e-18 * np.maximum(scale, 1e-300)
    return np.where(ok, diff / np.where(ok, var, 1.0), 1.0)


def _summaries(
    Y: np.ndarray, fitted: np.ndarray, edf: np.ndarray, Xs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = Y.shape[0]
    resid = Y - fitted
    rss = (resid**2).sum(axis=0)
    tss = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    dof = np.maximum(n - edf, 1.0)
    residual_sd = np.sqrt(rss / dof)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(tss > 0, 1.0 - rss / np.where(tss > 0, tss, 1.0), 0.0)
    return residual_sd, r2, _k_index(Xs, resid, tss / n), rss


# --------------------------------------------------------------------------- bases
def _marginal_basis(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Basis (n × k') and penalty (k' × k') for one standardised input.

    Cubic B-splines with interior knots at quantiles of x and the penalty ∫ f''² over the
    data range. Inputs with 2 or 3 distinct values get the saturated polynomial basis
    (1, x[, x²]) with the quadratic coefficient penalised.
    """
    xu = np.unique(x)
    nu = xu.size
    if nu <= 3:
        cols = [np.ones_like(x), x] + ([x**2] if nu == 3 else [])
        B = np.column_stack(cols)
        S = np.zeros((nu, nu))
        if nu == 3:
            S[2, 2] = 1.0
        return B, S, {"type": "polynomial", "degree": nu - 1, "knots": None}
    k = int(max(4, min(k, nu)))
    lo, hi = float(xu[0]), float(xu[-1])
    n_int = k - 4
    interior = np.quantile(x, np.linspace(0.0, 1.0, n_int + 2)[1:-1]) if n_int > 0 else np.empty(0)
    interior = np.unique(interior)
    tol = 1e-8 * (hi - lo)
    interior = interior[(interior > lo + tol) & (interior < hi - tol)]
    if interior.size > 1:  # drop knots closer than tol
        interior = interior[np.concatenate([[True], np.diff(interior) > tol])]
    t = np.concatenate([[lo] * 4, interior, [hi] * 4])
    B = BSpline.design_matrix(np.clip(x, lo, hi), t, 3).toarray()
    kk = B.shape[1]
    # exact ∫ f''² : f'' is linear on each knot interval, so 2-point Gauss-Legendre is exact
    brk = np.unique(t)
    g, w = np.polynomial.legendre.leggauss(2)
    a, b = brk[:-1], brk[1:]
    xq = (0.5 * (b - a)[:, None] * g[None, :] + 0.5 * (a + b)[:, None]).ravel()
    wq = (0.5 * (b - a)[:, None] * w[None, :]).ravel()
    d2 = BSpline(t, np.eye(kk), 3).derivative(2)(xq)  # (nq, kk)
    S = d2.T @ (wq[:, None] * d2)
    S = 0.5 * (S + S.T)
    return B, S, {"type": "cubic B-spline", "knots": t}


def _null_dim(S: np.ndarray) -> int:
    if not S.any():
        return S.shape[0]
    ev = np.linalg.eigvalsh(S)
    return int((ev <= 1e-9 * ev.max()).sum())


def _reparam_margin(B: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Rotate a marginal basis so its penalty is diagonal, with the constant function first.

    Returns (B V, eigenvalues e (scaled so that max e = 1; zeros for the null space), n_null).
    """
    kk = S.shape[0]
    n_null = _null_dim(S)
    if n_null == kk:
        e, V = np.zeros(kk), np.eye(kk)
    else:
        e, V = np.linalg.eigh(S)
        e = np.where(np.arange(kk) < n_null, 0.0, e)
        e = e / e.max()
    # rotate the null block so that its first vector is the constant function
    one = np.linalg.lstsq(B[: min(len(B), 4000)], np.ones(min(len(B), 4000)), rcond=None)[0]
    Vn = V[:, :n_null]
    c = Vn.T @ one
    if np.linalg.norm(c) > 0:
        Qn, _ = np.linalg.qr(np.column_stack([c, np.eye(n_null)]))
        Qn = Qn[:, :n_null]
        if Qn[:, 0] @ c < 0:
            Qn[:, 0] = -Qn[:, 0]
        V = np.column_stack([Vn @ Qn, V[:, n_null:]])
    return B @ V, e, n_null


def _rowwise_kron(mats: list[np.ndarray]) -> np.ndarray:
    out = mats[0]
    for m in mats[1:]:
        out = (out[:, :, None] * m[:, None, :]).reshape(out.shape[0], -1)
    return out


# --------------------------------------------------------------------------- GAM, 1 input
class _DR:
    """Demmler–Reinsch form of a 1-D penalised spline (with optional null-space penalty).

    Columns of ``phi`` are orthonormal; the penalty is diagonal: coordinate j is penalised
    by λ_wiggly·lam[j] for wiggly coordinates, by λ_null for the null-space coordinates
    other than the constant (``select``), and not at all for the constant (index 0).
    """

    def __init__(self, x: np.ndarray, k: int, select: bool):
        B, S, info = _marginal_basis(x, k)
        self.info = info
        G = B.T @ B
        trS = np.trace(S)
        S = S * (np.trace(G) / trS) if trS > 0 else S
        n_null = _null_dim(S)
        M = G + S
        M = 0.5 * (M + M.T) + 1e-12 * np.trace(M) / M.shape[0] * np.eye(M.shape[0])
        L = np.linalg.cholesky(M)
        H = sla.solve_triangular(L, sla.solve_triangular(L, G, lower=True).T, lower=True)
        mu, W = np.linalg.eigh(0.5 * (H + H.T))
        order = np.argsort(-mu)  # null space (mu = 1) first
        mu, W = mu[order], W[:, order]
        keep = mu > 1e-10 * mu.max()
        mu, W = mu[keep], W[:, keep]
        T = sla.solve_triangular(L.T, W, lower=False) / np.sqrt(mu)
        phi = B @ T
        lam = np.clip((1.0 - mu) / mu, 0.0, None)
        n_null = min(n_null, phi.shape[1])
        lam[:n_null] = 0.0
        # within the null space put the constant function first
        n = phi.shape[0]
        c = phi[:, :n_null].T @ np.full(n, 1.0 / math.sqrt(n))
        Qn, _ = np.linalg.qr(np.column_stack([c, np.eye(n_null)]))
        Qn = Qn[:, :n_null]
        if Qn[:, 0] @ c < 0:
            Qn[:, 0] = -Qn[:, 0]
        phi[:, :n_null] = phi[:, :n_null] @ Qn
        # re-orthonormalise (removes round-off; the penalty is unchanged up to round-off)
        phi, R = np.linalg.qr(phi)
        sign = np.sign(np.diag(R))
        sign[sign == 0] = 1.0
        phi = phi * sign
        self.phi = phi
        self.n_null = n_null
        self.select = select and n_null > 1
        self.wig = np.arange(phi.shape[1]) >= n_null
        self.lam = lam  # wiggly eigenvalues (0 on the null space)
        self.nulls = (np.arange(phi.shape[1]) >= 1) & ~self.wig  # null space minus constant
        self.n_unpen = 1 if self.select else n_null

    def omegas(self, rho_w: np.ndarray, rho_n: np.ndarray) -> np.ndarray:
        """Penalty per coordinate, shape (..., K), for log smoothing parameters (...)."""
        om = np.exp(rho_w)[..., None] * self.lam
        if self.select:
            om = om + np.exp(rho_n)[..., None] * self.nulls
        return om

    def criterion(
        self, om: np.ndarray, z2: np.ndarray, rss0: np.ndarray, n: int, kind: str
    ) -> np.ndarray:
        """REML or GCV for penalties ``om`` (..., K) and squared coefficients z2 (K,) → (...)."""
        frac = om / (1.0 + om)  # shrinkage of each coordinate
        if kind == "reml":
            D = rss0 + (frac * z2).sum(-1)
            D = np.maximum(D, 1e-300 + 1e-14 * (rss0 + z2[1:].sum()))
            pen = om > 0
            ld = np.where(pen, np.log1p(1.0 / np.where(pen, om, 1.0)), 0.0).sum(-1)
            return (n - self.n_unpen) * np.log(D) + ld
        rss = rss0 + (frac**2 * z2).sum(-1)
        edf = (1.0 / (1.0 + om)).sum(-1)
        return n * rss / np.maximum(n - edf, 1.0) ** 2


def _fit_gam_1d(
    x: np.ndarray, Y: np.ndarray, *, k: int, smoothing: str, select: bool
) -> tuple[np.ndarray, np.ndarray, list[_Posterior], dict]:
    n, d = Y.shape
    dr = _DR(x, k, select)
    phi = dr.phi
    z = phi.T @ Y  # (K, d)
    rss0 = ((Y - phi @ z) ** 2).sum(axis=0)
    lam_pos = dr.lam[dr.wig]
    if lam_pos.size:
        lo_w = math.log(1e-4 / lam_pos.max())
        hi_w = math.log(1e6 / max(lam_pos.min(), 1e-300))
    else:
        lo_w, hi_w = 0.0, 0.0
    lo_n, hi_n = -15.0, 20.0
    gw = np.linspace(lo_w, hi_w, 121) if lam_pos.size else np.zeros(1)
    gn = np.linspace(lo_n, hi_n, 71) if dr.select else np.zeros(1)
    RW, RN = np.meshgrid(gw, gn, indexing="ij")
    om_grid = dr.omegas(RW, RN)  # (gw, gn, K)
    fitted = np.empty((n, d))
    edf = np.empty(d)
    posts: list[_Posterior] = []
    smooth: list[dict] = []
    for j in range(d):
        z2 = z[:, j] ** 2
        crit = dr.criterion(om_grid, z2, rss0[j], n, smoothing)
        iw, inn = np.unravel_index(np.argmin(crit), crit.shape)
        x0 = np.array([gw[iw], gn[inn]])
        free = [bool(lam_pos.size), dr.select]
        if any(free):

            def f(v, z2=z2, rss=rss0[j], x0=x0, free=free):
                rw = v[0] if free[0] else x0[0]
                rn = v[-1] if free[1] else x0[1]
                return float(
                    dr.criterion(dr.omegas(np.array(rw), np.array(rn)), z2, rss, n, smoothing)
                )

            v0 = x0[np.array(free)]
            bounds = [(lo_w, hi_w)] * free[0] + [(lo_n, hi_n)] * free[1]
            res = optimize.minimize(f, v0, method="L-BFGS-B", bounds=bounds)
            if res.fun <= f(v0):
                v = res.x
                x0 = np.array([v[0] if free[0] else x0[0], v[-1] if free[1] else x0[1]])
        om = dr.omegas(np.array(x0[0]), np.array(x0[1]))
        s = 1.0 / (1.0 + om)
        coef = s * z[:, j]
        fitted[:, j] = phi @ coef
        edf[j] = s.sum()
        rss = float(((Y[:, j] - fitted[:, j]) ** 2).sum())
        sigma2 = rss / max(n - edf[j], 1.0)
        posts.append(_Posterior(phi, coef, np.sqrt(sigma2 * s)))
        smooth.append(
            {
                "lambda": float(np.exp(x0[0])) if lam_pos.size else None,
                "lambda_null": float(np.exp(x0[1])) if dr.select else None,
            }
        )
    details = {
        "basis": dr.info["type"],
        "n_basis": int(phi.shape[1]),
        "criterion": smoothing,
        "select": dr.select,
        "smoothing": smooth,
    }
    return fitted, edf, posts, details


# --------------------------------------------------------------------------- GAM, tensor
class _Tensor:
    """Tensor-product smooth: basis, diagonal penalties and the REML/GCV criteria.

    Each margin is rotated so its penalty is diagonal with the constant function first;
    the tensor penalties are then diagonal too: S_λ = Σ_m λ_m diag(P_m) (+ λ_0 diag(N),
    the null-space penalty without the intercept, when ``select``).
    """

    def __init__(self, Xs: np.ndarray, Y: np.ndarray, ks: list[int], select: bool):
        n, p = Xs.shape
        margins, evals, nulls = [], [], []
        for m in range(p):
            B, S, _ = _marginal_basis(Xs[:, m], ks[m])
            Bv, e, n_null = _reparam_margin(B, S)
            margins.append(Bv)
            evals.append(e)
            nulls.append(n_null)
        X = _rowwise_kron(margins)
        K = X.shape[1]
        self.shape = [mm.shape[1] for mm in margins]
        grids = np.meshgrid(*[np.arange(s) for s in self.shape], indexing="ij")
        P = np.array([evals[m][grids[m]].ravel() for m in range(p)])  # (p, K)
        in_null = np.ones(K, bool)
        for m in range(p):
            in_null &= (grids[m] < nulls[m]).ravel()
        N = in_null.copy()
        N[0] = False  # the constant function is never penalised
        self.use_null = bool(select and N.any())
        G = X.T @ X
        self.G = 0.5 * (G + G.T)
        scale = float(np.trace(self.G)) / K  # penalties relative to data information
        self.n_wiggly = int(sum(P[m].any() for m in range(p)))
        pens = [P[m] * scale for m in range(p) if P[m].any()]
        if self.use_null:
            pens.append(N.astype(float) * scale)
        self.Pm = np.array(pens) if pens else np.zeros((0, K))
        self.q = self.Pm.shape[0]
        self.n_unpen = int((~(self.Pm > 0).any(axis=0)).sum()) if self.q else K
        self.jitter = 1e-10 * scale
        self.X, self.K, self.n = X, K, n
        self.b = X.T @ Y
        self.yy = (Y**2).sum(axis=0)

    def solve(self, rho: np.ndarray, j: int):
        s = (np.exp(rho)[:, None] * self.Pm).sum(0) if self.q else np.zeros(self.K)
        A = self.G + np.diag(s + self.jitter)
        try:
            L = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            return None
        beta = sla.cho_solve((L, True), self.b[:, j])
        Linv = sla.solve_triangular(L, np.eye(self.K), lower=True)
        return s, L, Linv, beta

    def reml(self, rho: np.ndarray, j: int) -> tuple[float, np.ndarray]:
        """(n − M_p) log(RSS + β'S_λβ) + log|X'X + S_λ| − log|S_λ|₊ and its gradient in ρ."""
        out = self.solve(rho, j)
        if out is None:
            return 1e300, np.zeros(self.q)
        s, L, Linv, beta = out
        n_eff = self.n - self.n_unpen
        D = max(self.yy[j] - self.b[:, j] @ beta, 1e-300 + 1e-14 * self.yy[j])
        pos = s > 0
        val = n_eff * math.log(D) + 2.0 * np.log(np.diag(L)).sum() - np.log(s[pos]).sum()
        dAinv = (Linv**2).sum(axis=0)
        grad = np.empty(self.q)
        for i in range(self.q):
            lp = math.exp(rho[i]) * self.Pm[i]
            grad[i] = (
                n_eff * (beta * lp * beta).sum() / D + (dAinv * lp).sum() - (lp[pos] / s[pos]).sum()
            )
        return float(val), grad

    def gcv(self, rho: np.ndarray, j: int) -> float:
        """n·RSS / (n − edf)²."""
        out = self.solve(rho, j)
        if out is None:
            return 1e300
        s, _, Linv, beta = out
        dAinv = (Linv**2).sum(axis=0)
        D = self.yy[j] - self.b[:, j] @ beta
        rss = max(D - (beta * s * beta).sum(), 0.0)
        edf = self.K - (dAinv * (s + self.jitter)).sum()
        return float(self.n * rss / max(self.n - edf, 1.0) ** 2)


def _basis_sizes(k: int | Sequence[int], p: int) -> list[int]:
    """The basis size of each of ``p`` inputs: ``k`` for all, or one per input, each >= 4."""
    if not isinstance(k, Iterable) or isinstance(k, str):
        if int(k) < 4:
            raise VOIInputError(f"gam: k must be at least 4 (cubic splines), got {k}")
        return [int(k)] * p
    ks = [int(v) for v in k]
    if len(ks) != p:
        raise VOIInputError(f"k: give one number or one per input ({p}), got {len(ks)}")
    if min(ks) < 4:
        raise VOIInputError(f"gam: k must be at least 4 (cubic splines), got {min(ks)}")
    return ks


def _fit_gam_tensor(
    Xs: np.ndarray, Y: np.ndarray, *, ks: list[int], smoothing: str, select: bool
) -> tuple[np.ndarray, np.ndarray, list[_Posterior], dict]:
    n = Xs.shape[0]
    d = Y.shape[1]
    T = _Tensor(Xs, Y, ks, select)
    q = T.q
    fitted = np.empty((n, d))
    edf = np.empty(d)
    posts: list[_Posterior] = []
    smooth: list[dict] = []
    grid = np.linspace(-12.0, 12.0, 25)
    bounds = [(-_RHO_BOUND, _RHO_BOUND)] * q
    for j in range(d):
        rho = np.zeros(0)
        if q:
            if smoothing == "reml":
                vals = [T.reml(np.full(q, g), j)[0] for g in grid]
            else:
                vals = [T.gcv(np.full(q, g), j) for g in grid]
            rho = np.full(q, grid[int(np.argmin(vals))])
            if smoothing == "reml":
                res = optimize.minimize(
                    T.reml, rho, args=(j,), jac=True, method="L-BFGS-B", bounds=bounds
                )
            else:
                res = optimize.minimize(T.gcv, rho, args=(j,), method="L-BFGS-B", bounds=bounds)
            if np.isfinite(res.fun) and res.fun <= min(vals):
                rho = res.x
        s, _, Linv, beta = T.solve(rho, j)
        dAinv = (Linv**2).sum(axis=0)
        fitted[:, j] = T.X @ beta
        edf[j] = T.K - (dAinv * (s + T.jitter)).sum()
        rss = float(((Y[:, j] - fitted[:, j]) ** 2).sum())
        sigma2 = rss / max(n - edf[j], 1.0)
        posts.append(_Posterior(T.X, beta, math.sqrt(sigma2) * Linv.T))
        lam = np.exp(rho)
        smooth.append(
            {
                "lambda": [float(v) for v in lam[: T.n_wiggly]],
                "lambda_null": float(lam[-1]) if T.use_null else None,
            }
        )
    details = {
        "basis": "tensor product of cubic B-splines",
        "n_basis": int(T.K),
        "margin_basis": T.shape,
        "criterion": smoothing,
        "select": T.use_null,
        "smoothing": smooth,
    }
    return fitted, edf, posts, details


def _fit_gam(
    Xs: np.ndarray,
    Y: np.ndarray,
    *,
    k: int | Sequence[int] | None = None,
    smoothing: str = "reml",
    select: bool = True,
    tensor_1d: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[_Posterior], dict]:
    """Penalised regression splines (see the module docstring).

    Options: ``k`` (basis functions per margin: one number for all, or one per input; default
    25 for one input, 7/6/4 per margin for 2/3/4 inputs), ``smoothing`` ("reml" or "gcv"),
    ``select`` (penalise the null space too, default True), ``tensor_1d`` (use the general
    tensor code for one input; for tests).
    """
    if smoothing not in ("reml", "gcv"):
        raise VOIInputError(f"smoothing must be 'reml' or 'gcv', got {smoothing!r}")
    p = Xs.shape[1]
    if p > 6:
        raise VOIInputError(
            f"gam: a tensor-product smooth of {p} inputs is too large; use method='gp' (the default "
            "for more than 4 inputs)"
        )
    if k is None:
        if p > 4:
            raise VOIInputError(
                f"gam: a tensor-product smooth of {p} inputs has k^{p} coefficients; give k "
                "explicitly (e.g. k=4) or use method='gp' (the default for more than 4 inputs)"
            )
        k = GAM_DEFAULT_K[p]
    ks = _basis_sizes(k, p)
    if p == 1 and not tensor_1d:
        return _fit_gam_1d(Xs[:, 0], Y, k=ks[0], smoothing=smoothing, select=select)
    return _fit_gam_tensor(Xs, Y, ks=ks, smoothing=smoothing, select=select)


# --------------------------------------------------------------------------- linear
def _fit_linear(
    Xs: np.ndarray, Y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[_Posterior], dict]:
    """Ordinary least squares with an intercept."""
    n, d = Y.shape
    H = np.column_stack([np.ones(n), Xs])
    Q, R = np.linalg.qr(H)
    keep = np.abs(np.diag(R)) > 1e-10 * np.abs(np.diag(R)).max()
    H = H[:, keep]
    Q, R = np.linalg.qr(H)
    beta = sla.solve_triangular(R, Q.T @ Y)
    fitted = H @ beta
    K = H.shape[1]
    Rinv = sla.solve_triangular(R, np.eye(K))
    posts = []
    for j in range(d):
        rss = float(((Y[:, j] - fitted[:, j]) ** 2).sum())
        sigma = math.sqrt(rss / max(n - K, 1))
        posts.append(_Posterior(H, beta[:, j], sigma * Rinv))
    return fitted, np.full(d, float(K)), posts, {"basis": "linear", "n_basis": K}


# --------------------------------------------------------------------------- GP
def _sq_dists(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    d = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2.0 * A @ B.T
    return np.maximum(d, 0.0)


_GP_PRIOR_LOG_ELL = [math.log(2.5), 1.0]


def _gp_neg_log_ml(theta: np.ndarray, D2: np.ndarray, lin: np.ndarray, y: np.ndarray):
    """Negative restricted log marginal likelihood (flat-prior constant mean) and gradient.

    theta = (log ℓ_1..ℓ_p, log σ_f², log σ_lin², log σ_n²); ``D2`` (p, m·m) squared
    differences per input, ``lin`` (m, m) the linear kernel, ``y`` standardised. An
    N(log 2.5, 1) prior on each log ℓ (inputs standardised) favours smooth functions and keeps
    the optimiser away from the interpolating optimum that a few hundred noisy rows allow.
    """
    p = D2.shape[0]
    m = y.shape[0]
    ell2 = np.exp(2.0 * theta[:p])
    sf2, sl2, sn2 = np.exp(theta[p:])
    E = np.exp(-0.5 * ((1.0 / ell2) @ D2)).reshape(m, m)
    Kse = sf2 * E
    K = Kse + sl2 * lin
    K[np.diag_indices(m)] += sn2 + 1e-8
    L, info = sla.lapack.dpotrf(K, lower=1)
    if info != 0:
        return 1e10, np.zeros_like(theta)
    logdet_half = np.log(np.diag(L)).sum()
    Kinv, info = sla.lapack.dpotri(L, lower=1)
    if info != 0:
        return 1e10, np.zeros_like(theta)
    Kinv = np.tril(Kinv) + np.tril(Kinv, -1).T
    Ki1 = Kinv.sum(axis=1)
    s = Ki1.sum()
    a = Kinv @ y - Ki1 * (Ki1 @ y) / s  # P y
    nll = 0.5 * y @ a + logdet_half + 0.5 * math.log(s)
    # dℓ/dθ = ½ tr(W dK/dθ) with W = a a' − P
    W = np.outer(a, a) - Kinv
    W += np.outer(Ki1, Ki1 / s)
    WK = (W * Kse).ravel()
    grad = np.empty_like(theta)
    grad[:p] = -0.5 * (D2 @ WK) / ell2
    grad[p] = -0.5 * WK.sum()
    grad[p + 1] = -0.5 * sl2 * (W.ravel() @ lin.ravel())
    grad[p + 2] = -0.5 * np.trace(W) * sn2
    dev = theta[:p] - _GP_PRIOR_LOG_ELL[0]
    nll += 0.5 * (dev**2).sum() / _GP_PRIOR_LOG_ELL[1] ** 2
    grad[:p] += dev / _GP_PRIOR_LOG_ELL[1] ** 2
    return nll, grad


def _fit_gp(
    Xs: np.ndarray,
    Y: np.ndarray,
    rng: np.random.Generator,
    *,
    n_hyper: int = 500,
    n_inducing: int = 500,
) -> tuple[np.ndarray, np.ndarray, list[_Posterior], dict]:
    """Gaussian process regression (see the module docstring).

    Options: ``n_hyper`` (rows used to fit the hyperparameters, default 500), ``n_inducing``
    (inducing points of the Nyström/subset-of-regressors posterior mean, default 500).
    """
    n, p = Xs.shape
    d = Y.shape[1]
    n_hyper = int(min(max(n_hyper, 10), n))
    n_inducing = int(min(max(n_inducing, 10), n))
    hyp_idx = rng.choice(n, n_hyper, replace=False) if n_hyper < n else np.arange(n)
    ind_idx = rng.choice(n, n_inducing, replace=False) if n_inducing < n else np.arange(n)
    Xh = Xs[hyp_idx]
    D2 = np.stack([((Xh[:, i, None] - Xh[None, :, i]) ** 2).ravel() for i in range(p)])
    lin = Xh @ Xh.T / p
    # starting values: the noise share of each response's variance estimated from nearest
    # neighbours in X (½ E(y_i − y_nn(i))² ≈ σ_n² for a smooth mean); starting near the noisy
    # solution avoids the interpolating local optimum of the marginal likelihood
    nn_rows = np.arange(n) if n <= 5000 else rng.choice(n, 5000, replace=False)
    _, nn = cKDTree(Xs[nn_rows]).query(Xs[nn_rows], k=2)
    nn_other = nn_rows[nn[:, 1]]
    Z = Xs[ind_idx]
    fitted = np.empty((n, d))
    edf = np.empty(d)
    posts: list[_Posterior] = []
    smooth: list[dict] = []
    bounds = [(math.log(0.05), math.log(50.0))] * p + [(-16.0, 3.0), (-16.0, 3.0), (-16.0, 1.0)]
    for j in range(d):
        y = Y[:, j]
        ym, ysd = y.mean(), y.std()
        if ysd <= 0:
            fitted[:, j] = ym
            edf[j] = 1.0
            posts.append(_Posterior(np.ones((n, 1)), np.array([ym]), np.zeros(1)))
            smooth.append({"lengthscale": None})
            continue
        noise = 0.5 * np.mean((y[nn_rows] - y[nn_other]) ** 2) / ysd**2
        noise = float(np.clip(noise, 1e-4, 0.98))
        th = np.concatenate(
            [np.full(p, math.log(2.0)), np.log([0.8 * (1 - noise), 0.2 * (1 - noise), noise])]
        )
        yh = (y[hyp_idx] - ym) / ysd
        best = optimize.minimize(
            _gp_neg_log_ml,
            th,
            args=(D2, lin, yh),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 150},
        )
        if np.isfinite(best.fun):
            th = best.x
        ell = np.exp(th[:p])
        sf2, sl2, sn2 = np.exp(th[p:]) * ysd**2
        # Nyström features: K_se(x, x') ≈ φ(x)'φ(x'), φ(x) = K_xZ V Λ^{-1/2}
        Zs = Z / ell
        Kzz = sf2 * np.exp(-0.5 * _sq_dists(Zs, Zs))
        ev, V = np.linalg.eigh(Kzz)
        keep = ev > 1e-9 * ev.max()
        Tm = V[:, keep] / np.sqrt(ev[keep])
        Fse = (sf2 * np.exp(-0.5 * _sq_dists(Xs / ell, Zs))) @ Tm
        Phi = np.column_stack([np.ones(n), math.sqrt(sl2 / p) * Xs, Fse])
        Kf = Phi.shape[1]
        prior_prec = np.ones(Kf)
        prior_prec[0] = 1e-12  # flat prior on the constant
        A = Phi.T @ Phi / sn2 + np.diag(prior_prec)
        A = 0.5 * (A + A.T)
        L = np.linalg.cholesky(A)
        beta = sla.cho_solve((L, True), Phi.T @ y / sn2)
        Linv = sla.solve_triangular(L, np.eye(Kf), lower=True)
        fitted[:, j] = Phi @ beta
        # edf = tr(A^{-1} Φ'Φ)/σ² = K − tr(A^{-1} diag(prior))
        edf[j] = Kf - ((Linv**2).sum(axis=0) * prior_prec).sum()
        posts.append(_Posterior(Phi, beta, Linv.T))
        smooth.append(
            {
                "lengthscale": [float(v) for v in ell],
                "signal_var": float(sf2),
                "linear_var": float(sl2),
                "noise_var": float(sn2),
            }
        )
    details = {
        "basis": "GP (squared-exponential ARD + linear), Nyström features",
        "n_hyper": n_hyper,
        "n_inducing": n_inducing,
        "criterion": "marginal likelihood",
        "smoothing": smooth,
    }
    return fitted, edf, posts, details


# --------------------------------------------------------------------------- public
_OPTIONS = {
    "gam": {"k", "smoothing", "select", "tensor_1d"},
    "gp": {"n_hyper", "n_inducing"},
    "linear": set(),
}


@single_threaded_blas
def fit_regression(
    X: np.ndarray,
    Y: np.ndarray,
    method: str = "auto",
    *,
    rng: RNGLike | None = None,
    **options: Any,
) -> RegressionFit:
    """Nonparametric regression of several responses on the same inputs.

    Parameters
    ----------
    X : array-like
        (n, k) inputs (a 1-D array is one input). Standardised internally; constant columns
        are ignored.
    Y : array-like
        (n, d) responses (a 1-D array is one response). Each response gets its own smoothing
        parameters / hyperparameters.
    method : {"auto", "gam", "gp", "linear"}
        ``"auto"``: ``"gam"`` for at most 4 inputs, ``"gp"`` otherwise.
    rng : numpy.random.Generator, SeedSequence or int, optional
        Used only by ``"gp"`` (the subsamples for the hyperparameters, the inducing points
        and the nearest-neighbour noise estimate), normalised by
        :func:`decisionmodel.rng.as_generator`; a GP fit without it raises that function's
        TypeError. The other methods draw nothing and ignore it.
    **options
        Method options. ``gam``: ``k`` (basis size per margin), ``smoothing`` ("reml" |
        "gcv"), ``select`` (bool, penalise the null space too; default True). ``gp``:
        ``n_hyper``, ``n_inducing``.

    Returns
    -------
    RegressionFit

    Raises
    ------
    VOIInputError
        For mismatched shapes, non-finite values, an unknown method or option.
    TypeError
        ``rng`` is None and the fit is a Gaussian process.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 2))
    >>> truth = np.column_stack([X[:, 0] * X[:, 1], 2 * X[:, 0]])
    >>> fit = fit_regression(X, truth + rng.normal(0, 0.1, (1000, 2)))   # tensor-product GAM
    >>> bool(np.abs(fit.fitted - truth).max() < 0.1)
    True
    >>> Y = truth + rng.normal(0, 0.1, (1000, 2))
    >>> fit_regression(X, Y, "linear").edf.tolist()
    [3.0, 3.0]
    """
    Xa = _as_2d(X, "X")
    Ya = _as_2d(Y, "Y")
    n = Xa.shape[0]
    if Ya.shape[0] != n:
        raise VOIInputError(f"X has {n} rows but Y has {Ya.shape[0]}")
    if n < 5:
        raise VOIInputError(f"regression needs at least 5 rows, got {n}")
    if method not in METHODS:
        raise VOIInputError(
            f"unknown regression method {method!r}; choose one of {', '.join(METHODS)}"
        )
    Xs, kept = _standardise(Xa)
    p = Xs.shape[1]
    if method == "auto":
        method = "gam" if p <= 4 else "gp"
    bad = set(options) - _OPTIONS[method]
    if bad:
        raise VOIInputError(
            f"unknown option(s) {', '.join(sorted(bad))} for method {method!r} "
            f"(allowed: {', '.join(sorted(_OPTIONS[method])) or 'none'})"
        )
    if p == 0:
        d = Ya.shape[1]
        mean = Ya.mean(axis=0)
        fitted = np.broadcast_to(mean, Ya.shape).copy()
        posts = []
        for j in range(d):
            sd = Ya[:, j].std(ddof=1) / math.sqrt(n)
            posts.append(_Posterior(np.ones((n, 1)), np.array([mean[j]]), np.array([sd])))
        resid_sd, r2, kidx, _ = _summaries(Ya, fitted, np.ones(d), Xs)
        return RegressionFit(
            fitted,
            np.ones(d),
            resid_sd,
            "constant",
            {
                "r_squared": r2.tolist(),
                "k_index": kidx.tolist(),
                "smoothing": [None] * d,
                "inputs_used": [],
                "basis": "constant",
            },
            posts,
        )
    if method == "gam":
        fitted, edf, posts, details = _fit_gam(Xs, Ya, **options)
    elif method == "gp":
        fitted, edf, posts, details = _fit_gp(Xs, Ya, _required_generator(rng), **options)
    else:
        fitted, edf, posts, details = _fit_linear(Xs, Ya)
    resid_sd, r2, kidx, _ = _summaries(Ya, fitted, edf, Xs)
    diagnostics = {
        "r_squared": r2.tolist(),
        "k_index": kidx.tolist(),
        "inputs_used": np.flatnonzero(kept).tolist(),
        **details,
    }
    return RegressionFit(fitted, edf, resid_sd, method, diagnostics, posts)
