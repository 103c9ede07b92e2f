"""Expected value of sample information (EVSI) from probabilistic-analysis draws.

EVSI(n) = E_X[max_d E(NB_d | X)] − max_d E(NB_d), with X the data of a proposed study
of size n (see :mod:`decisionmodel.voi.studies`). It is computed, like EVPI, in the
opportunity-loss form mean_X[max_d g_d(X) − g_{d*}(X)] on estimates g_d(X) of the
posterior-mean incremental net benefit. Four estimators:

``"regression"`` (Strong et al. 2015; R voi's default)
    Simulate one data set per PSA draw from that draw's parameters, reduce it to the
    design's summary statistics T(X) and regress incremental net benefit on T(X)
    (:func:`decisionmodel.voi.regression.fit_regression`). The fitted values estimate
    E(INB | X). Standard error: redraws of the fitted values from the regression's
    posterior (``sample_fitted``).
``"is"`` (Menzies 2016; voi ``method="is"``)
    Fit the EVPPI regression of INB on the study's parameters; simulate S data sets;
    for each, weight all N draws by the likelihood (self-normalised importance
    sampling, leaving out the draw that generated the data set) and average the
    fitted values. Cost O(S·N) likelihood terms, done in blocks.
``"mm"`` (moment matching, Heath, Manolopoulou & Baio 2018/2019; voi ``method="mm"``)
    Shrink the EVPPI fitted values towards their mean so that their (co)variance
    equals the preposterior variance of the posterior mean, Var(INB) − E_X Var(INB | X),
    estimated from Q nested posterior analyses at prior quantiles of the parameters:
    with a ``model`` function and a posterior sampler (built in for conjugate designs),
    or — without a model — by importance-reweighting the EVPPI fitted values. Several
    n: Q sample sizes on a √-spaced grid and the fit Var_red(n) = V·n/(n + β).
``"gaussian"`` (Jalal & Alarid-Escudero 2018; dampack ``calc_evsi``)
    Fit a spline metamodel of INB on the study's parameters and replace each basis
    function b by v·b + (1 − v)·mean(b), v = √(n/(n + n0)), with n0 the prior effective
    sample size of each parameter: given (``n0=``), known for conjugate designs
    (Beta a + b, normal sd²/σ0²), or estimated per n by regressing the parameter on the
    simulated summary statistics, n0 = n·(Var θ / Var E[θ|X] − 1).

References: Strong M, Oakley JE, Brennan A, Breeze P (2015) MDM 35:570; Menzies NA (2016)
MDM 36:308; Heath A, Manolopoulou I, Baio G (2018) MDM 38:163 and (2019) MDM 39:346;
Jalal H, Alarid-Escudero F (2018) MDM 38:174.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize

from decisionmodel.exceptions import VOIInputError
from decisionmodel.rng import RNGLike
from decisionmodel.voi.inputs import (
    NetBenefit,
    _required_generator,
    align_draws,
    as_inputs,
    as_net_benefit,
)
from decisionmodel.voi.studies import StudyDesign, as_mapping, get_study

__all__ = ["evsi"]

METHODS = ("regression", "is", "mm", "gaussian")
_ALIASES = {
    "gam": "regression",
    "npreg": "regression",
    "importance": "is",
    "moment_matching": "mm",
    "ga": "gaussian",
}
_COMMON_OPTIONS = {"regression", "regression_options", "se_draws", "study_args"}
_METHOD_OPTIONS = {
    "regression": set(),
    "is": {"nsim", "outcome", "leave_one_out", "block"},
    "mm": {"Q", "model", "niter", "posterior"},
    "gaussian": {"n0", "knots"},
}
#: Largest (data sets × draws) block of likelihood values held at once.
_BLOCK_ELEMENTS = 4_000_000


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class _Outcomes:
    """Incremental outcomes regressed on (``Y``, N × m) and the linear map to INB.

    Net benefit: Y holds INB_d = NB_d − NB_1 for every WTP (m = n_wtp·(D−1)) and M is
    the identity. Costs and effects: Y = (−ΔC, ΔE) (m = 2(D−1)), and INB at WTP k is
    −ΔC + k·ΔE — one regression serves every WTP (as voi does for costs and effects).
    """

    Y: np.ndarray
    M: np.ndarray
    n_wtp: int
    n_strategies: int
    cost_effect: bool

    @property
    def n_comp(self) -> int:
        return self.n_strategies - 1

    def inb(self, fitted: np.ndarray) -> np.ndarray:
        """(..., N, m) → (..., n_wtp, D−1, N)."""
        z = fitted @ self.M
        z = z.reshape(*z.shape[:-1], self.n_wtp, self.n_comp)
        return np.ascontiguousarray(np.moveaxis(z, -3, -1))

    def block(self, w: int) -> np.ndarray:
        """The (m, D−1) columns of M giving INB at the w-th WTP."""
        return self.M[:, w * self.n_comp : (w + 1) * self.n_comp]

    def from_model(self, out: Any, size: int) -> np.ndarray:
        """Convert a model function's output for ``size`` draws to Y columns (size, m)."""
        if isinstance(out, Mapping) or (isinstance(out, tuple) and len(out) == 2):
            c, e = (out["costs"], out["effects"]) if isinstance(out, Mapping) else out
            c = np.asarray(c, dtype=float)
            e = np.asarray(e, dtype=float)
            if not self.cost_effect:
                raise VOIInputError(
                    "model returned costs and effects but net benefit was analysed; return net benefit"
                )
            if c.shape != (size, self.n_strategies) or e.shape != c.shape:
                raise VOIInputError(
                    f"model: costs and effects must have shape ({size}, {self.n_strategies})"
                )
            return np.column_stack([-(c[:, 1:] - c[:, :1]), e[:, 1:] - e[:, :1]])
        nb = np.asarray(out, dtype=float)
        if self.cost_effect or self.n_wtp != 1:
            raise VOIInputError(
                "model must return (costs, effects) when costs/effects or a WTP grid are analysed"
            )
        if nb.shape != (size, self.n_strategies):
            raise VOIInputError(
                f"model must return net benefit of shape ({size}, {self.n_strategies}), got {nb.shape}"
            )
        return nb[:, 1:] - nb[:, :1]


