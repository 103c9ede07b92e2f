"""Expected value of partial perfect information (EVPPI).

Two estimators:

* **Regression** (Strong, Oakley & Brennan 2014; the default, as in the R package voi): for a
  parameter group φ, regress each incremental net benefit INB_d = NB_d − NB_1 on the PSA
  draws of φ (:func:`decisionmodel.voi.regression.fit_regression`); the fitted values
  ĝ_d(φ_i) estimate E[INB_d | φ_i] (ĝ_1 ≡ 0) and

      EVPPI = mean_i max_d ĝ_d(φ_i) − max_d mean_i ĝ_d(φ_i),

  computed in the opportunity-loss form mean_i [max_d ĝ_d(φ_i) − ĝ_{d*}(φ_i)], d* the
  strategy with the highest mean, which is non-negative and free of cancellation. Correlated
  parameters need no special care: the regression on jointly sampled draws estimates
  E[NB | φ] under the conditional distribution of the other parameters. For cost/effect
  input on a WTP grid, incremental costs and effects are regressed separately and combined
  per WTP (ĝ = k·ĝ_E − ĝ_C), so a grid costs two regressions per strategy.
  The standard error reflects regression-coefficient uncertainty only (as voi's ``se=TRUE``):
  the EVPPI is recomputed for draws of the fitted values from the fit's approximate
  posterior (:meth:`RegressionFit.sample_fitted`) and their SD is reported.
* **Nested Monte Carlo** (:func:`evppi_nested`, or ``evppi(method="nested", ...)``) for a
  model that can be re-run: outer draws of φ, inner draws of the other parameters given φ,
  EVPPI = mean_k max_d ĝ_d(φ_k) − max_d ĝ_d with ĝ inner means. Its Monte Carlo SE and an
  estimate of its upward O(1/n_inner) bias are reported.

:func:`evppi_rank` tabulates single-parameter EVPPI for every parameter (the "information
rank" table) and :func:`decisionmodel.plots.plot_evppi_rank` draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from decisionmodel.exceptions import VOIInputError
from decisionmodel.rng import RNGLike
from decisionmodel.voi.evpi import evpi_values
from decisionmodel.voi.inputs import (
    NetBenefit,
    _required_generator,
    align_draws,
    as_inputs,
    as_net_benefit,
    group_label,
    parameter_groups,
)
from decisionmodel.voi.regression import RegressionFit, fit_regression, single_threaded_blas

__all__ = ["evppi", "evppi_nested", "evppi_rank"]

REGRESSION_METHODS = ("auto", "gam", "gp", "linear")
_NESTED_OPTIONS = {
    "model",
    "sample_inputs",
    "sample_conditional",
    "n_outer",
    "n_inner",
    "debias",
    "max_rows",
}
_CHUNK_ELEMENTS = 4_000_000  # floats per block of posterior draws (bounds memory to ~32 MB)


# --------------------------------------------------------------------------- core
def _loss_mean(G: np.ndarray) -> np.ndarray:
    """EVPPI from incremental fitted values G (..., n, D−1) against a reference (ĝ_ref = 0).

    Opportunity-loss form: mean_i [max_d ĝ_id − ĝ_{i,d*}], d* = argmax_d mean_i ĝ_id (the
    reference has ĝ ≡ 0). Each term is ≥ 0 and exactly 0 where d* is best, so a decision
    that never changes gives exactly 0.
    """
    R = G.shape[-1]
    means = G.mean(axis=-2)  # (..., R)
    star = np.where(means.max(axis=-1) > 0.0, means.argmax(axis=-1) + 1, 0)  # 0 = reference
    best = np.maximum(G[..., 0], 0.0)
    for r in range(1, R):
        np.maximum(best, G[..., r], out=best)
    for r in range(R):
        pick = star == r + 1
        if np.ndim(pick) == 0:
            if pick:
                best -= G[..., r]
        elif pick.any():
            best -= G[..., r] * pick[..., None]
    return np.maximum(best.mean(axis=-1), 0.0)


class _Responses:
    """The regression responses of one EVPPI problem and how they map to INB per WTP.

    ``Y`` is (n, R); ``M[w]`` (R × (D−1)) maps fitted responses to the incremental net
    benefits at WTP w: the identity block of that WTP for net-benefit input, and
    (−I; k_w·I) for cost/effect input (responses = incremental costs, then effects).
    """

    def __init__(self, nb: Any, costs: Any, effects: Any, wtp: Any):
        self.net: NetBenefit = as_net_benefit(nb, costs=costs, effects=effects, wtp=wtp)
        ce_form = (costs is not None or effects is not None or isinstance(nb, xr.Dataset)) and (
            self.net.wtp is not None
        )
        strategies = self.net.strategies
        ref = strategies[0]
        D = len(strategies)
        self.ce_form = ce_form
        if ce_form:
            # costs = −NB(k=0), effects = NB(k=1) − NB(k=0), validated by as_net_benefit
            unit = as_net_benefit(nb, costs=costs, effects=effects, wtp=[0.0, 1.0]).values
            c, e = -unit[0], unit[1] - unit[0]  # (D, n)
            dc = (c[1:] - c[:1]).T
            de = (e[1:] - e[:1]).T
            self.Y = np.column_stack([dc, de])
            k = self.net.wtp
            assert k is not None  # ce_form requires the WTP grid
            W = len(k)
            M = np.zeros((W, 2 * (D - 1), D - 1))
            eye = np.eye(D - 1)
            M[:, : D - 1, :] = -eye
            M[:, D - 1 :, :] = k[:, None, None] * eye
            self.labels = [f"cost:{s}-{ref}" for s in strategies[1:]] + [
                f"effect:{s}-{ref}" for s in strategies[1:]
            ]
        else:
            v = self.net.values  # (W, D, n)
            W = v.shape[0]
            inb = v[:, 1:, :] - v[:, :1, :]  # (W, D−1, n)
            self.Y = inb.transpose(2, 0, 1).reshape(v.shape[2], W * (D - 1))
            M = np.zeros((W, W * (D - 1), D - 1))
            for w in range(W):
                M[w, w * (D - 1) : (w + 1) * (D - 1), :] = np.eye(D - 1)
            if self.net.wtp is None:
                self.labels = [f"{s}-{ref}" for s in strategies[1:]]
            else:
                self.labels = [f"{s}-{ref}@wtp={k:g}" for k in self.net.wtp for s in strategies[1:]]
        self.M = M

    def evppi(self, F: np.ndarray) -> np.ndarray:
        """EVPPI per WTP (n_wtp, ...) from fitted responses (..., n, R)."""
        out = []
        for Mw in self.M:
            if Mw.shape[0] == Mw.shape[1] and np.array_equal(Mw, np.eye(Mw.shape[0])):
                out.append(_loss_mean(F))
            else:
                out.append(_loss_mean(F @ Mw))
        return np.stack(out)


def _se_from_draws(
    fit: RegressionFit, resp: _Responses, n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    n, R = fit.fitted.shape
    chunk = max(
        1, min(n_draws, _CHUNK_ELEMENTS // max(1, n * max(R, resp.M.shape[2]) * resp.M.shape[0]))
    )
    vals = []
    done = 0
    while done < n_draws:
        b = min(chunk, n_draws - done)
        vals.append(resp.evppi(fit.sample_fitted(b, rng)))  # (W, b)
        done += b
    draws = np.concatenate(vals, axis=1)
    return draws.std(axis=1, ddof=1)


def _generator(rng: RNGLike | None, se: bool) -> np.random.Generator | None:
    """The one generator of a regression EVPPI, or None when nothing need draw.

    Standard errors always draw, so ``se=True`` needs ``rng`` (the TypeError of
    :func:`~decisionmodel.rng.as_generator` otherwise); without them only a Gaussian-process
    fit draws, and :func:`~decisionmodel.voi.regression.fit_regression` asks for ``rng``
    then.
    """
    if rng is None and not se:
        return None
    return _required_generator(rng)


def _check_method(method: str) -> None:
    if method not in (*REGRESSION_METHODS, "nested"):
        raise VOIInputError(
            f"unknown EVPPI method {method!r}; choose one of {', '.join((*REGRESSION_METHODS, 'nested'))}"
        )


# --------------------------------------------------------------------------- regression EVPPI
def evppi(
    nb: Any = None,
    inputs: Any = None,
    pars: Any = None,
    method: str = "auto",
    *,
    costs: Any = None,
    effects: Any = None,
    wtp: Any = None,
    se: bool = True,
    n_se_draws: int = 500,
    rng: RNGLike | None = None,
    **options: Any,
) -> xr.Dataset:
    """Expected value of partial perfect information for one or several parameter groups.

    Parameters
    ----------
    nb : DataArray, DataFrame, 2-D array or outcomes Dataset
        Net-benefit draws (draws × strategies; the first strategy is the reference), or
        engine outcomes (``cost``/``effect``) with ``wtp``. See
        :mod:`decisionmodel.voi.inputs`.
    inputs : DataFrame, Dataset or mapping
        Parameter draws, one row per net-benefit draw. When both ``inputs`` and the
        outcomes label their draws (an xarray ``sample`` coordinate, a DataFrame index other
        than the default ``RangeIndex``) they are matched by label, whatever their order;
        otherwise by position (see :func:`~decisionmodel.voi.inputs.align_draws`).
    pars : str, list of str, or list of lists
        A parameter name, one group (list of names), or several groups (list of lists);
        each group gets one EVPPI.
    method : {"auto", "gam", "gp", "linear", "nested"}
        Regression method (see :mod:`decisionmodel.voi.regression`): ``"auto"`` uses a GAM
        for groups of at most 4 parameters and a Gaussian process otherwise. ``"nested"``
        runs two-level Monte Carlo instead; then ``nb``/``inputs`` are not used and the
        options of :func:`evppi_nested` (``model``, ``sample_inputs``, ``n_outer``,
        ``n_inner``, ``sample_conditional``, ``debias``, ``max_rows``) are passed as
        keywords.
    costs, effects : optional
        Instead of ``nb``: cost and effect draws with a ``wtp`` grid. Incremental costs and
        effects are regressed separately and combined per WTP.
    wtp : float or sequence, optional
        Willingness to pay (with costs/effects or an outcomes Dataset).
    se : bool
        Compute standard errors from ``n_se_draws`` draws of the regression's fitted values.
    n_se_draws : int
        Posterior draws for the standard error (voi's ``B``).
    rng : numpy.random.Generator, SeedSequence or int
        Random numbers for the SE draws and the GP subsamples, normalised by
        :func:`decisionmodel.rng.as_generator` (one generator for all groups). Required
        whenever the estimate draws: with ``se=True``, and for a Gaussian-process fit
        (``method="gp"``, or ``"auto"`` on more than 4 parameters); ``se=False`` with a GAM
        or linear fit draws nothing and needs none. Nothing defaults to a fixed seed.
    **options
        Regression options (``k``, ``smoothing``, ``select`` for ``"gam"``; ``n_hyper``,
        ``n_inducing`` for ``"gp"``) or the nested-MC options above.

    Returns
    -------
    xarray.Dataset
        ``value`` and ``se`` over ``group`` (labels from
        :func:`~decisionmodel.voi.inputs.group_label`, names joined by ``","``) and ``wtp``
        when a WTP grid was given. Regression diagnostics per group: ``method`` (group),
        and ``edf``, ``residual_sd``, ``r_squared``, ``k_index`` over (``group``,
        ``response``): one response per regression, i.e. each incremental net benefit
        ``"<strategy>-<reference>"`` (per WTP when ``nb`` has a ``wtp`` dimension), or
        ``"cost:…"`` / ``"effect:…"`` for cost/effect input. ``edf`` counts the intercept
        (a straight line has 2); ``k_index`` well below 1 suggests too small a basis.
        Attributes: ``quantity``, ``method``, ``samples``, ``strategies``, ``se_draws``.

    Raises
    ------
    VOIInputError
        For inconsistent inputs (different numbers of draws, or labelled draws whose sample
        labels differ), unknown parameters, methods or options.
    TypeError
        ``rng`` is None and the estimate draws (see ``rng``).

    See Also
    --------
    evpi : The value of perfect information on every parameter.
    evppi_nested : EVPPI by two-level Monte Carlo (``method="nested"``).
    evppi_rank : The EVPPI of every single parameter, ranked.
    decisionmodel.plots.plot_evppi_rank : Its chart.
    evsi : The value of a study that informs the parameters.
    pop_voi : A per-person value of information scaled to the population.

    Notes
    -----
    Estimates below about 1 % of the EVPI cannot be resolved with ~10⁴ draws: noise in the
    fitted values biases EVPPI upwards by roughly that much, and the mean-and-slope sampling
    error of the regression dominates small values (see the shared VOI reference notes).
    The GAM's null-space penalty (``select=True``) shrinks a parameter with no effect to a
    constant fit, i.e. EVPPI ≈ 0.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = pd.DataFrame({"a": rng.normal(size=4000), "b": rng.normal(size=4000)})
    >>> inb = 100 * x["a"] + 20 * x["b"] ** 2
    >>> nb = pd.DataFrame({"old": np.zeros(4000), "new": inb})
    >>> out = evppi(nb, x, [["a"], ["b"], ["a", "b"]], rng=0)
    >>> out["value"].dims, out["group"].values.tolist()
    (('group',), ['a', 'b', 'a,b'])
    >>> out["value"].values.round(1).tolist()    # closed forms: 30.7, 0 (b never flips it), 32.0
    [31.2, 0.0, 32.5]
    >>> bool(out["se"].sel(group="a") < 1)
    True
    """
    _check_method(method)
    if method == "nested":
        bad = set(options) - _NESTED_OPTIONS
        if bad:
            raise VOIInputError(f"unknown option(s) for method='nested': {', '.join(sorted(bad))}")
        if nb is not None or inputs is not None or costs is not None or effects is not None:
            raise VOIInputError(
                "method='nested' re-runs the model: give model= and sample_inputs=, not nb/inputs"
            )
        if "model" not in options or "sample_inputs" not in options:
            raise VOIInputError("method='nested' needs model= and sample_inputs=")
        return evppi_nested(
            options.pop("model"), options.pop("sample_inputs"), pars, wtp=wtp, rng=rng, **options
        )
    bad = set(options) & _NESTED_OPTIONS
    if bad:
        raise VOIInputError(f"option(s) {', '.join(sorted(bad))} are only for method='nested'")
    if nb is None and costs is None and effects is None:
        raise VOIInputError("give nb (or costs and effects with wtp)")
    if inputs is None:
        raise VOIInputError("inputs (the parameter draws) are required")
    if pars is None:
        raise VOIInputError("pars: name the parameter(s) of interest")
    n_se_draws = int(n_se_draws)
    if se and n_se_draws < 2:
        raise VOIInputError(f"n_se_draws must be at least 2, got {n_se_draws}")
    nb, costs, effects = align_draws(inputs, nb, costs=costs, effects=effects)
    resp = _Responses(nb, costs, effects, wtp)
    df = as_inputs(inputs, resp.net.n_samples)
    groups = parameter_groups(pars, list(df.columns))
    gen = _generator(rng, se)
    return _evppi_regression(resp, df, groups, method, se, n_se_draws, gen, options)


@single_threaded_blas
def _evppi_regression(
    resp: _Responses,
    df: pd.DataFrame,
    groups: list[list[str]],
    method: str,
    se: bool,
    n_se_draws: int,
    rng: np.random.Generator | None,
    options: dict,
) -> xr.Dataset:
    net = resp.net
    W = resp.M.shape[0]
    G = len(groups)
    R = resp.Y.shape[1]
    value = np.empty((W, G))
    sev = np.full((W, G), np.nan)
    edf = np.empty((G, R))
    rsd = np.empty((G, R))
    r2 = np.empty((G, R))
    kidx = np.empty((G, R))
    methods = []
    for g, group in enumerate(groups):
        fit = fit_regression(df[group].to_numpy(), resp.Y, method, rng=rng, **options)
        value[:, g] = np.maximum(resp.evppi(fit.fitted), 0.0)
        if se:
            assert rng is not None  # _generator makes one whenever se is True
            sev[:, g] = _se_from_draws(fit, resp, n_se_draws, rng)
        edf[g] = fit.edf
        rsd[g] = fit.residual_sd
        r2[g] = fit.diagnostics.get("r_squared", np.nan)
        kidx[g] = fit.diagnostics.get("k_index", np.nan)
        methods.append(fit.method)
    labels = [group_label(gr) for gr in groups]
    coords = {"group": labels}
    rcoords = {"group": labels, "response": resp.labels}
    out = xr.Dataset(
        {
            "value": net.labelled(value, "value", ("group",), coords),
            "se": net.labelled(sev, "se", ("group",), coords),
            "method": xr.DataArray(np.array(methods, dtype=object), dims=("group",), coords=coords),
            "edf": xr.DataArray(edf, dims=("group", "response"), coords=rcoords),
            "residual_sd": xr.DataArray(rsd, dims=("group", "response"), coords=rcoords),
            "r_squared": xr.DataArray(r2, dims=("group", "response"), coords=rcoords),
            "k_index": xr.DataArray(kidx, dims=("group", "response"), coords=rcoords),
        }
    ).transpose("group", ...)
    out.attrs.update(
        quantity="evppi",
        method=method,
        samples=net.n_samples,
        strategies=list(net.strategies),
        se_draws=n_se_draws if se else 0,
    )
    return out


# --------------------------------------------------------------------------- nested MC
def _nested_loss(g: np.ndarray, best_now: np.ndarray) -> np.ndarray:
    """Per-outer-draw loss max_d ĝ_d − ĝ_{d*} from inner means g (W, D, K)."""
    return g.max(axis=1) - np.take_along_axis(g, best_now[:, None, None], axis=1)[:, 0, :]


def evppi_nested(
    model: Callable[[pd.DataFrame], Any],
    sample_inputs: Callable[[int, np.random.Generator], Any],
    pars: Any,
    *,
    n_outer: int = 500,
    n_inner: int = 500,
    wtp: Any = None,
    sample_conditional: Callable[[pd.Series, int, np.random.Generator], Any] | None = None,
    debias: bool = False,
    max_rows: int = 250_000,
    rng: RNGLike | None = None,
) -> xr.Dataset:
    """EVPPI by two-level (nested) Monte Carlo, for a model that can be re-run.

    For k = 1..K (``n_outer``) draw φ_k, then J (``n_inner``) draws of the other parameters
    given φ_k, run the model, and average: ĝ_d(φ_k). Then

        EVPPI = (1/K) Σ_k max_d ĝ_d(φ_k) − max_d (1/(KJ)) Σ_kj NB_d,

    computed in the opportunity-loss form. The maximum of inner means is biased upwards
    by O(1/J); the bias is estimated by splitting the inner draws into halves
    (``inner_bias`` = mean_k[max ĝ − ½(max ĝ^a + max ĝ^b)], Richardson extrapolation) and
    removed when ``debias=True``.

    Parameters
    ----------
    model : callable
        ``model(inputs_df) -> net benefit`` for a DataFrame of parameter draws (rows); returns
        anything :func:`~decisionmodel.voi.inputs.as_net_benefit` accepts: an array or
        DataFrame (rows × strategies), or an outcomes Dataset (``cost``/``effect`` over
        ``strategy`` × ``sample``) together with ``wtp``.
    sample_inputs : callable
        ``sample_inputs(n, rng) -> DataFrame`` (or Dataset/mapping) of n joint draws of all
        parameters.
    pars : str, list of str, or list of lists
        Parameter group(s), as in :func:`evppi`.
    n_outer, n_inner : int
        K and J.
    wtp : float or sequence, optional
        With a model returning costs and effects.
    sample_conditional : callable, optional
        ``sample_conditional(outer_row, n, rng) -> DataFrame`` of n draws of all parameters
        given the group's values in ``outer_row`` (a Series of all parameters; the group's
        columns are then set to the outer values). Default: parameters independent of the
        group — all columns are redrawn with ``sample_inputs`` and the group's columns
        overwritten with the outer values. Correlated parameters need this.
    debias : bool
        Subtract the estimated inner-sample bias.
    max_rows : int
        Rows per model call (memory bound).
    rng : numpy.random.Generator, SeedSequence or int
        Random numbers for the outer and inner draws (passed to ``sample_inputs`` and
        ``sample_conditional``), normalised by :func:`decisionmodel.rng.as_generator`;
        required (nested Monte Carlo always draws): ``None`` raises its TypeError.

    Returns
    -------
    xarray.Dataset
        ``value``, ``se`` (Monte Carlo SE: SD of the per-outer-draw loss over √K) and
        ``inner_bias`` over ``group`` (and ``wtp``); attributes ``method="nested"``,
        ``n_outer``, ``n_inner``, ``debiased``.

    Raises
    ------
    VOIInputError
        ``n_outer`` or ``n_inner`` below 2; ``model``, ``sample_inputs`` or
        ``sample_conditional`` not callable; draws or model results with the wrong number of
        rows, or inner draws that lack a parameter; an unknown parameter.
    TypeError
        ``rng`` is None.

    See Also
    --------
    evppi : The regression estimate from one PSA sample (``method="nested"`` calls this).
    evpi : The value of perfect information on every parameter.

    Examples
    --------
    A decision tree is used through a small adapter (``decisionmodel.evaluate`` returns
    costs and effects; give ``wtp``)::

        G = dm.load_tree("trees/crlm.yaml")
        evppi_nested(
            model=lambda df: dm.evaluate(G, {c: df[c].to_numpy() for c in df.columns}),
            sample_inputs=lambda n, rng: dm.sample_parameters(G, n, rng).to_dataframe(),
            pars="p_recurrence", wtp=50_000, n_outer=300, n_inner=300)

    A linear model with a closed form, EVPPI(a) = L(μ, σ_a) = 3.99 for μ = 0, σ_a = 10:

    >>> import numpy as np, pandas as pd
    >>> def sample(n, rng):
    ...     return pd.DataFrame({"a": rng.normal(0, 10, n), "b": rng.normal(0, 10, n)})
    >>> def model(df):
    ...     return np.column_stack([np.zeros(len(df)), df["a"] + df["b"]])
    >>> out = evppi_nested(model, sample, "a", n_outer=400, n_inner=200, rng=1)
    >>> bool(abs(float(out["value"][0]) - 3.99) < 4 * float(out["se"][0]))
    True
    """
    n_outer, n_inner = int(n_outer), int(n_inner)
    if n_outer < 2 or n_inner < 2:
        raise VOIInputError(f"n_outer and n_inner must be at least 2, got {n_outer} and {n_inner}")
    if not callable(model) or not callable(sample_inputs):
        raise VOIInputError("model and sample_inputs must be callables")
    if sample_conditional is not None and not callable(sample_conditional):
        raise VOIInputError("sample_conditional must be a callable")
    rng = _required_generator(rng)
    max_rows = max(int(max_rows), n_inner)
    outer_all = as_inputs(sample_inputs(n_outer, rng))
    if len(outer_all) != n_outer:
        raise VOIInputError(f"sample_inputs({n_outer}, rng) returned {len(outer_all)} rows")
    groups = parameter_groups(pars, list(outer_all.columns))
    half = n_inner // 2
    results = []
    net_meta: NetBenefit | None = None
    for group in groups:
        sums: np.ndarray | None = None
        g_hat, g_a, g_b = [], [], []
        per_call = max(1, max_rows // n_inner)
        for lo in range(0, n_outer, per_call):
            hi = min(n_outer, lo + per_call)
            outer = outer_all.iloc[lo:hi]
            if sample_conditional is None:
                inner = as_inputs(sample_inputs((hi - lo) * n_inner, rng))
                if len(inner) != (hi - lo) * n_inner:
                    raise VOIInputError("sample_inputs returned the wrong number of rows")
            else:
                parts = []
                for _, row in outer.iterrows():
                    part = as_inputs(sample_conditional(row, n_inner, rng))
                    if len(part) != n_inner:
                        raise VOIInputError(
                            f"sample_conditional returned {len(part)} rows, expected {n_inner}"
                        )
                    parts.append(part)
                inner = pd.concat(parts, ignore_index=True)
            missing = [c for c in outer_all.columns if c not in inner.columns]
            if missing:
                raise VOIInputError(f"inner draws lack parameter(s) {', '.join(missing)}")
            for c in group:
                inner[c] = np.repeat(outer[c].to_numpy(), n_inner)
            net = as_net_benefit(model(inner), wtp=wtp)
            if net.n_samples != len(inner):
                raise VOIInputError(
                    f"model returned {net.n_samples} draws for {len(inner)} input rows"
                )
            net_meta = net
            v = net.values.reshape(net.values.shape[0], net.values.shape[1], hi - lo, n_inner)
            sums = v.sum(axis=(2, 3)) if sums is None else sums + v.sum(axis=(2, 3))
            g_hat.append(v.mean(axis=3))
            g_a.append(v[..., :half].mean(axis=3))
            g_b.append(v[..., half:].mean(axis=3))
        assert sums is not None  # n_outer >= 2: the loop over the outer draws ran
        gh = np.concatenate(g_hat, axis=2)  # (W, D, K)
        ga = np.concatenate(g_a, axis=2)
        gb = np.concatenate(g_b, axis=2)
        best_now = (sums / (n_outer * n_inner)).argmax(axis=1)  # (W,)
        loss = _nested_loss(gh, best_now)  # (W, K)
        # Richardson: E[loss_J] ≈ loss + c/J, so loss_J − loss_{J/2}-average estimates c/J
        bias = (loss - 0.5 * (_nested_loss(ga, best_now) + _nested_loss(gb, best_now))).mean(axis=1)
        value = loss.mean(axis=1) - (bias if debias else 0.0)
        se = loss.std(axis=1, ddof=1) / np.sqrt(n_outer)
        results.append((value, se, bias))
    assert net_meta is not None
    labels = [group_label(g) for g in groups]
    coords = {"group": labels}
    stack = [np.stack([r[i] for r in results], axis=1) for i in range(3)]  # (W, G)
    out = xr.Dataset(
        {
            "value": net_meta.labelled(stack[0], "value", ("group",), coords),
            "se": net_meta.labelled(stack[1], "se", ("group",), coords),
            "inner_bias": net_meta.labelled(stack[2], "inner_bias", ("group",), coords),
        }
    ).transpose("group", ...)
    out.attrs.update(
        quantity="evppi",
        method="nested",
        n_outer=n_outer,
        n_inner=n_inner,
        debiased=bool(debias),
        strategies=list(net_meta.strategies),
    )
    return out


# --------------------------------------------------------------------------- rank table
def evppi_rank(
    nb: Any = None,
    inputs: Any = None,
    pars: Sequence[str] | None = None,
    method: str = "auto",
    *,
    costs: Any = None,
    effects: Any = None,
    wtp: Any = None,
    se: bool = True,
    n_se_draws: int = 500,
    rng: RNGLike | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Single-parameter EVPPI for every parameter, sorted descending (information ranking).

    Parameters
    ----------
    nb, inputs, costs, effects, wtp, se, n_se_draws, rng, **options
        As for :func:`evppi`; one willingness to pay only (rank at each WTP separately).
    pars : list of str, optional
        Parameters to rank; default every column of ``inputs``.
    method : str
        Regression method (as :func:`evppi`; not ``"nested"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter``, ``evppi``, ``se``, ``share`` (EVPPI / EVPI) and ``rank``
        (1 = largest), sorted by decreasing EVPPI; ``attrs["evpi"]`` and
        ``attrs["evpi_se"]`` hold the EVPI and its SE.

    Raises
    ------
    VOIInputError
        ``method="nested"``, more than one willingness to pay, no parameter to rank, or
        inputs that :func:`evppi` refuses.
    TypeError
        ``rng`` is None and the estimate draws (standard errors, or a Gaussian-process fit).

    See Also
    --------
    evppi : The EVPPI of given parameter groups.
    decisionmodel.plots.plot_evppi_rank : The table as a bar chart.
    evpi : The value of perfect information on every parameter (the share's denominator).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> x = pd.DataFrame({"a": rng.normal(size=2000), "b": rng.normal(size=2000),
    ...                   "c": rng.normal(size=2000)})
    >>> nb = np.column_stack([np.zeros(2000), 3 * x["b"] + x["a"] + rng.normal(size=2000)])
    >>> evppi_rank(nb, x, se=False)["parameter"].tolist()
    ['b', 'a', 'c']
    """
    if method == "nested":
        raise VOIInputError(
            "evppi_rank uses a regression method; run evppi_nested per parameter instead"
        )
    nb, costs, effects = align_draws(inputs, nb, costs=costs, effects=effects)
    resp = _Responses(nb, costs, effects, wtp)
    if resp.M.shape[0] != 1:
        raise VOIInputError(
            f"evppi_rank ranks at one willingness to pay; got {resp.M.shape[0]} (give a single wtp)"
        )
    df = as_inputs(inputs, resp.net.n_samples)
    names = list(df.columns) if pars is None else ([pars] if isinstance(pars, str) else list(pars))
    groups = parameter_groups([[p] for p in names], list(df.columns)) if names else []
    if not groups:
        raise VOIInputError("pars: no parameters to rank")
    _check_method(method)
    gen = _generator(rng, se)
    res = _evppi_regression(resp, df, groups, method, se, int(n_se_draws), gen, options)
    ev, ev_se = evpi_values(resp.net)
    value = np.atleast_1d(res["value"].values).reshape(-1)
    sev = np.atleast_1d(res["se"].values).reshape(-1)
    table = pd.DataFrame(
        {
            "parameter": names,
            "evppi": value,
            "se": sev,
            "share": value / ev[0] if ev[0] > 0 else np.zeros_like(value),
        }
    )
    table = table.sort_values("evppi", ascending=False, kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    table.attrs["evpi"] = float(ev[0])
    table.attrs["evpi_se"] = float(ev_se[0])
    if resp.net.wtp is not None:
        table.attrs["wtp"] = float(resp.net.wtp[0])
    return table
