"""Evidence model ``tumour_kinetics``: doubling times, growth and regrowth after resection.

A PyMC synthesis of the evidence file ``tumour_kinetics``, registered in :data:`SPECS` (see
:mod:`decisionmodel.evidence.registry` for the contract); the helpers it shares with the
other risk models are in :mod:`decisionmodel.evidence.models.risk_common`.

Volume doubling times ``DT ~ LogNormal(m_pop, s_pop)`` per ``population`` (days):
``crlm_overt``, ``crlm_occult`` (Finlay 1988), ``crlm_metachronous`` (BJS Open 2019),
``lung`` (Am J Clin Oncol 2003) and ``primary_crc`` (Burke 2020). The published summaries
are the likelihood, through their large-sample distributions:

* mean and SD (or SEM, SD = SEM * sqrt(n)): the sample mean and the sample variance
  are each lognormal with their exact mean and variance under the lognormal model
  (``E = exp(m + s^2/2)``, ``Var(mean) = sigma^2 / n``; ``E S^2 = sigma^2``,
  ``Var(S^2) = sigma^4 (kurtosis - (n - 3)/(n - 1)) / n``), jointly normal on the log
  scale with the correlation ``skewness / sqrt(kurtosis - (n - 3)/(n - 1))`` of mean
  and variance;
* mean only (BJS Open 2019, n = 361): the lognormal sample mean;
* median and IQR: ``(log q1, log median, log q3)`` multivariate normal around
  ``m + s * (-0.674, 0, 0.674)`` with the order-statistic covariance
  ``s^2 p_i (1 - p_j) / (n phi(z_i) phi(z_j))``.

The lung series gives no patient count: ``n = 21`` patients is assumed (408 nodules in
21 patients; nodules of one patient are not independent). Priors: the spread ``s ~
LogNormal(log 0.7, 0.35)`` (95 % 0.35-1.4, around the spreads the series report,
0.55-0.95; the mean-only population has nothing else) and the location ``loc ~
Normal(log 100, 1)``, the log *mean* doubling time for populations summarised by a mean
(``m = loc - s^2/2``) and the log median (``m = loc``) otherwise. ``loc`` is sampled as
``anchor + scale * zeta`` with ``anchor`` the reported log mean (or median) and
``scale`` its standard error given ``s``, and ``zeta``'s prior the exact image of
``loc``'s (``Normal((log 100 - anchor) / scale, 1 / scale)``): without it the
location's posterior width scales with ``s`` (a funnel) and NUTS diverged.
A new tumour's doubling time is ``exp(m + s * z_patient)`` and its growth rate
``growth_rate = ln 2 / DT`` (per day). ``regrowth_time`` (months, ``population`` x
``margin``) is ``ln(N_lethal / N_residual) / growth_rate`` with ``log10 N_lethal ~
Normal(12, 0.3)`` (Friberg 1997) and residual burdens of 10^7 cells after R0 (the
dossier's calibrated default), 10^8 after R1 and 10^9 after R2 (assumptions, flag D:
one and two orders of magnitude more).

The pure tumour-kinetics functions :func:`dfi_weights` and :func:`growth_rate_given_dfi`
condition its growth-rate draws on a patient's disease-free interval. The regrowth-time
kernel, the residual burdens by margin and the days per month are clinical definitions
(:mod:`decisionmodel.clinical.kinetics`), used here.

Outputs (tree-parameter name -> draws with dims ``(chain, draw)``): ``growth_rate_<pop>``
(per day) for the five populations, ``growth_rate_crlm`` (= ``crlm_occult``, the dossier's
default doubling time), ``regrowth_time_r0_crlm_mo``, ``regrowth_time_r1_crlm_mo``,
``regrowth_time_r2_crlm_mo``.

Checks (``checks(dt, evidence)``) replicate every published number the model was fitted to
from the posterior: a new series of the same size from a *new* centre / series (the mixed
predictive, which tests the random-effects distribution, not only the series' own fit),
the reported summary of a new sample of the same size of doubling times, or a new
estimate with the reported standard error. Intervals are central 95 %; the replicates use a
fixed seed, so a check is a pure function of the posterior.

The model passes the diagnostics gate of :func:`decisionmodel.evidence.fit.fit`
(R-hat <= 1.01, bulk and tail ESS >= 400 for every posterior variable, no divergence)
with PyMC's default NUTS settings (1000 tuning steps and 1000 draws in 4 chains,
``target_accept`` 0.8), in roughly 6-15 leapfrog steps per draw.

Examples
--------
>>> [spec.name for spec in SPECS]
['tumour_kinetics']
>>> from decisionmodel.clinical.kinetics import regrowth_days
>>> round(regrowth_days(0.0081, 1e7, 1e12), 1)  # days, ln(1e5) / 0.0081
1421.3
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import stats

from decisionmodel.clinical.kinetics import DAYS_PER_MONTH, RESIDUAL_LOG10_CELLS
from decisionmodel.evidence.files import EvidenceFile
from decisionmodel.evidence.models.risk_common import (
    _CHECK_SEED,
    _area,
    _flat,
    _frame,
    _interval,
    _is_prior,
    _posterior,
    _row,
    _scalar,
    _short_citation,
)
from decisionmodel.evidence.registry import ModelSpec
from decisionmodel.exceptions import (
    EvidenceModelError,
    ParameterError,
)
from decisionmodel.rng import RNGLike, as_generator

__all__ = [
    "KINETICS_ASSUMED_N",
    "KINETICS_POPULATIONS",
    "SPECS",
    "build_tumour_kinetics",
    "dfi_weights",
    "growth_rate_given_dfi",
    "kinetics_data",
    "tumour_kinetics_checks",
    "tumour_kinetics_outputs",
]

#: entry id -> population coordinate (other doubling-time entries use their id)
KINETICS_POPULATIONS: dict[str, str] = {
    "finlay1988_doubling_time_overt_crlm": "crlm_overt",
    "finlay1988_doubling_time_occult_crlm": "crlm_occult",
    "bjsopen2019_doubling_time_metachronous_crlm": "crlm_metachronous",
    "ajco2003_doubling_time_pulmonary": "lung",
    "burke2020_doubling_time_primary_crc": "primary_crc",
}
#: sample sizes assumed where the file gives none (408 nodules in 21 patients)
KINETICS_ASSUMED_N: dict[str, int] = {"ajco2003_doubling_time_pulmonary": 21}
_TIME_IN_DAYS = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH, "years": 365.25}
_Q = float(stats.norm.ppf(0.75))
#: prior of the location (log mean or log median doubling time, days): Normal(mean, sd)
_LOC_PRIOR = (math.log(100.0), 1.0)
#: prior of the lognormal shape s: LogNormal(log median, sd)
_S_PRIOR = (0.7, 0.35)
_QUARTILE_P = np.array([0.25, 0.5, 0.75])


def _quartile_chol() -> np.ndarray:
    """Cholesky factor of the asymptotic covariance of sqrt(n) (q1, median, q3) of N(0, 1)."""
    z = stats.norm.ppf(_QUARTILE_P)
    phi = stats.norm.pdf(z)
    p = _QUARTILE_P
    cov = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            lo, hi = min(i, j), max(i, j)
            cov[i, j] = p[lo] * (1 - p[hi]) / (phi[i] * phi[j])
    return np.linalg.cholesky(cov)


def kinetics_data(evidence: Mapping[str, EvidenceFile]) -> pd.DataFrame:
    """The doubling-time summaries used by ``tumour_kinetics`` (times in days).

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``tumour_kinetics``.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``population``, ``kind`` (``mean_sd``, ``mean``, ``median_iqr``),
        ``n``, ``n_assumed`` (bool), ``mean``, ``sd``, ``median``, ``q1``, ``q3``,
        ``source``.

    Raises
    ------
    MissingEvidenceError
        ``evidence`` has no ``tumour_kinetics`` file.
    EvidenceModelError
        The file holds no usable doubling times.

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> d = kinetics_data(load_all("priors")).set_index("population")
    >>> round(float(d.loc["crlm_occult", "sd"]), 1)  # SEM 12 x sqrt(18)
    50.9
    """
    ev = _area(evidence, "tumour_kinetics")
    rows = []
    for e in ev.entries.values():
        if _is_prior(e) or e["quantity"] != "doubling_time":
            continue
        scale = _TIME_IN_DAYS.get(str(e.get("unit")))
        if scale is None:
            continue
        n = e.get("n")
        assumed = n is None and e["id"] in KINETICS_ASSUMED_N
        if assumed:
            n = KINETICS_ASSUMED_N[e["id"]]
        if n is None:
            continue
        row: dict[str, Any] = {
            "id": e["id"],
            "population": KINETICS_POPULATIONS.get(e["id"], e["id"]),
            "n": int(n),
            "n_assumed": assumed,
            "mean": np.nan,
            "sd": np.nan,
            "median": np.nan,
            "q1": np.nan,
            "q3": np.nan,
            "source": _short_citation(e),
        }
        if e["type"] == "mean_sd":
            sd = e["sd"] if "sd" in e else e["se"] * math.sqrt(n)
            row.update(kind="mean_sd", mean=e["mean"] * scale, sd=sd * scale)
        elif e["type"] == "value":
            row.update(kind="mean", mean=e["value"] * scale)
        elif e["type"] == "median_iqr":
            row.update(
                kind="median_iqr",
                median=e["median"] * scale,
                q1=e["q1"] * scale,
                q3=e["q3"] * scale,
            )
        else:
            continue
        rows.append(row)
    if not rows:
        raise EvidenceModelError(f"{ev.path}: no usable doubling times for tumour_kinetics")
    cols = [
        "id",
        "population",
        "kind",
        "n",
        "n_assumed",
        "mean",
        "sd",
        "median",
        "q1",
        "q3",
        "source",
    ]
    return pd.DataFrame(rows, columns=cols)


def _lethal_prior(evidence: Mapping[str, EvidenceFile]) -> tuple[float, float]:
    ev = evidence.get("tumour_kinetics")
    if ev is not None and "friberg1997_lethal_burden" in ev:
        dist = ev["friberg1997_lethal_burden"].get("distribution")
        if dist is not None and dist["distribution"] == "normal":
            return float(dist["mean"]), float(dist["sd"])
    return 12.0, 0.3


def build_tumour_kinetics(evidence: Mapping[str, EvidenceFile]) -> pm.Model:
    """Lognormal doubling times per population, fitted to the published summaries.

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``tumour_kinetics``.

    Returns
    -------
    pymc.Model
        Coords ``population``, ``margin`` (R0, R1, R2) and one per likelihood block
        (``mean_sd_entry``, ``mean_entry``, ``quartile``). Free ``log_s``, ``zeta``,
        ``z_patient`` (population) and ``log10_lethal_cells``; deterministics ``s``,
        ``loc``, ``m``, ``dt_median``, ``dt_mean``, ``growth_rate`` (population; per day,
        a new tumour) and ``regrowth_time`` (population, margin; months). The model is
        described in the module docstring.

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> m = build_tumour_kinetics(load_all("priors"))
    >>> m.coords["population"]
    ('crlm_overt', 'crlm_occult', 'crlm_metachronous', 'lung', 'primary_crc')
    """
    data = kinetics_data(evidence)
    pops = list(dict.fromkeys(data["population"]))
    lethal_mean, lethal_sd = _lethal_prior(evidence)
    margins = list(RESIDUAL_LOG10_CELLS)
    residual = np.array([RESIDUAL_LOG10_CELLS[k] for k in margins])
    msd = data[data["kind"] == "mean_sd"]
    mon = data[data["kind"] == "mean"]
    miqr = data[data["kind"] == "median_iqr"]
    coords = {
        "population": pops,
        "margin": margins,
        "mean_sd_entry": list(msd["id"]),
        "mean_entry": list(mon["id"]),
        "quartile": ["q1", "median", "q3"],
    }
    chol = _quartile_chol()
    # location: log mean DT where a mean is reported (mean and spread are then nearly
    # independent a posteriori), else log median DT; anchored at the reported summary with
    # the largest n and scaled by its standard error given s (see the docstring)
    on_mean, anchor, n_loc = [], [], []
    for pop in pops:
        rows = data[data["population"] == pop].sort_values("n", ascending=False)
        means = rows[rows["kind"] != "median_iqr"]
        r = means.iloc[0] if len(means) else rows.iloc[0]
        on_mean.append(len(means) > 0)
        anchor.append(math.log(r["mean"] if len(means) else r["median"]))
        n_loc.append(float(r["n"]))
    on_mean_a, anchor_a, n_loc_a = np.array(on_mean), np.array(anchor), np.array(n_loc)
    with pm.Model(coords=coords) as model:
        log_s = pm.Normal("log_s", math.log(_S_PRIOR[0]), _S_PRIOR[1], dims="population")
        s = pm.Deterministic("s", pt.exp(log_s), dims="population")
        s2 = s**2
        scale = pt.where(
            on_mean_a,
            pt.sqrt(pt.log1p(pt.expm1(s2) / n_loc_a)),  # SD of the log sample mean
            s * math.sqrt(math.pi / 2) / np.sqrt(n_loc_a),  # SD of the log sample median
        )
        zeta = pm.Normal(
            "zeta",
            mu=(_LOC_PRIOR[0] - anchor_a) / scale,
            sigma=_LOC_PRIOR[1] / scale,
            dims="population",
        )
        loc = pm.Deterministic("loc", anchor_a + scale * zeta, dims="population")
        m = pm.Deterministic("m", loc - on_mean_a * s2 / 2, dims="population")
        pm.Deterministic("dt_median", pt.exp(m), dims="population")
        mean_dt = pm.Deterministic("dt_mean", pt.exp(m + s2 / 2), dims="population")
        sigma_dt = mean_dt * pt.sqrt(pt.expm1(s2))

        if len(msd):
            i = np.array([pops.index(p) for p in msd["population"]])
            n = msd["n"].to_numpy(dtype=float)
            log_mean = np.log(msd["mean"].to_numpy(dtype=float))
            log_var = np.log(msd["sd"].to_numpy(dtype=float) ** 2)
            v = s2[i]
            cv2 = pt.expm1(v)
            skew = (pt.exp(v) + 2) * pt.sqrt(cv2)
            kurt = pt.exp(4 * v) + 2 * pt.exp(3 * v) + 3 * pt.exp(2 * v) - 3
            # sample mean and variance, each lognormal with its exact mean and variance
            sd1 = pt.sqrt(pt.log1p(cv2 / n))
            mu1 = pt.log(mean_dt[i]) - sd1**2 / 2
            excess = kurt - (n - 3) / (n - 1)  # n Var(S^2) / sigma^4
            sd2 = pt.sqrt(pt.log1p(excess / n))
            mu2 = pt.log(sigma_dt[i] ** 2) - sd2**2 / 2
            rho = skew / pt.sqrt(excess)  # corr(mean, S^2) = mu3 / sqrt(sigma^2 n Var(S^2))
            pm.Normal("log_mean_obs", mu=mu1, sigma=sd1, observed=log_mean, dims="mean_sd_entry")
            pm.Normal(
                "log_var_obs",
                mu=mu2 + rho * sd2 * (log_mean - mu1) / sd1,
                sigma=sd2 * pt.sqrt(1 - rho**2),
                observed=log_var,
                dims="mean_sd_entry",
            )
        if len(mon):
            i = np.array([pops.index(p) for p in mon["population"]])
            n = mon["n"].to_numpy(dtype=float)
            sd1 = pt.sqrt(pt.log1p(pt.expm1(s2[i]) / n))
            pm.Normal(
                "log_mean_only_obs",
                mu=pt.log(mean_dt[i]) - sd1**2 / 2,
                sigma=sd1,
                observed=np.log(mon["mean"].to_numpy(dtype=float)),
                dims="mean_entry",
            )
        for _, r in miqr.iterrows():
            j = pops.index(r["population"])
            obs = np.log([r["q1"], r["median"], r["q3"]])
            centre = m[j] + s[j] * np.array([-_Q, 0.0, _Q])
            pm.MvNormal(
                f"quartiles_obs_{r['id']}",
                mu=centre,
                chol=(s[j] / math.sqrt(r["n"])) * chol,
                observed=obs,
                dims="quartile",
            )

        z_patient = pm.Normal("z_patient", 0.0, 1.0, dims="population")
        rate = pm.Deterministic(
            "growth_rate", math.log(2.0) / pt.exp(m + s * z_patient), dims="population"
        )
        lethal = pm.Normal("log10_lethal_cells", lethal_mean, lethal_sd)
        pm.Deterministic(
            "regrowth_time",
            (lethal - residual[None, :]) * math.log(10.0) / rate[:, None] / DAYS_PER_MONTH,
            dims=("population", "margin"),
        )
    return model


def tumour_kinetics_outputs(dt: xr.DataTree) -> dict[str, xr.DataArray]:
    """``growth_rate_<population>`` (per day), ``growth_rate_crlm`` (occult CRLM) and
    ``regrowth_time_<margin>_crlm_mo`` (months, occult-CRLM growth).

    Parameters
    ----------
    dt : xarray.DataTree
        A fit of :func:`build_tumour_kinetics` (its ``posterior`` group is read).

    Returns
    -------
    dict
        Output name -> draws with dims ``(chain, draw)``; the occult-CRLM outputs only
        when that population was fitted.

    Raises
    ------
    EvidenceModelError
        ``dt`` has no posterior group.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> post = xr.Dataset(
    ...     {"growth_rate": (("chain", "draw", "population"), np.full((1, 2, 1), 0.01)),
    ...      "regrowth_time": (("chain", "draw", "population", "margin"), np.ones((1, 2, 1, 1)))},
    ...     coords={"population": ["crlm_occult"], "margin": ["R1"]})
    >>> sorted(tumour_kinetics_outputs(xr.DataTree.from_dict({"posterior": post})))
    ['growth_rate_crlm', 'growth_rate_crlm_occult', 'regrowth_time_r1_crlm_mo']
    """
    post = _posterior(dt)
    out: dict[str, xr.DataArray] = {}
    pops = [str(p) for p in post["growth_rate"].coords["population"].values]
    for pop in pops:
        name = f"growth_rate_{pop}"
        out[name] = _scalar(post["growth_rate"].sel(population=pop), name)
    if "crlm_occult" in pops:
        out["growth_rate_crlm"] = _scalar(
            post["growth_rate"].sel(population="crlm_occult"), "growth_rate_crlm"
        )
        for margin in post["regrowth_time"].coords["margin"].values:
            name = f"regrowth_time_{str(margin).lower()}_crlm_mo"
            cell = post["regrowth_time"].sel(population="crlm_occult", margin=margin)
            out[name] = _scalar(cell, name)
    return out


def tumour_kinetics_checks(
    dt: xr.DataTree, evidence: Mapping[str, EvidenceFile], max_draws: int = 2000
) -> pd.DataFrame:
    """Each reported summary (mean, SD, median, quartiles) against the same summary of a
    new lognormal sample of the same size, one sample per posterior draw (at most
    ``max_draws`` draws, evenly thinned; fixed seed).

    Parameters
    ----------
    dt : xarray.DataTree
        A fit of :func:`build_tumour_kinetics`.
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``tumour_kinetics`` (the file it was fitted
        to).
    max_draws : int
        At most this many posterior draws are used (speed).

    Returns
    -------
    pandas.DataFrame
        One row per reported summary (``<id>:mean``, ``<id>:sd``, ``<id>:q1`` ...), with
        the columns of :data:`~decisionmodel.evidence.registry.CHECK_COLUMNS` (central
        95 % intervals of the replicates).

    Raises
    ------
    MissingEvidenceError, EvidenceModelError
        As for :func:`kinetics_data`, or ``dt`` has no posterior group.
    """
    post = _posterior(dt)
    data = kinetics_data(evidence)
    rng = np.random.default_rng(_CHECK_SEED)
    m_all, s_all = _flat(post["m"]), _flat(post["s"])
    pops = [str(p) for p in post["m"].coords["population"].values]
    keep = np.unique(np.linspace(0, len(m_all) - 1, min(max_draws, len(m_all))).astype(int))
    rows = []
    for _, r in data.iterrows():
        j = pops.index(r["population"])
        m, s = m_all[keep, j], s_all[keep, j]
        n = int(r["n"])
        sample = np.exp(m[:, None] + s[:, None] * rng.standard_normal((len(keep), n)))
        n_note = f"n = {n}, assumed" if r["n_assumed"] else f"n = {n}"
        src = f"{r['source']} ({r['population']}, days, {n_note})"
        if r["kind"] in ("mean_sd", "mean"):
            rows.append(_row(f"{r['id']}:mean", r["mean"], *_interval(sample.mean(1)), src))
        if r["kind"] == "mean_sd":
            rows.append(_row(f"{r['id']}:sd", r["sd"], *_interval(sample.std(1, ddof=1)), src))
        if r["kind"] == "median_iqr":
            q = np.quantile(sample, [0.25, 0.5, 0.75], axis=1)
            for k, key in enumerate(("q1", "median", "q3")):
                rows.append(_row(f"{r['id']}:{key}", r[key], *_interval(q[k]), src))
    return _frame(rows)


def _as_array(x: Any) -> np.ndarray:
    return np.asarray(x.values if isinstance(x, xr.DataArray) else x, dtype=float)


def _dfi_log_weights(
    r: np.ndarray, dfi_months: float, n_detect: float, n_start: float, sigma_log_dfi: float
) -> np.ndarray:
    if not (np.isfinite(dfi_months) and dfi_months > 0):
        raise ParameterError(f"dfi_months must be positive, got {dfi_months!r}")
    if not (n_start > 0 and n_detect > n_start):
        raise ParameterError(
            f"need 0 < n_start < n_detect, got n_start={n_start!r}, n_detect={n_detect!r}"
        )
    if not sigma_log_dfi > 0:
        raise ParameterError(f"sigma_log_dfi must be positive, got {sigma_log_dfi!r}")
    if not (np.all(np.isfinite(r)) and np.all(r > 0)):
        raise ParameterError("r_draws must be positive and finite")
    t_days = math.log(n_detect / n_start) / r
    resid = (math.log(dfi_months * DAYS_PER_MONTH) - np.log(t_days)) / sigma_log_dfi
    return -0.5 * resid**2


def dfi_weights(
    r_draws: Any,
    dfi_months: float,
    n_detect: float = 1e9,
    n_start: float = 1.0,
    *,
    sigma_log_dfi: float = 0.25,
) -> Any:
    """Normalised importance weights of growth-rate draws given a disease-free interval.

    The tumour grows exponentially from ``n_start`` cells (one cell at seeding, or a
    residual burden at the end of the previous treatment) and is detected at ``n_detect``
    cells, after ``T(r) = ln(n_detect / n_start) / r`` days. The observed disease-free
    interval is ``log DFI ~ Normal(log T(r), sigma_log_dfi)``: the noise stands for the
    uncertain detection threshold (10^8-10^9 cells per cm^3, Del Monte 2009) and the
    imaging interval that delays detection (default 0.25, an assumption). Each draw's
    weight is this likelihood, normalised to sum to one: with ``r_draws`` from the prior
    (e.g. the ``growth_rate_*`` outputs), the weighted draws are the posterior of ``r``
    given the DFI.

    Parameters
    ----------
    r_draws : array-like or xarray.DataArray
        Growth-rate draws per day (> 0).
    dfi_months : float
        Observed disease-free interval in months (> 0).
    n_detect, n_start : float
        Cells at detection and at the start, ``0 < n_start < n_detect``.
    sigma_log_dfi : float
        SD of log DFI given ``r``.

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        Weights with the shape (and dims) of ``r_draws``, summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([0.005, 0.01, 0.02])
    >>> w = dfi_weights(r, dfi_months=np.log(1e9) / 0.01 / DAYS_PER_MONTH)  # T(0.01)
    >>> int(np.argmax(w)), round(float(w.sum()), 6)
    (1, 1.0)
    """
    r = _as_array(r_draws)
    logw = _dfi_log_weights(r, float(dfi_months), float(n_detect), float(n_start), sigma_log_dfi)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    if isinstance(r_draws, xr.DataArray):
        return r_draws.copy(data=w).rename("weight")
    return w


def growth_rate_given_dfi(
    r_draws: Any,
    dfi_months: float,
    n_detect: float = 1e9,
    n_start: float = 1.0,
    *,
    sigma_log_dfi: float = 0.25,
    rng: RNGLike,
) -> Any:
    """Growth-rate draws conditioned on a patient's disease-free interval.

    Importance-resamples ``r_draws`` (the population growth rate of a new tumour) with
    the weights of :func:`dfi_weights` (systematic resampling): a short DFI selects fast
    growth, a long one slow growth; starting from a residual burden (``n_start`` large)
    instead of one cell needs fewer doublings, so the same DFI implies slower growth. The
    result has the shape (and dims) of ``r_draws`` and can be passed to
    :func:`~decisionmodel.clinical.kinetics.regrowth_time`. A warning is issued when the
    effective sample size of the weights falls below 1 % of the draws (the DFI conflicts
    with the prior: e.g. a 12-month DFI from a single cell needs a doubling time near 12
    days).

    Parameters
    ----------
    r_draws : array-like or xarray.DataArray
        Growth-rate draws per day (> 0).
    dfi_months : float
        Observed disease-free interval in months.
    n_detect, n_start : float
        Cells at detection (default 10^9, about 1 cm^3) and at the start (default one cell).
    sigma_log_dfi : float
        SD of log DFI given ``r`` (see :func:`dfi_weights`).
    rng : numpy.random.Generator, numpy.random.SeedSequence or int
        Randomness of the resampling (required; see :func:`decisionmodel.rng.as_generator`:
        the same seed gives the same draws).

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        Resampled growth rates per day.

    Examples
    --------
    >>> import numpy as np
    >>> prior = np.log(2) / np.random.default_rng(1).lognormal(np.log(75), 0.55, 20000)
    >>> fast = growth_rate_given_dfi(prior, 9, n_start=1e7, rng=0)
    >>> slow = growth_rate_given_dfi(prior, 36, n_start=1e7, rng=0)
    >>> bool(np.median(fast) > np.median(prior) > np.median(slow))
    True
    """
    w = _as_array(dfi_weights(r_draws, dfi_months, n_detect, n_start, sigma_log_dfi=sigma_log_dfi))
    flat_w = w.ravel()
    size = flat_w.size
    ess = 1.0 / np.sum(flat_w**2)
    if ess < 0.01 * size:
        warnings.warn(
            f"growth_rate_given_dfi: effective sample size {ess:.0f} of {size} draws; the "
            f"DFI of {dfi_months} months conflicts with the growth-rate draws "
            f"(n_start={n_start:g}, n_detect={n_detect:g})",
            UserWarning,
            stacklevel=2,
        )
    gen = as_generator(rng)
    positions = (gen.random() + np.arange(size)) / size
    cum = np.cumsum(flat_w)
    cum[-1] = 1.0
    idx = np.searchsorted(cum, positions, side="right")
    draws = _as_array(r_draws).ravel()[idx].reshape(w.shape)
    if isinstance(r_draws, xr.DataArray):
        return r_draws.copy(data=draws)
    return draws


SPECS: list[ModelSpec] = [
    ModelSpec(
        name="tumour_kinetics",
        files=("tumour_kinetics",),
        build=build_tumour_kinetics,
        outputs=tumour_kinetics_outputs,
        checks=tumour_kinetics_checks,
        version="1",
    ),
]