def _outcomes(net: NetBenefit, nb: Any, costs: Any, effects: Any) -> _Outcomes:
    n_wtp, D, N = net.values.shape
    if isinstance(nb, xr.Dataset):
        costs, effects = nb["cost"], nb["effect"]
    if costs is not None:
        # NB at WTP 0 is −C and at WTP 1 is E − C: recover C and E in canonical layout.
        ce = as_net_benefit(costs=costs, effects=effects, wtp=[0.0, 1.0]).values
        minus_c, e = ce[0], ce[1] - ce[0]
        Y = np.concatenate([minus_c[1:] - minus_c[:1], e[1:] - e[:1]]).T
        assert net.wtp is not None  # costs and effects come with a WTP grid
        M = np.zeros((2 * (D - 1), n_wtp * (D - 1)))
        for w, k in enumerate(net.wtp):
            for d in range(D - 1):
                M[d, w * (D - 1) + d] = 1.0
                M[D - 1 + d, w * (D - 1) + d] = k
        return _Outcomes(np.ascontiguousarray(Y), M, n_wtp, D, True)
    inc = net.values[:, 1:, :] - net.values[:, :1, :]
    Y = inc.reshape(n_wtp * (D - 1), N).T
    return _Outcomes(np.ascontiguousarray(Y), np.eye(n_wtp * (D - 1)), n_wtp, D, False)


def _loss(inb: np.ndarray) -> np.ndarray:
    """Mean opportunity loss from INB vs strategy 1, shape (..., n_wtp, D−1, N) → (..., n_wtp).

    mean_i [max(0, max_d g_id) − g_{i d*}], d* maximising the mean (g ≡ 0 for strategy 1).
    """
    best = np.maximum(inb[..., 0, :] if inb.shape[-2] == 1 else inb.max(axis=-2), 0.0)
    means = inb.mean(axis=-1)  # (..., n_wtp, D−1)
    d_star = means.argmax(axis=-1)
    top = np.take_along_axis(means, d_star[..., None], axis=-1)[..., 0]
    chosen_mean = np.where(top > 0, top, 0.0)
    return best.mean(axis=-1) - chosen_mean


def _per_set_loss(inb: np.ndarray) -> np.ndarray:
    """Per-data-set opportunity loss, (n_wtp, D−1, S) → (n_wtp, S)."""
    best = np.maximum(inb.max(axis=-2), 0.0)
    means = inb.mean(axis=-1)
    d_star = means.argmax(axis=-1)
    chosen = np.take_along_axis(inb, d_star[:, None, None], axis=1)[:, 0, :]
    chosen = np.where((means.max(axis=-1) > 0)[:, None], chosen, 0.0)
    return best - chosen


