"""Population value of information, expected net benefit of sampling and optimal sample size.

Per-person value of information (EVPI, EVPPI, EVSI) becomes a population value when it is
multiplied by the discounted number of people the decision affects over the lifetime of the
technology (Briggs, Claxton & Sculpher 2006, ch. 7; voi::pop_voi):

* continuous discounting (voi's convention): ``M = P/r · (1 − exp(−r·T))``, and ``M = P·T``
  when ``r = 0``;
* annual cohorts discounted at the start of each year (the textbook convention):
  ``M = Σ_{t=0}^{T−1} P/(1+r)^t``, again ``P·T`` when ``r = 0``;

with ``P`` the incident population per year, ``T`` the technology horizon in years and ``r``
the annual discount rate. With P = 10,000, T = 10, r = 0.035 the multipliers are 84,374.8
(continuous) and 86,076.9 (discrete).

The expected net benefit of sampling of a study with ``n`` participants (per arm) is
``ENBS(n) = M·EVSI(n) − (C_fixed + n·n_arms·C_pp)`` (voi::enbs); the optimal sample size
maximises it (:func:`enbs_optimum`).

Notes
-----
Standard errors are propagated linearly: ``se(M·EVSI) = M·se(EVSI)`` and
``se(ENBS)² = (M·se(EVSI))² + sd(C_fixed)² + (n·n_arms)²·sd(C_pp)²``. (voi 1.0.3 multiplies
the EVSI standard deviation by ``M²`` instead of ``M``; the linear form is the correct one.)

Unlike voi::pop_voi, which returns ``VOI·P`` for a zero discount rate, a zero rate here gives
the limit of both formulas, ``VOI·P·T``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import xarray as xr
from scipy import optimize, stats

from decisionmodel.exceptions import VOIInputError
from decisionmodel.rng import RNGLike
from decisionmodel.voi.inputs import _required_generator

Discounting = Literal["continuous", "discrete"]

__all__ = ["enbs", "enbs_optimum", "pop_voi", "population_multiplier"]

#: Largest number of sample sizes on which a smooth ENBS curve is evaluated.
_MAX_GRID = 20_001


# --------------------------------------------------------------------------------------
# population VOI
# --------------------------------------------------------------------------------------


def _positive_number(x: Any, name: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise VOIInputError(f"{name}: expected a number, got {x!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = ">= 0" if allow_zero else "> 0"
        raise VOIInputError(f"{name}: must be a finite number {need}, got {x!r}")
    return v


def population_multiplier(
    *, pop_per_year: float, horizon: float, discount: float, kind: Discounting = "continuous"
) -> float:
    """Discounted number of people affected by the decision over the technology horizon.

    Parameters
    ----------
    pop_per_year : float
        Incident population per year, ``P`` (> 0).
    horizon : float
        Technology horizon ``T`` in years (> 0; a whole number with ``kind="discrete"``).
    discount : float
        Annual discount rate ``r`` as a fraction (0 <= r < 1, e.g. 0.035).
    kind : {"continuous", "discrete"}
        ``"continuous"``: ``P/r·(1 − exp(−r·T))`` (voi::pop_voi). ``"discrete"``: annual
        cohorts, ``Σ_{t=0}^{T−1} P/(1+r)^t``. Both are ``P·T`` when ``r = 0``.

    Returns
    -------
    float
        The discounted number of people, ``P·T`` without discounting.

    Raises
    ------
    VOIInputError
        ``pop_per_year`` or ``horizon`` not a finite number > 0, ``discount`` not in
        [0, 1), an unknown ``kind``, or a fractional ``horizon`` with ``kind="discrete"``.

    See Also
    --------
    pop_voi : A per-person value of information times this multiplier.
    enbs : The population EVSI of a study, with this multiplier.

    Examples
    --------
    >>> round(population_multiplier(pop_per_year=10_000, horizon=10, discount=0.035), 1)
    84374.8
    >>> round(population_multiplier(pop_per_year=10_000, horizon=10, discount=0.035,
    ...                             kind="discrete"), 1)
    86076.9
    >>> population_multiplier(pop_per_year=100, horizon=5, discount=0)
    500.0
    """
    p = _positive_number(pop_per_year, "pop_per_year")
    t = _positive_number(horizon, "horizon")
    r = _positive_number(discount, "discount", allow_zero=True)
    if r >= 1:
        raise VOIInputError(
            f"discount: {discount!r} is a rate of 100% or more; give the annual rate as a "
            "fraction (e.g. 0.035 for 3.5%)"
        )
    if kind == "continuous":
        return p * t if r == 0 else float(p / r * -np.expm1(-r * t))
    if kind == "discrete":
        if t != round(t):
            raise VOIInputError(
                f"horizon: annual (discrete) discounting needs a whole number of years, got {horizon!r}"
            )
        if r == 0:
            return p * t
        return float(p * np.sum((1.0 + r) ** -np.arange(round(t))))
    raise VOIInputError(f"kind: expected 'continuous' or 'discrete', got {kind!r}")


def pop_voi(
    value: Any,
    *,
    pop_per_year: float,
    horizon: float,
    discount: float,
    kind: Discounting = "continuous",
) -> Any:
    """Population value of information: per-person VOI × discounted population.

    Parameters
    ----------
    value : float, array, xarray.DataArray or xarray.Dataset
        Per-person VOI. A Dataset as returned by :func:`~decisionmodel.voi.evpi`, ``evppi`` or
        ``evsi`` has its ``value`` and ``se`` variables scaled (the standard error propagates
        linearly); other variables are kept unchanged.
    pop_per_year, horizon, discount, kind
        See :func:`population_multiplier`.

    Returns
    -------
    Same type as ``value``
        A Dataset gains the attributes ``population_multiplier``, ``pop_per_year``,
        ``horizon``, ``discount`` and ``discounting``.

    Raises
    ------
    VOIInputError
        A population, horizon, discount or discounting that :func:`population_multiplier`
        refuses; a Dataset without ``value``; a scalar ``value`` that is not a number.

    See Also
    --------
    population_multiplier : The multiplier.
    evpi, evppi, evsi : The per-person values.
    enbs : The population EVSI less the cost of the study.

    Examples
    --------
    >>> round(pop_voi(155.667, pop_per_year=10_000, horizon=10, discount=0.035))
    13134377
    >>> import numpy as np
    >>> from decisionmodel.voi import evpi
    >>> res = evpi(np.array([[10.0, 0.0], [0.0, 20.0]]))
    >>> pop = pop_voi(res, pop_per_year=1000, horizon=2, discount=0, kind="discrete")
    >>> float(pop["value"]), float(pop["se"]) == 2000 * float(res["se"])
    (10000.0, True)
    """
    m = population_multiplier(
        pop_per_year=pop_per_year, horizon=horizon, discount=discount, kind=kind
    )
    if isinstance(value, xr.Dataset):
        if "value" not in value:
            raise VOIInputError("pop_voi: a Dataset must hold a 'value' variable")
        out = value.copy()
        for name in ("value", "se"):
            if name in out:
                out[name] = out[name] * m
        out.attrs.update(
            population_multiplier=m,
            pop_per_year=float(pop_per_year),
            horizon=float(horizon),
            discount=float(discount),
            discounting=kind,
        )
        return out
    if isinstance(value, xr.DataArray):
        return value * m
    if np.ndim(value) == 0:
        try:
            return float(value) * m
        except (TypeError, ValueError):
            raise VOIInputError(f"pop_voi: expected a number, got {value!r}") from None
    return np.asarray(value, dtype=float) * m


# --------------------------------------------------------------------------------------
# ENBS
# --------------------------------------------------------------------------------------


def _cost_spec(cost: Any, name: str) -> tuple[float, float]:
    """(mean, sd) of a study cost: a number, a (low, high) 95% interval or (low, mid, high)."""
    vals = np.atleast_1d(np.asarray(cost, dtype=float)) if _numeric(cost) else None
    if vals is None or vals.ndim != 1 or vals.size not in (1, 2, 3):
        raise VOIInputError(
            f"{name}: give a number, a 95% interval (low, high) or (low, mean, high), got {cost!r}"
        )
    if not np.isfinite(vals).all() or (vals < 0).any():
        raise VOIInputError(f"{name}: costs must be finite and >= 0, got {vals.tolist()}")
    if (np.diff(vals) < 0).any():
        raise VOIInputError(
            f"{name}: the interval {vals.tolist()} is reversed; give (low, high) or "
            "(low, mean, high) in increasing order"
        )
    if vals.size == 1:
        return float(vals[0]), 0.0
    if vals.size == 2:
        return float(vals.mean()), float((vals[1] - vals[0]) / (2 * stats.norm.ppf(0.975)))
    return float(vals[1]), float((vals[2] - vals[0]) / (2 * stats.norm.ppf(0.975)))


def _numeric(x: Any) -> bool:
    try:
        np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return False
    return True


def _evsi_arrays(evsi_result: Any) -> tuple[xr.DataArray, xr.DataArray]:
    """value and se DataArrays over ``n`` (and optionally ``wtp``)."""
    if isinstance(evsi_result, xr.Dataset):
        if "value" not in evsi_result:
            raise VOIInputError("enbs: the EVSI Dataset must hold a 'value' variable")
        value = evsi_result["value"]
        se = evsi_result["se"] if "se" in evsi_result else xr.zeros_like(value)
    elif isinstance(evsi_result, xr.DataArray):
        value = evsi_result
        se = xr.zeros_like(value)
    elif isinstance(evsi_result, Mapping):
        try:
            ns = [float(k) for k in evsi_result]
            vals = [float(v) for v in evsi_result.values()]
        except (TypeError, ValueError):
            raise VOIInputError("enbs: a mapping must map sample sizes to EVSI values") from None
        value = xr.DataArray(vals, dims=("n",), coords={"n": ns})
        se = xr.zeros_like(value)
    else:
        raise VOIInputError(
            "enbs: expected the Dataset returned by evsi(), a DataArray over 'n', or a mapping "
            "{n: evsi}"
        )
    if "n" not in value.dims:
        raise VOIInputError(f"enbs: the EVSI has no 'n' dimension (dims {value.dims})")
    extra = [d for d in value.dims if d not in ("n", "wtp")]
    if extra:
        raise VOIInputError(
            f"enbs: unexpected dimension(s) {extra}; select one design/group first (dims n, wtp)"
        )
    if "n" not in value.coords:
        raise VOIInputError("enbs: the 'n' dimension has no sample-size coordinate")
    n = np.asarray(value["n"].values, dtype=float)
    if n.size == 0 or not np.isfinite(n).all() or (n <= 0).any():
        raise VOIInputError(f"enbs: sample sizes must be finite and > 0, got {n.tolist()}")
    if len(np.unique(n)) != n.size:
        raise VOIInputError(f"enbs: sample sizes repeat: {n.tolist()}")
    v = np.asarray(value.values, dtype=float)
    if not np.isfinite(v).all():
        raise VOIInputError("enbs: EVSI values must be finite")
    se = se.fillna(0.0)  # an estimator run without standard errors: treated as exact
    s = np.asarray(se.values, dtype=float)
    if not np.isfinite(s).all() or (s < 0).any():
        raise VOIInputError("enbs: EVSI standard errors must be finite and >= 0")
    value = value.astype(float).assign_coords(n=n).sortby("n")
    se = se.astype(float).assign_coords(n=n).sortby("n")
    return value, se


def enbs(
    evsi_result: Any,
    *,
    pop_per_year: float,
    horizon: float,
    discount: float,
    cost_fixed: float | Sequence[float],
    cost_per_patient: float | Sequence[float],
    n_arms: int = 1,
    kind: Discounting = "continuous",
) -> xr.Dataset:
    """Expected net benefit of sampling: population EVSI minus the cost of the study.

    ``ENBS(n) = M·EVSI(n) − (C_fixed + n·n_arms·C_pp)`` with ``M`` the population multiplier
    (:func:`population_multiplier`).

    Parameters
    ----------
    evsi_result : xarray.Dataset, xarray.DataArray or mapping
        Per-person EVSI over a dimension ``n`` (sample size), optionally also ``wtp``: the
        Dataset returned by ``evsi`` (``value`` and ``se``; a missing or NaN ``se`` counts
        as 0), a DataArray (no standard error), or a mapping ``{n: evsi}``.
    pop_per_year, horizon, discount, kind
        Population and discounting, see :func:`population_multiplier`.
    cost_fixed, cost_per_patient : float or sequence
        Set-up cost of the study and cost per participant. A number, or — as in voi — a 95%
        interval ``(low, high)`` (mean = midpoint) or ``(low, mean, high)``; an interval
        gives the cost a normal standard deviation of ``(high − low)/3.92``, which adds to
        the ENBS standard error.
    n_arms : int, default 1
        Arms of the study. ``n`` is the sample size per arm, so the study recruits
        ``n·n_arms`` participants; with the default ``n`` is the total sample size (as in
        voi::enbs).

    Returns
    -------
    xarray.Dataset
        Over ``n`` (and ``wtp``): ``enbs``, ``se`` (its standard error), ``pop_evsi`` and
        ``pop_evsi_se``, ``cost`` and ``cost_se`` (over ``n``), ``p_positive`` (the
        probability that the ENBS is positive under a normal distribution with that mean
        and standard error, voi's ``pce``). Attributes record the inputs, the multiplier and
        the cost means and standard deviations (used by :func:`enbs_optimum`).

    Raises
    ------
    VOIInputError
        ``evsi_result`` is not a per-person EVSI over ``n`` (a Dataset without ``value``, no
        ``n`` dimension or sample-size coordinate, other dimensions than ``n`` and ``wtp``,
        sample sizes not finite and positive or repeated, EVSI values or standard errors not
        finite or negative); a cost that is not a number or an increasing interval of
        non-negative numbers; ``n_arms`` not a whole number >= 1; or a population or
        discount :func:`population_multiplier` refuses.

    See Also
    --------
    evsi : The per-person EVSI over sample sizes.
    enbs_optimum : The optimal sample size of this result.
    pop_voi, population_multiplier : The population scaling.

    Examples
    --------
    >>> res = enbs({100: 2.0, 400: 3.0}, pop_per_year=1000, horizon=10, discount=0,
    ...            cost_fixed=1000, cost_per_patient=10, n_arms=2)
    >>> res["cost"].values.tolist(), res["enbs"].values.tolist()
    ([3000.0, 9000.0], [17000.0, 21000.0])
    """
    value, se = _evsi_arrays(evsi_result)
    m = population_multiplier(
        pop_per_year=pop_per_year, horizon=horizon, discount=discount, kind=kind
    )
    if isinstance(n_arms, bool) or not isinstance(n_arms, int | np.integer) or n_arms < 1:
        raise VOIInputError(f"n_arms: expected a whole number >= 1, got {n_arms!r}")
    cf, cf_sd = _cost_spec(cost_fixed, "cost_fixed")
    cp, cp_sd = _cost_spec(cost_per_patient, "cost_per_patient")
    n = value["n"]
    participants = n * int(n_arms)
    cost = (cf + participants * cp).rename("cost")
    # xr.ufuncs.sqrt: np.sqrt of a DataArray is a DataArray too, but typed as an ndarray
    cost_se: xr.DataArray = xr.ufuncs.sqrt(cf_sd**2 + (participants * cp_sd) ** 2).rename("cost_se")
    pop_evsi = (value * m).rename("pop_evsi")
    pop_se = (se * m).rename("pop_evsi_se")
    net = (pop_evsi - cost).transpose(*value.dims)
    net_se: xr.DataArray = xr.ufuncs.sqrt(pop_se**2 + cost_se**2).transpose(*value.dims)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(net_se.values > 0, net.values / net_se.values, np.sign(net.values) * np.inf)
    p_pos = xr.DataArray(
        np.where(net.values == 0, 0.5, stats.norm.cdf(z)), dims=net.dims, coords=net.coords
    )
    out = xr.Dataset(
        {
            "enbs": net,
            "se": net_se,
            "pop_evsi": pop_evsi,
            "pop_evsi_se": pop_se,
            "cost": cost,
            "cost_se": cost_se,
            "p_positive": p_pos,
        }
    )
    attrs = dict(evsi_result.attrs) if isinstance(evsi_result, xr.Dataset) else {}
    attrs.update(
        quantity="enbs",
        population_multiplier=m,
        pop_per_year=float(pop_per_year),
        horizon=float(horizon),
        discount=float(discount),
        discounting=kind,
        n_arms=int(n_arms),
        cost_fixed=cf,
        cost_fixed_sd=cf_sd,
        cost_per_patient=cp,
        cost_per_patient_sd=cp_sd,
    )
    out.attrs.update(attrs)
    return out


# --------------------------------------------------------------------------------------
# optimal sample size
# --------------------------------------------------------------------------------------


def _curve(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """EVSI(n) = a·(n/(n+b))^c with p = log(a, b, c); broadcasts over leading axes of p."""
    a, b, c = (np.exp(p[..., i])[..., None] for i in range(3))
    with np.errstate(under="ignore", over="ignore"):
        return a * (n / (n + b)) ** c


def _curve_jac(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Derivatives of :func:`_curve` with respect to the log-parameters, shape (..., len(n), 3)."""
    b, c = (np.exp(p[..., i])[..., None] for i in (1, 2))
    f = _curve(p, n)
    with np.errstate(under="ignore", over="ignore"):
        return np.stack([f, -f * c * b / (n + b), f * c * np.log(n / (n + b))], axis=-1)


def _box(n: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on the log-parameters that keep the curve finite (far outside any sane fit)."""
    scale = float(np.max(np.abs(y)))
    lo = np.array([np.log(scale) - 10, np.log(n.min()) - 10, np.log(1e-3)])
    hi = np.array([np.log(scale) + 10, np.log(n.max()) + 10, np.log(1e3)])
    return lo, hi


def _fit_curve(n: np.ndarray, y: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Weighted least-squares fit of a·(n/(n+b))^c; returns the log-parameters."""
    lo, hi = _box(n, y)
    x0 = np.clip(np.log([1.2 * float(np.max(np.abs(y))), float(np.median(n)), 1.0]), lo, hi)

    def residuals(p: np.ndarray) -> np.ndarray:
        return (_curve(p, n) - y) / sigma

    def jacobian(p: np.ndarray) -> np.ndarray:
        return _curve_jac(p, n) / sigma[:, None]

    fit = optimize.least_squares(
        residuals,
        x0,
        jac=jacobian,
        bounds=(lo, hi),
        method="trf",
        max_nfev=2000,
    )
    return fit.x


def _refit_many(
    n: np.ndarray, ys: np.ndarray, sigma: np.ndarray, p0: np.ndarray, iters: int = 40
) -> np.ndarray:
    """Refit the curve to every row of ``ys`` at once (vectorised Levenberg–Marquardt from
    ``p0``, within :func:`_box`); returns log-parameters of shape (len(ys), 3)."""
    lo, hi = _box(n, np.concatenate([ys.ravel(), [np.exp(p0[0])]]))
    pars = np.tile(p0, (ys.shape[0], 1))

    def cost(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = (_curve(q, n) - ys) / sigma
        return np.einsum("bk,bk->b", r, r), r

    c, r = cost(pars)
    lam = np.full(ys.shape[0], 1e-3)
    eye = np.eye(3)
    for _ in range(iters):
        jac = _curve_jac(pars, n) / sigma[:, None]
        jtj = np.einsum("bki,bkj->bij", jac, jac)
        grad = np.einsum("bki,bk->bi", jac, r)
        diag = np.einsum("bii->bi", jtj)
        damped = jtj + lam[:, None, None] * (diag[:, :, None] * eye)
        step = -np.einsum("bij,bj->bi", np.linalg.pinv(damped), grad)
        trial = np.clip(pars + step, lo, hi)
        c_new, r_new = cost(trial)
        ok = c_new < c
        pars[ok], c[ok], r[ok] = trial[ok], c_new[ok], r_new[ok]
        lam = np.clip(np.where(ok, lam * 0.3, lam * 10.0), 1e-12, 1e12)
    return pars


def _grid(n: np.ndarray) -> np.ndarray:
    lo, hi = float(n.min()), float(n.max())
    if hi - lo + 1 <= _MAX_GRID:
        g = np.arange(np.ceil(lo), np.floor(hi) + 1)
    else:
        g = np.unique(np.round(np.geomspace(lo, hi, _MAX_GRID)))
    return np.unique(np.concatenate([g, n]))


def _optimum_one(
    n: np.ndarray,
    pop_evsi: np.ndarray,
    pop_se: np.ndarray,
    attrs: Mapping,
    *,
    pcut: float,
    smooth: bool,
    draws: int,
    level: float,
    rng: np.random.Generator,
) -> dict[str, float]:
    participants = attrs["n_arms"]
    cf, cf_sd = attrs["cost_fixed"], attrs["cost_fixed_sd"]
    cp, cp_sd = attrs["cost_per_patient"], attrs["cost_per_patient_sd"]
    smooth = smooth and bool(np.max(np.abs(pop_evsi)) > 0)
    if smooth:
        grid = _grid(n)
        scale = float(np.max(np.abs(pop_evsi)))
        sigma = np.sqrt(pop_se**2 + (1e-3 * scale) ** 2)
        p_hat = _fit_curve(n, pop_evsi, sigma)
        curve = _curve(p_hat, grid)
    else:
        grid, curve = n, pop_evsi
    cost = cf + grid * participants * cp
    net = curve - cost
    i = int(np.argmax(net))
    best = float(net[i])
    near = grid[net >= best - abs(pcut * best)]

    # Sampling distribution of the optimum: redraw the EVSI estimates (independent normal
    # errors with their standard errors; with smooth=True the curve is refitted to each
    # draw) and the study costs, and re-maximise.
    n_opt_d = np.empty(draws)
    max_d = np.empty(draws)
    at_opt = np.empty(draws)
    chunk = max(1, min(draws, 2_000_000 // max(grid.size, 1)))
    for start in range(0, draws, chunk):
        b = min(chunk, draws - start)
        ys = pop_evsi + rng.standard_normal((b, n.size)) * pop_se
        if smooth:
            ev = _curve(_refit_many(n, ys, sigma, p_hat), grid) if pop_se.any() else curve[None]
        else:
            ev = ys
        c = (cf + rng.standard_normal((b, 1)) * cf_sd) + grid * participants * (
            cp + rng.standard_normal((b, 1)) * cp_sd
        )
        nd = ev - c
        k = np.argmax(nd, axis=1)
        n_opt_d[start : start + b] = grid[k]
        max_d[start : start + b] = nd[np.arange(b), k]
        at_opt[start : start + b] = nd[:, i]
    if smooth:
        se_best = float(np.std(at_opt, ddof=1)) if draws > 1 else 0.0
    else:
        se_best = float(np.sqrt(pop_se[i] ** 2 + cf_sd**2 + (grid[i] * participants * cp_sd) ** 2))
    if se_best > 0:
        p_pos = float(stats.norm.sf(0.0, loc=best, scale=se_best))
    else:
        p_pos = 1.0 if best > 0 else (0.5 if best == 0 else 0.0)
    tail = (1.0 - level) / 2.0
    return {
        "n_opt": float(grid[i]),
        "enbs_max": best,
        "se": se_best,
        "p_positive": p_pos,
        "n_lower": float(near.min()),
        "n_upper": float(near.max()),
        "n_opt_lower": float(np.quantile(n_opt_d, tail, method="inverted_cdf")),
        "n_opt_upper": float(np.quantile(n_opt_d, 1 - tail, method="inverted_cdf")),
        "enbs_max_lower": float(np.quantile(max_d, tail)),
        "enbs_max_upper": float(np.quantile(max_d, 1 - tail)),
    }


def enbs_optimum(
    enbs_result: xr.Dataset,
    *,
    pcut: float = 0.05,
    smooth: bool = False,
    draws: int = 1000,
    level: float = 0.95,
    rng: RNGLike | None = None,
) -> xr.Dataset:
    """Optimal sample size and maximum ENBS, with their uncertainty.

    Parameters
    ----------
    enbs_result : xarray.Dataset
        The result of :func:`enbs`.
    pcut : float, default 0.05
        Sample sizes whose ENBS is within ``pcut·|max ENBS|`` of the maximum are
        "near-optimal" (``n_lower`` … ``n_upper``, as voi::enbs_opt).
    smooth : bool, default False
        ``False``: search the sample sizes at which EVSI was estimated (voi's default).
        ``True``: fit the curve ``EVSI(n) = a·(n/(n+b))^c`` (a, b, c > 0; weighted least
        squares with the EVSI standard errors) through the estimates and search every
        integer ``n`` between the smallest and largest (no extrapolation). The family
        contains the normal–normal EVSI with no prior tie (``c = 1/2``) and saturates at the
        EVPPI like every EVSI curve; it needs at least three sample sizes. This plays the
        role of voi's ``smooth=TRUE`` (an mgcv GAM of ENBS on ``n``).
    draws : int, default 1000
        Draws used for the uncertainty of the optimum.
    level : float, default 0.95
        Coverage of the reported intervals.
    rng : numpy.random.Generator, SeedSequence or int
        Random numbers for the draws, normalised by :func:`decisionmodel.rng.as_generator`.
        Required: the uncertainty of the optimum is always drawn, and ``None`` raises that
        function's TypeError (nothing defaults to a fixed seed).

    Returns
    -------
    xarray.Dataset
        Over ``wtp`` if the ENBS has it, otherwise scalars:

        * ``n_opt``, ``enbs_max`` — the optimum and the ENBS there; ``se`` its standard
          error (from the EVSI standard error and the cost uncertainty; with
          ``smooth=True`` the standard deviation of the refitted curves' ENBS at ``n_opt``);
        * ``p_positive`` — probability that the ENBS at ``n_opt`` is positive (normal
          approximation with that standard error, voi's ``pce``), i.e. that the study is
          worth doing;
        * ``n_lower``, ``n_upper`` — the near-optimal range (``pcut``);
        * ``n_opt_lower``, ``n_opt_upper`` and ``enbs_max_lower``, ``enbs_max_upper`` — a
          ``level`` interval of the optimal ``n`` and of the maximum ENBS, from ``draws``
          draws of the EVSI estimates from their sampling distribution (independent normal
          errors with the reported standard errors at each ``n``; with ``smooth=True`` the
          curve is refitted to every draw) combined with draws of uncertain study costs,
          each draw re-maximised. Independent errors are conservative for the location of
          the optimum: EVSI estimates at different ``n`` from one PSA sample are usually
          positively correlated, which moves the curve up and down more than it tilts it.
          With exact EVSI and fixed costs the intervals collapse to the point estimates.

    Raises
    ------
    VOIInputError
        ``enbs_result`` is not an :func:`enbs` result, or ``pcut``, ``level`` or ``draws``
        is out of range, or ``smooth=True`` with fewer than 3 sample sizes.
    TypeError
        ``rng`` is None.

    See Also
    --------
    enbs : The ENBS over sample sizes that this maximises.
    evsi : The per-person EVSI over sample sizes.

    Notes
    -----
    The optimum is searched only within the range of sample sizes given; if ``n_opt`` is
    the largest (or smallest) of them, the true optimum may lie beyond it.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> def evsi_exact(n):  # normal-normal study: L(200, 600*sqrt(n/(n+100)))
    ...     s = 600 * np.sqrt(n / (n + 100.0))
    ...     return s * stats.norm.pdf(200 / s) - 200 * stats.norm.cdf(-200 / s)
    >>> ns = [10, 50, 200, 1000]
    >>> res = enbs({n: evsi_exact(n) for n in ns}, pop_per_year=10_000, horizon=10,
    ...            discount=0.035, cost_fixed=200_000, cost_per_patient=1500)
    >>> opt = enbs_optimum(res, rng=1)
    >>> int(opt["n_opt"]), round(float(opt["enbs_max"]) / 1e6, 2)
    (1000, 10.28)
    >>> opt = enbs_optimum(res, smooth=True, rng=1)
    >>> int(opt["n_opt"]), round(float(opt["enbs_max"]) / 1e6, 2)   # exact: 721, 10.39
    (686, 10.38)
    """
    if not isinstance(enbs_result, xr.Dataset) or "enbs" not in enbs_result:
        raise VOIInputError("enbs_optimum: expected the Dataset returned by enbs()")
    if not 0 <= pcut < 1:
        raise VOIInputError(f"pcut: expected a number in [0, 1), got {pcut!r}")
    if not 0 < level < 1:
        raise VOIInputError(f"level: expected a number in (0, 1), got {level!r}")
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise VOIInputError(f"draws: expected a whole number >= 1, got {draws!r}")
    n = np.asarray(enbs_result["n"].values, dtype=float)
    if smooth and np.unique(n).size < 3:
        raise VOIInputError(
            f"smooth=True needs EVSI at 3 or more sample sizes, got {n.size}; use smooth=False"
        )
    gen = _required_generator(rng)
    attrs = enbs_result.attrs
    pe = enbs_result["pop_evsi"]
    ps = enbs_result["pop_evsi_se"]

    def optimum(pop_evsi: np.ndarray, pop_se: np.ndarray) -> dict[str, float]:
        return _optimum_one(
            n,
            pop_evsi,
            pop_se,
            attrs,
            pcut=pcut,
            smooth=smooth,
            draws=int(draws),
            level=level,
            rng=gen,
        )

    if "wtp" in pe.dims:
        rows = [optimum(pe.sel(wtp=w).values, ps.sel(wtp=w).values) for w in pe["wtp"].values]
        data = {
            k: xr.DataArray([r[k] for r in rows], dims=("wtp",), coords={"wtp": pe["wtp"].values})
            for k in rows[0]
        }
    else:
        row = optimum(pe.values, ps.values)
        data = {k: xr.DataArray(v) for k, v in row.items()}
    out = xr.Dataset(data)
    out.attrs.update(
        {k: v for k, v in attrs.items() if k != "quantity"},
        quantity="enbs_optimum",
        pcut=pcut,
        smooth=bool(smooth),
        draws=int(draws),
        level=level,
    )
    return out