def _evsi_draws(
    out: _Outcomes, draws: np.ndarray, transform: Callable[[np.ndarray], np.ndarray] | None = None
) -> np.ndarray:
    """EVSI for each draw of fitted values (B, N, m) → (B, n_wtp), in blocks to bound memory."""
    B, N, _ = draws.shape
    res = np.empty((B, out.n_wtp))
    step = max(1, 2_000_000 // max(1, N * out.n_wtp * out.n_comp))
    for s in range(0, B, step):
        block = draws[s : s + step]
        inb = out.inb(block) if transform is None else transform(block)
        res[s : s + step] = _loss(inb)
    return res


# --------------------------------------------------------------------------- helpers


def _sample_sizes(n: Any, design: StudyDesign) -> np.ndarray:
    if isinstance(n, (str, bytes)):
        raise VOIInputError(f"n must be a positive integer or a list of them, got {n!r}")
    arr = np.atleast_1d(np.asarray(n, dtype=object))
    if arr.ndim != 1 or arr.size == 0:
        raise VOIInputError("n must be a positive integer or a non-empty 1-D list of them")
    ns = np.array([design.check_n(v) for v in arr], dtype=int)
    if len(np.unique(ns)) != len(ns):
        raise VOIInputError(f"sample sizes repeat: {ns.tolist()}")
    return ns


def _fit(
    X: np.ndarray,
    Y: np.ndarray,
    regression: str,
    options: Mapping[str, Any],
    rng: np.random.Generator,
):
    from decisionmodel.voi import regression as _reg  # imported late: a sibling module

    return _reg.fit_regression(X, Y, method=regression, rng=rng, **dict(options))


def _pars_of_interest(pars: Any, design: StudyDesign, df: pd.DataFrame, method: str) -> list[str]:
    if pars is None:
        chosen = list(design.pars)
    else:
        chosen = [pars] if isinstance(pars, str) else list(pars)
    if not chosen:
        raise VOIInputError(
            f"method {method!r} needs the parameters the study informs: give pars=[...]"
        )
    bad = [p for p in chosen if not isinstance(p, str)]
    if bad:
        raise VOIInputError(f"pars must be column names, got {bad!r}")
    unknown = [p for p in chosen if p not in df.columns]
    if unknown:
        raise VOIInputError(
            f"unknown parameter name(s) {', '.join(unknown)} (available: {', '.join(df.columns)})"
        )
    return chosen


def _psd_sqrt(A: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Symmetric square root (or pseudo-inverse square root) with negative eigenvalues clipped."""
    A = (A + A.T) / 2
    vals, vecs = np.linalg.eigh(A)
    tol = max(vals.max(initial=0.0), 0.0) * 1e-10
    vals = np.where(vals > tol, vals, 0.0)
    if inverse:
        root = np.zeros_like(vals)
        root[vals > 0] = 1 / np.sqrt(vals[vals > 0])
    else:
        root = np.sqrt(vals)
    return (vecs * root) @ vecs.T


def _weighted_cov(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Covariance of the rows of X (N, m) under normalised weights w (N,)."""
    mean = w @ X
    Z = X - mean
    return (Z * w[:, None]).T @ Z


def _normalised_weights(ll: np.ndarray) -> np.ndarray:
    """Row-normalised exp(ll) for an (S, N) log-likelihood block; rows with no finite value → NaN."""
    top = ll.max(axis=1, keepdims=True)
    ok = np.isfinite(top[:, 0])
    w = np.zeros_like(ll)
    w[ok] = np.exp(ll[ok] - top[ok])
    w[ok] /= w[ok].sum(axis=1, keepdims=True)
    w[~ok] = np.nan
    return w


# --------------------------------------------------------------------------- methods


def _evsi_regression(ctx: _Context) -> tuple[np.ndarray, np.ndarray, dict]:
    value = np.empty((len(ctx.ns), ctx.out.n_wtp))
    se = np.full_like(value, np.nan)
    diag: dict[str, list] = {"regression": [], "edf": []}
    for j, n in enumerate(ctx.ns):
        T = ctx.design.simulate_summary(ctx.df, int(n), ctx.rng)
        fit = _fit(T, ctx.out.Y, ctx.regression, ctx.regression_options, ctx.rng)
        value[j] = _loss(ctx.out.inb(np.asarray(fit.fitted, dtype=float)))
        if ctx.se:
            se[j] = _evsi_draws(
                ctx.out, np.asarray(fit.sample_fitted(ctx.se_draws, ctx.rng), dtype=float)
            ).std(axis=0, ddof=1)
        diag["regression"].append(fit.method)
        diag["edf"].append(np.asarray(fit.edf, dtype=float).tolist())
    return value, se, diag


def _evppi_fit(ctx: _Context, pars: list[str]):
    return _fit(
        ctx.df[pars].to_numpy(dtype=float),
        ctx.out.Y,
        ctx.regression,
        ctx.regression_options,
        ctx.rng,
    )


def _evsi_is(ctx: _Context) -> tuple[np.ndarray, np.ndarray, dict]:
    design, df, N = ctx.design, ctx.df, len(ctx.df)
    if not design.has_likelihood:
        raise VOIInputError(
            f"method 'is' needs the likelihood of study {design.name!r} (custom_study(..., loglik=f))"
        )
    opts = ctx.options
    outcome = opts.get("outcome", "fitted")
    if outcome not in ("fitted", "nb"):
        raise VOIInputError(
            f"outcome must be 'fitted' (EVPPI fitted values, as voi) or 'nb' (Menzies), got {outcome!r}"
        )
    S = int(opts.get("nsim", min(N, 5000)))
    if not 2 <= S <= N:
        raise VOIInputError(f"nsim must be between 2 and the number of draws ({N}), got {S}")
    loo = bool(opts.get("leave_one_out", True))
    pars = _pars_of_interest(ctx.pars, design, df, "is")
    if outcome == "fitted":
        y = np.asarray(_evppi_fit(ctx, pars).fitted, dtype=float)
    else:
        y = ctx.out.Y
    y1 = np.column_stack([y, np.ones(N)])
    step = int(opts.get("block", max(1, _BLOCK_ELEMENTS // N)))
    value = np.empty((len(ctx.ns), ctx.out.n_wtp))
    se = np.full_like(value, np.nan)
    ess_med, ess_min = [], []
    for j, n in enumerate(ctx.ns):
        rows = np.sort(ctx.rng.choice(N, size=S, replace=False)) if S < N else np.arange(N)
        data = design.simulate(df.iloc[rows].reset_index(drop=True), int(n), ctx.rng)
        post = np.empty((S, y.shape[1]))
        ess = np.empty(S)
        for s in range(0, S, step):
            idx = np.arange(s, min(S, s + step))
            r = np.arange(len(idx))
            ll = np.asarray(
                design.loglik(data.iloc[idx].reset_index(drop=True), df, int(n)), dtype=float
            )
            if not (ll.flags.writeable and ll.flags.owndata):
                ll = ll.copy()  # modified in place below
            if ll.shape != (len(idx), N):
                raise VOIInputError(
                    f"study {design.name!r}: loglik returned shape {ll.shape}, expected {(len(idx), N)}"
                )
            gen = ll[r, rows[idx]].copy()
            if loo:
                ll[r, rows[idx]] = -np.inf
            top = ll.max(axis=1)
            alone = ~np.isfinite(top)  # only the generating draw supports the data: keep it
            if alone.any():
                ll[r[alone], rows[idx][alone]] = gen[alone]
                top[alone] = ll[alone].max(axis=1)
            if not np.isfinite(top).all():
                raise VOIInputError(
                    "importance sampling: a simulated data set has zero likelihood under every draw"
                )
            ll -= top[:, None]
            np.exp(ll, out=ll)  # unnormalised weights
            sums = ll @ y1  # weighted sums of the outcomes and (last column) of the weights
            post[idx] = sums[:, :-1] / sums[:, -1:]
            ess[idx] = sums[:, -1] ** 2 / np.einsum("ij,ij->i", ll, ll)
        inb = ctx.out.inb(post)
        value[j] = _loss(inb)
        if ctx.se:
            se[j] = _per_set_loss(inb).std(axis=1, ddof=1) / np.sqrt(S)
        ess_med.append(float(np.median(ess)))
        ess_min.append(float(ess.min()))
    return (
        value,
        se,
        {"nsim": S, "ess_median": ess_med, "ess_min": ess_min, "outcome": outcome, "pars": pars},
    )


def _quantile_points(
    df: pd.DataFrame, pars: list[str], Q: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Q rows: random PSA rows with the study parameters set to permuted prior quantiles (voi)."""
    base = df.iloc[rng.choice(len(df), size=Q, replace=len(df) < Q)].reset_index(drop=True).copy()
    probs = np.arange(1, Q + 1) / (Q + 1)
    for p in pars:
        q = np.quantile(df[p].to_numpy(), probs, method="interpolated_inverted_cdf")
        base[p] = rng.permutation(q)
    return base


def _fit_beta(var_red: np.ndarray, n_fit: np.ndarray, base: float) -> float:
    """Least-squares β in Var_red(n) = base · n/(n + β) (Heath et al. 2019), β ≥ 0."""
    if base == 0 or np.allclose(var_red, 0):
        return 0.0

    def sse(t: float) -> float:
        return float(np.sum((var_red - base * n_fit / (n_fit + np.exp(t))) ** 2))

    lo, hi = np.log(n_fit.min()) - 12.0, np.log(n_fit.max()) + 12.0
    res = optimize.minimize_scalar(sse, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


def _evsi_mm(ctx: _Context) -> tuple[np.ndarray, np.ndarray, dict]:
    design, df, out, rng = ctx.design, ctx.df, ctx.out, ctx.rng
    opts = ctx.options
    Q = int(opts.get("Q", 50))
    if Q < 3:
        raise VOIInputError(f"Q must be >= 3, got {Q}")
    niter = int(opts.get("niter", 1000))
    model = opts.get("model")
    mode = opts.get("posterior", "auto")
    if mode == "auto":
        mode = "model" if model is not None else "importance"
    if mode not in ("model", "importance"):
        raise VOIInputError(f"posterior must be 'auto', 'model' or 'importance', got {mode!r}")
    if mode == "model":
        if model is None or not callable(model):
            raise VOIInputError(
                "moment matching with posterior='model' needs model=f(params_frame) -> net benefit"
            )
        if not design.has_posterior:
            raise VOIInputError(
                f"study {design.name!r} has no posterior sampler; give custom_study(..., posterior=f) "
                "or use posterior='importance'"
            )
    elif not design.has_likelihood:
        raise VOIInputError(
            f"moment matching without a model re-weights the PSA by the likelihood, which study {design.name!r} lacks"
        )
    pars = _pars_of_interest(ctx.pars, design, df, "mm")
    fit = _evppi_fit(ctx, pars)
    mu = np.asarray(fit.fitted, dtype=float)
    m = mu.shape[1]
    mbar = mu.mean(axis=0)
    V_mu = np.atleast_2d(np.cov(mu, rowvar=False))
    V_total = np.atleast_2d(np.cov(out.Y, rowvar=False))
    ns = ctx.ns
    n_fit = (
        np.round(np.linspace(np.sqrt(ns.min()), np.sqrt(ns.max()), Q) ** 2).astype(int)
        if len(ns) > 1
        else np.full(Q, ns[0])
    )
    n_fit = np.maximum(n_fit, design.min_n)
    points = _quantile_points(df, list(design.pars) or pars, Q, rng)
    var_red = np.empty((Q, m, m))
    for q in range(Q):
        nq = int(n_fit[q])
        data = design.simulate(points.iloc[[q]].reset_index(drop=True), nq, rng)
        if mode == "model":
            assert model is not None  # checked above
            post = design.posterior(data, nq, niter, rng, df)
            frame = df.iloc[rng.integers(len(df), size=niter)].reset_index(drop=True).copy()
            for col in post.columns:
                frame[col] = np.asarray(post[col], dtype=float)
            y_post = out.from_model(model(frame), niter)
            var_red[q] = V_total - np.atleast_2d(np.cov(y_post, rowvar=False))
        else:
            w = _normalised_weights(
                np.array(design.loglik(data, df, nq), dtype=float).reshape(1, -1)
            )[0]
            var_red[q] = V_mu - _weighted_cov(w, mu)
    if len(ns) == 1:
        sigma_x = [var_red.mean(axis=0)]
        betas = None
    else:
        betas = np.zeros((m, m))
        for a in range(m):
            for b in range(a, m):
                betas[a, b] = betas[b, a] = _fit_beta(
                    var_red[:, a, b], n_fit.astype(float), V_mu[a, b]
                )
        sigma_x = [V_mu * n / (n + betas) for n in ns]
    shrink = []
    for j in range(len(ns)):
        per_w = []
        for w in range(out.n_wtp):
            Mw = out.block(w)
            Vw = Mw.T @ V_mu @ Mw
            Sw = Mw.T @ sigma_x[j] @ Mw
            per_w.append(_psd_sqrt(Vw, inverse=True) @ _psd_sqrt(Sw))
        shrink.append(per_w)

    def rescaled(fitted: np.ndarray, j: int) -> np.ndarray:
        """(..., N, m) → INB (..., n_wtp, D−1, N) shrunk for the j-th sample size."""
        blocks = []
        for w in range(out.n_wtp):
            Mw = out.block(w)
            centre = mbar @ Mw
            blocks.append(centre + (fitted @ Mw - centre) @ shrink[j][w])
        z = np.stack(blocks, axis=-3)  # (..., n_wtp, N, D−1)
        return np.ascontiguousarray(np.swapaxes(z, -1, -2))

    value = np.empty((len(ns), out.n_wtp))
    se = np.full_like(value, np.nan)
    draws = np.asarray(fit.sample_fitted(ctx.se_draws, rng), dtype=float) if ctx.se else None
    for j in range(len(ns)):
        value[j] = _loss(rescaled(mu, j))
        if draws is not None:
            se[j] = _evsi_draws(out, draws, functools.partial(rescaled, j=j)).std(axis=0, ddof=1)
    diag = {"Q": Q, "posterior": mode, "pars": pars, "evppi": _loss(out.inb(mu)).tolist()}
    if betas is not None:
        diag["beta"] = betas.tolist()
    return value, se, diag


def _ns_basis(x: np.ndarray, knots: int) -> np.ndarray:
    """Natural cubic spline basis (N, knots) with a constant column: [1, z, N_1..N_{K−2}].

    z is x standardised; knots at quantiles (ESL §5.2.1 truncated-power form).
    """
    sd = x.std()
    z = (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)
    kn = np.unique(np.quantile(z, np.linspace(0.05, 0.95, knots)))
    cols = [np.ones_like(z), z]
    if len(kn) >= 3:

        def d(k: int) -> np.ndarray:
            return (np.clip(z - kn[k], 0, None) ** 3 - np.clip(z - kn[-1], 0, None) ** 3) / (
                kn[-1] - kn[k]
            )

        last = d(len(kn) - 2)
        cols += [d(k) - last for k in range(len(kn) - 2)]
    return np.column_stack(cols)


def _design_matrix(margins: list[np.ndarray]) -> np.ndarray:
    """Tensor product of the margins (≤ 2 parameters), else an additive model."""
    if len(margins) == 1:
        return margins[0]
    if len(margins) == 2:
        a, b = margins
        return (a[:, :, None] * b[:, None, :]).reshape(len(a), -1)
    return np.column_stack([margins[0][:, :1]] + [mg[:, 1:] for mg in margins])


def _shrunk(margins: list[np.ndarray], v: Sequence[float]) -> np.ndarray:
    """GA preposterior design matrix: each margin's basis b → v·b + (1 − v)·mean(b)."""
    return _design_matrix(
        [vj * mg + (1 - vj) * mg.mean(axis=0) for mg, vj in zip(margins, v, strict=True)]
    )


def _lstsq(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares: coefficients, (XᵀX)⁻¹ and residual variances per column."""
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
    resid = Y - X @ beta
    dof = max(1, X.shape[0] - np.linalg.matrix_rank(X))
    return beta, np.linalg.pinv(X.T @ X), (resid**2).sum(axis=0) / dof


def _estimate_n0(ctx: _Context, pars: list[str], n: int, knots: int) -> dict[str, float]:
    """n0 = n·(Var θ / Var E[θ|X] − 1), E[θ|X] by a spline regression on the study summary."""
    T = ctx.design.simulate_summary(ctx.df, n, ctx.rng)
    X = _design_matrix([_ns_basis(T[:, k], knots) for k in range(T.shape[1])])
    theta = ctx.df[pars].to_numpy(dtype=float)
    beta, _, _ = _lstsq(X, theta)
    fitted = X @ beta
    out = {}
    for k, p in enumerate(pars):
        ratio = fitted[:, k].var() / theta[:, k].var() if theta[:, k].var() > 0 else 0.0
        ratio = min(max(ratio, 1e-12), 1 - 1e-12)
        out[p] = n * (1 / ratio - 1)
    return out


def _evsi_gaussian(ctx: _Context) -> tuple[np.ndarray, np.ndarray, dict]:
    design, df, out = ctx.design, ctx.df, ctx.out
    pars = _pars_of_interest(ctx.pars, design, df, "gaussian")
    knots = int(ctx.options.get("knots", 5))
    if knots < 2:
        raise VOIInputError(f"knots must be >= 2, got {knots}")
    margins = [_ns_basis(df[p].to_numpy(dtype=float), knots) for p in pars]
    X = _design_matrix(margins)
    beta, xtx_inv, s2 = _lstsq(X, out.Y)
    n0_given = ctx.options.get("n0")
    n0_fixed: dict[str, float] | None
    if isinstance(n0_given, str):
        if n0_given != "estimate":
            raise VOIInputError(f"n0 must be a number, a mapping or 'estimate', got {n0_given!r}")
        n0_fixed, source = None, "estimated by regression on the study summary"
    elif n0_given is not None:
        n0_fixed = as_mapping(n0_given, pars)
        if any(not np.isfinite(v) or v < 0 for v in n0_fixed.values()):
            raise VOIInputError(f"n0 must be >= 0, got {n0_given!r}")
        source = "given"
    else:
        known = design.prior_n0(df)
        n0_fixed = (
            {p: known[p] for p in pars}
            if known is not None and all(p in known for p in pars)
            else None
        )
        source = (
            "conjugate prior"
            if n0_fixed is not None
            else "estimated by regression on the study summary"
        )
    value = np.empty((len(ctx.ns), out.n_wtp))
    se = np.full_like(value, np.nan)
    n0_used = []
    beta_draws = None
    if ctx.se:
        L = np.linalg.cholesky(
            xtx_inv + 1e-12 * np.trace(xtx_inv) / len(xtx_inv) * np.eye(len(xtx_inv))
        )
        z = ctx.rng.standard_normal((ctx.se_draws, X.shape[1], out.Y.shape[1]))
        beta_draws = beta[None] + (L @ z) * np.sqrt(s2)[None, None, :]
    for j, n in enumerate(ctx.ns):
        n0 = n0_fixed if n0_fixed is not None else _estimate_n0(ctx, pars, int(n), knots)
        n0_used.append(n0)
        v = [np.sqrt(n / (n + n0[p])) for p in pars]
        Xs = _shrunk(margins, v)
        value[j] = _loss(out.inb(Xs @ beta))
        if beta_draws is not None:
            se[j] = _evsi_draws(out, Xs @ beta_draws).std(axis=0, ddof=1)
    n0_attr = n0_used[0] if n0_fixed is not None else {p: [d[p] for d in n0_used] for p in pars}
    return value, se, {"pars": pars, "n0": n0_attr, "n0_source": source}


@dataclass
class _Context:
    design: StudyDesign
    df: pd.DataFrame
    out: _Outcomes
    ns: np.ndarray
    rng_source: RNGLike | None
    se: bool
    se_draws: int
    regression: str
    regression_options: Mapping[str, Any]
    pars: Any
    options: Mapping[str, Any]

    @functools.cached_property
    def rng(self) -> np.random.Generator:
        """The generator of ``rng_source``, made when a method first draws (one for the run);
        ``None`` raises :func:`~decisionmodel.rng.as_generator`'s TypeError then."""
        return _required_generator(self.rng_source)


_DISPATCH = {
    "regression": _evsi_regression,
    "is": _evsi_is,
    "mm": _evsi_mm,
    "gaussian": _evsi_gaussian,
}


def evsi(
    nb: Any = None,
    inputs: Any = None,
    *,
    study: Any,
    n: int | Sequence[int],
    method: str = "regression",
    pars: str | Sequence[str] | None = None,
    costs: Any = None,
    effects: Any = None,
    wtp: Any = None,
    rng: RNGLike | None = None,
    se: bool = True,
    **options: Any,
) -> xr.Dataset:
    """Expected value of sample information of a proposed study, for one or more sizes.

    Parameters
    ----------
    nb : DataArray, DataFrame, 2-D array or outcomes Dataset
        Net-benefit draws (draws × strategies; the first strategy is the comparator of
        the incremental regressions), or engine outcomes with ``wtp``.
    inputs : Dataset, DataFrame or mapping
        The parameter draws behind ``nb`` (same number of rows). Labelled draws on both
        sides (an xarray ``sample`` coordinate, a DataFrame index other than the default
        ``RangeIndex``) are matched by label, otherwise by position (see
        :func:`~decisionmodel.voi.inputs.align_draws`).
    study : StudyDesign, callable or str
        The proposed study: a design from :mod:`decisionmodel.voi.studies` (e.g.
        ``binary_two_arm(p1="p_t1", p2="p_t2")``), a data-generating function
        ``f(inputs, n, rng)`` returning summary statistics per draw, or a built-in name
        (``"binary"``, ``"trial_binary"``, ``"normal_known"``, ``"survival_two_arm"``)
        whose columns are given by ``pars`` and settings by ``study_args``.
    n : int or sequence of int
        Sample size(s) (per arm for two-arm designs). One result per value.
    method : {"regression", "is", "mm", "gaussian"}
        Estimator; see the module docstring.
    pars : str or sequence of str, optional
        Parameters the study informs (default: the design's columns): the regressors of
        the EVPPI fit used by ``"is"``, ``"mm"`` and ``"gaussian"``. With a design name,
        the design's columns in order.
    costs, effects, wtp : optional
        Cost and effect draws with a WTP grid, instead of ``nb``.
    rng : numpy.random.Generator, SeedSequence or int
        Random numbers for the simulated data sets and the standard errors, normalised by
        :func:`decisionmodel.rng.as_generator`. Required whenever the method draws: always
        for ``"regression"``, ``"is"`` and ``"mm"``; for ``"gaussian"`` when ``se=True`` or
        ``n0`` is estimated. Nothing defaults to a fixed seed.
    se : bool
        Compute standard errors (regression-parameter uncertainty for ``"regression"``,
        ``"mm"`` and ``"gaussian"``; Monte Carlo error over data sets for ``"is"``).
    **options
        All methods: ``regression`` ("auto", "gam", "gp", "linear") and
        ``regression_options`` (dict) for :func:`fit_regression`; ``se_draws`` (200);
        ``study_args`` (dict, settings of a named design, e.g. ``{"sd": 0.3}``).
        ``"is"``: ``nsim`` (data sets, default min(N, 5000)), ``outcome`` ("fitted":
        EVPPI fitted values as voi, or "nb": raw net benefit as Menzies),
        ``leave_one_out`` (True), ``block`` (data sets per likelihood block).
        ``"mm"``: ``Q`` (50), ``model`` (f(params_frame) → net benefit (rows × strategies)
        or (costs, effects)), ``niter`` (1000 posterior draws per analysis), ``posterior``
        ("auto": "model" with a model, else "importance").
        ``"gaussian"``: ``n0`` (number, {par: n0} or "estimate"; default: the design's
        conjugate value, else estimated), ``knots`` (5 per parameter).

    Returns
    -------
    xarray.Dataset
        ``value`` and ``se`` over ``n`` (and ``wtp`` with a WTP grid). Attributes:
        ``quantity`` ("evsi"), ``method``, ``samples``, ``study``, ``strategies`` and
        method diagnostics (``diagnostics``).

    Raises
    ------
    VOIInputError
        Unknown method, design, parameter or option; n not a positive integer; a method
        needing a likelihood, model or posterior the design lacks; outcomes and inputs of
        different numbers of draws, or labelled with different sample labels.
    TypeError
        ``rng`` is None and the method draws (see ``rng``).

    See Also
    --------
    evpi, evppi : The value of perfect information on every parameter, or on some.
    enbs : The expected net benefit of sampling: the population EVSI less the study's cost.
    pop_voi : A per-person value of information scaled to the population.
    binary, binary_two_arm, normal_mean, survival_two_arm, custom_study : The study designs.

    Examples
    --------
    Normal–normal study (the reference case ``evsi_normal``): θ ~ N(0.04, 0.03²),
    INB = 20000·θ − 600, data X̄ ~ N(θ, 0.3²/n), so EVSI(n) = L(200, 600·√(n/(n+100))).

    >>> import numpy as np, pandas as pd
    >>> from decisionmodel.voi.studies import normal_mean
    >>> rng = np.random.default_rng(3)
    >>> theta = rng.normal(0.04, 0.03, 4000)
    >>> nb = pd.DataFrame({"soc": np.zeros(4000), "new": 20000 * theta - 600})
    >>> res = evsi(nb, {"theta": theta}, study=normal_mean("theta", sd=0.3), n=[50, 1000],
    ...            method="gaussian", rng=1)
    >>> res["value"].dims, bool(50 < res["value"].sel(n=50) < 75)   # truth 60.6
    (('n',), True)

    The same with R voi's vocabulary and the default regression method:

    >>> res = evsi(nb, {"theta": theta}, study="normal_known", pars="theta", n=50,
    ...            study_args={"sd": 0.3}, rng=2)
    >>> bool(45 < float(res["value"][0]) < 80), res.attrs["method"]
    (True, 'regression')
    """
    method = _ALIASES.get(method, method) if isinstance(method, str) else method
    if method not in METHODS:
        raise VOIInputError(f"unknown EVSI method {method!r}; choose one of {', '.join(METHODS)}")
    allowed = _COMMON_OPTIONS | _METHOD_OPTIONS[method]
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise VOIInputError(
            f"unknown option(s) {', '.join(unknown)} for method {method!r} (allowed: {', '.join(sorted(allowed))})"
        )
    if inputs is None:
        raise VOIInputError("inputs (the parameter draws behind nb) are required for EVSI")
    nb, costs, effects = align_draws(inputs, nb, costs=costs, effects=effects)
    net = as_net_benefit(nb, costs=costs, effects=effects, wtp=wtp)
    df = as_inputs(inputs, net.n_samples)
    study_args = dict(options.get("study_args") or {})
    design = get_study(study, pars, **study_args)
    design.validate(df)
    if isinstance(study, str):
        pars = None  # pars named the design's columns; they are also its parameters of interest
    ns = _sample_sizes(n, design)
    se_draws = int(options.get("se_draws", 200))
    if se and se_draws < 2:
        raise VOIInputError(f"se_draws must be >= 2, got {se_draws}")
    regression = options.get("regression", "auto")
    reg_opts = options.get("regression_options") or {}
    if not isinstance(reg_opts, Mapping):
        raise VOIInputError("regression_options must be a dict")
    ctx = _Context(
        design=design,
        df=df,
        out=_outcomes(net, nb, costs, effects),
        ns=ns,
        rng_source=rng,
        se=bool(se),
        se_draws=se_draws,
        regression=regression,
        regression_options=reg_opts,
        pars=pars,
        options=options,
    )
    value, err, diag = _DISPATCH[method](ctx)
    coords = {"n": ns}
    ds = xr.Dataset(
        {
            "value": net.labelled(value.T, "value", ("n",), coords),
            "se": net.labelled(err.T, "se", ("n",), coords),
        }
    ).transpose("n", ...)
    ds.attrs.update(
        quantity="evsi",
        method=method,
        samples=net.n_samples,
        study=design.describe(),
        strategies=net.strategies,
        diagnostics=diag,
    )
    return ds
