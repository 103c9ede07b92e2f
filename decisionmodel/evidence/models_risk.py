"""Evidence models for risks: surgical risk, intraoperative findings and tumour kinetics.

Three PyMC syntheses of the evidence files in ``priors/``, registered in
:data:`SPECS` (see :mod:`decisionmodel.evidence.registry` for the contract), plus the pure
tumour-kinetics functions :func:`dfi_weights` and :func:`growth_rate_given_dfi`. The
regrowth-time kernel, the residual burdens by margin and the days per month are clinical
definitions (:mod:`decisionmodel.clinical.kinetics`), used here.

``surgical_risk`` (file ``surgical_risk``)
    Random-effects meta-analysis of perioperative mortality and morbidity, binomial
    likelihood on the logit scale. One cell per (procedure, outcome):

    * procedures (coordinate ``procedure``): ``hepatectomy``, ``repeat_hepatectomy``,
      ``lung`` (lung metastasectomy), ``whipple`` (pancreatoduodenectomy), ``bypass``
      (palliative double bypass), ``crs`` (cytoreductive surgery alone), ``crs_hipec``
      (CRS + HIPEC; PRODIGE 7's mortality, reported for both arms together, is counted here);
    * outcomes (coordinate ``outcome``): ``mortality_30d`` (30-day, operative, perioperative,
      in-hospital or unqualified mortality), ``major_morbidity`` (Clavien-Dindo >= III or
      grade >= 3, at whatever horizon the series reports: 30, 60 or 90 days) and
      ``morbidity`` (any complication).

    Each series ``s`` (coordinate ``study``: one study, procedure, outcome and arm or
    stratum) has a centre effect ``theta_s ~ Normal(mu[procedure, outcome], tau[family])``
    with a between-study SD ``tau ~ HalfNormal(1)`` per outcome family (``mortality``;
    ``morbidity``, shared by major and any morbidity because most cells hold a single
    series). ``expit(theta_s)`` is the series' 30-day mortality (or its morbidity). The
    sampler sees an equivalent parameterisation (cell means of the series effects with
    ``mu`` integrated out; within-cell contrasts scaled by their approximate conditional
    posterior, which is centred where the data dominate and non-centred where ``tau`` is
    small; ``mu`` redrawn from its exact conditional; see :func:`build_surgical_risk`). The
    plain non-centred form ``theta = mu + tau * z`` needed ~125 leapfrog steps per draw and
    still diverged, because most series hold hundreds or thousands of patients.

    *30- versus 90-day mortality* is modelled explicitly: 90-day mortality is
    ``expit(theta_s + delta)`` with one log odds ratio ``delta >= 0`` (``HalfNormal(1)``;
    90-day deaths include the 30-day deaths). A series reporting only 90-day deaths
    informs ``theta_s + delta``; a series reporting both with the same ``n`` (Robertson
    2009) has the exact nested likelihood ``y30 ~ Bin(n, p30)``, ``y90 - y30 ~
    Bin(n - y30, (p90 - p30) / (1 - p30))``, which identifies ``delta``.

    Priors: ``mu ~ Normal(logit 0.02, 1.5)`` for mortality, ``Normal(logit 0.2, 1.5)`` for
    major and ``Normal(logit 0.3, 1.5)`` for any morbidity, except the bypass mortality
    cell, whose only series is a frail-patient scenario (PMC7114792, 16.6 %): its ``mu``
    prior is the logit-normal matched to the dossier's default ``Beta(3.75, 71.25)``
    (entry ``default_bypass_mortality``, derived from Glazer 2014, Distler 2010 and
    Lillemoe 1999, none of which is in the likelihood, so nothing is counted twice).

    Deterministics: ``p_pooled`` (``expit(mu)``, the typical centre) and ``p_new_centre``
    (``expit(mu + tau * z_new)``, a new centre; ``z_new`` is a free standard normal per
    cell), both ``(procedure, outcome)``, with mortality on the 30-day scale, and
    ``p_pooled_mort90`` / ``p_new_centre_mort90`` (``procedure``) on the 90-day scale.
    Cells without a series are prior-only and are not in :func:`surgical_risk_outputs`.

    Data rules (:func:`surgical_risk_data`): events/n entries, and proportions with ``n``
    (events = round(value * n)); the dossier's derived priors (``design: synthesis``) are
    not data; entries without ``n`` (Mayo 2011, El Nakeeb 2017, Verwaal 2003, Nordlinger
    2008) and rows outside the table of procedures (the ppoFEV1 < 40 % subgroup of Markos
    1989, the biliary stent) are left out. Series tagged ``scenario`` (Robertson 2009,
    Medicare >= 65; PMC7114792, frail) are kept: they are real centres and widen the
    new-centre prediction.

``intraoperative`` (file ``intraoperative``)
    Beta-binomial over series of the probability of unexpected metastatic disease found at a
    laparotomy planned as curative, by ``site``: ``crlm`` (planned hepatectomy; peritoneal
    or extrahepatic disease) and ``whipple`` (planned pancreatectomy; occult metastases).
    A series' probability is ``Beta(m * kappa, (1 - m) * kappa)`` with ``logit m ~
    Normal(logit 0.05, 1.5)`` and ``log kappa ~ Normal(log 30, 1)``; the series
    probabilities are integrated out (``pm.BetaBinomial``). A new series' probability
    ``p_new_series = betaincinv(a, b, u_new)`` with ``u_new ~ Uniform(0, 1)`` (an exact
    generated quantity that NUTS samples easily). Only ``unexpected_metastases_at_laparotomy``
    counts are pooled; Oba 2019 (metastases found at surgery *or within 6 months*) measures
    something wider and is left out. Staging laparoscopy: the Cochrane DTA summary
    sensitivity (Allen 2016, 64.4 %, 95 % CI 50.1-76.6 %, symmetric on the logit scale) is
    a normal likelihood for ``logit_sens`` (``Normal(0, 1.5)`` prior) with standard error
    ``(logit upper - logit lower) / (2 * 1.96)``; ``sens`` is the *summary* sensitivity, as
    the review reports it.

``tumour_kinetics`` (file ``tumour_kinetics``)
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

Outputs (tree-parameter name -> draws with dims ``(chain, draw)``), all *predictive*
(a new centre, a new series, a new patient's tumour) except ``sens_staging_laparoscopy``:

* ``surgical_risk``: ``p_mort30_<proc>`` and ``p_mort90_<proc>`` for ``hepatectomy``,
  ``repeat_hepatectomy``, ``lung``, ``whipple``, ``bypass``, ``crs_hipec``;
  ``p_major_morbidity_<proc>`` for ``hepatectomy``, ``lung``, ``bypass``, ``crs``,
  ``crs_hipec``; ``p_morbidity_<proc>`` (any complication) for ``repeat_hepatectomy``,
  ``whipple``, ``crs_hipec``.
* ``intraoperative``: ``p_peritoneal_at_laparotomy`` (crlm), ``p_occult_mets_whipple``,
  ``sens_staging_laparoscopy``.
* ``tumour_kinetics``: ``growth_rate_<pop>`` (per day) for the five populations,
  ``growth_rate_crlm`` (= ``crlm_occult``, the dossier's default doubling time),
  ``regrowth_time_r0_crlm_mo``, ``regrowth_time_r1_crlm_mo``, ``regrowth_time_r2_crlm_mo``.

Checks (``checks(dt, evidence)``) replicate every published number the model was fitted to
from the posterior: a new series of the same size from a *new* centre / series (the mixed
predictive, which tests the random-effects distribution, not only the series' own fit),
the reported summary of a new sample of the same size of doubling times, or a new
estimate with the reported standard error. Intervals are central 95 %; the replicates use a
fixed seed, so a check is a pure function of the posterior.

All three models pass the diagnostics gate of :func:`decisionmodel.evidence.fit.fit`
(R-hat <= 1.01, bulk and tail ESS >= 400 for every posterior variable, no divergence)
with PyMC's default NUTS settings (1000 tuning steps and 1000 draws in 4 chains,
``target_accept`` 0.8), in roughly 6-15 leapfrog steps per draw.

Examples
--------
>>> [spec.name for spec in SPECS]
['surgical_risk', 'intraoperative', 'tumour_kinetics']
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
from scipy import special, stats

from decisionmodel.clinical.kinetics import DAYS_PER_MONTH, RESIDUAL_LOG10_CELLS
from decisionmodel.evidence.files import AUTHORS_NOT_CAPTURED, EvidenceFile
from decisionmodel.evidence.registry import CHECK_COLUMNS, ModelSpec
from decisionmodel.exceptions import EvidenceModelError, MissingEvidenceError, ParameterError
from decisionmodel.rng import RNGLike, as_generator

__all__ = [
    "SPECS",
    "dfi_weights",
    "growth_rate_given_dfi",
    "intraoperative_data",
    "kinetics_data",
    "surgical_risk_data",
]

_LEVEL = 0.95
_CHECK_SEED = 20261127  # fixed: checks are a pure function of the posterior
_SAMPLE_DIMS = ("chain", "draw")


# ============================================================================ helpers


def _expit(x: Any) -> Any:
    return special.expit(x)


def _logit(p: Any) -> Any:
    return special.logit(p)


def _posterior(dt: xr.DataTree) -> xr.Dataset:
    if "posterior" not in dt.children:
        raise EvidenceModelError("the DataTree has no 'posterior' group")
    return dt["posterior"].to_dataset()


def _flat(da: xr.DataArray) -> np.ndarray:
    """Draws of a (chain, draw, ...) array, chain and draw stacked first: (S, ...)."""
    other = [d for d in da.dims if d not in _SAMPLE_DIMS]
    arr = da.transpose(*_SAMPLE_DIMS, *other).values
    return arr.reshape(-1, *arr.shape[2:])


def _scalar(da: xr.DataArray, name: str) -> xr.DataArray:
    """A (chain, draw) array with the given name and no leftover scalar coordinates."""
    out = da.transpose(*_SAMPLE_DIMS).drop_vars(
        [c for c in da.coords if c not in _SAMPLE_DIMS], errors="ignore"
    )
    return out.rename(name)


def _interval(replicates: np.ndarray) -> tuple[float, float]:
    tail = (1 - _LEVEL) / 2
    lo, hi = np.quantile(replicates, [tail, 1 - tail])
    return float(lo), float(hi)


def _row(target: str, observed: float, lo: float, hi: float, source: str) -> dict[str, Any]:
    return {
        "target": target,
        "observed": float(observed),
        "lower": lo,
        "upper": hi,
        "passed": bool(lo <= observed <= hi),
        "source": source,
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS))


def _short_citation(entry: Mapping[str, Any]) -> str:
    c = entry["citation"][0]
    authors = str(c["authors"])
    if authors == AUTHORS_NOT_CAPTURED:
        return f"{c['journal']} {c['year']}"
    first = authors.split(",")[0].strip().split()
    if len(first) > 1 and first[-1].isupper():
        first = first[:-1]
    return f"{' '.join(first)} {c['year']}"


def _study(entry_id: str) -> str:
    """The study part of an id (``<firstauthor><year>_<what>`` -> ``<firstauthor><year>``)."""
    return entry_id.split("_")[0]


def _is_prior(entry: Mapping[str, Any]) -> bool:
    """The dossier's derived default priors are not data."""
    return entry.get("design") == "synthesis" or entry["id"].startswith("default_")


def _area(evidence: Mapping[str, EvidenceFile], area: str) -> EvidenceFile:
    try:
        return evidence[area]
    except KeyError:
        raise MissingEvidenceError(
            f"evidence model needs the area {area!r}; got {', '.join(sorted(evidence)) or 'none'}"
        ) from None


def _count(entry: Mapping[str, Any]) -> tuple[int, int] | None:
    """(events, n) of an events entry, or of a proportion with n (events = round(p n))."""
    if entry["type"] == "events":
        return int(entry["events"]), int(entry["n"])
    is_prop = entry["type"] == "proportion" or (
        entry["type"] == "value" and entry.get("unit") == "proportion"
    )
    if is_prop and "n" in entry:
        n = int(entry["n"])
        return round(float(entry["value"]) * n), n
    return None


def _beta_logit_moments(alpha: float, beta: float) -> tuple[float, float]:
    """Mean and SD of logit(X) for X ~ Beta(alpha, beta) (exact)."""
    mean = special.digamma(alpha) - special.digamma(beta)
    var = special.polygamma(1, alpha) + special.polygamma(1, beta)
    return float(mean), float(math.sqrt(var))


# ============================================================================ surgical risk

#: procedure text in ``surgical_risk.yaml`` (lower case) -> procedure coordinate
SURGICAL_PROCEDURES: dict[str, str] = {
    "hepatectomy": "hepatectomy",
    "repeat hepatectomy": "repeat_hepatectomy",
    "lung metastasectomy": "lung",
    "pancreatoduodenectomy": "whipple",
    "palliative double bypass": "bypass",
    "cytoreductive surgery": "crs",
    "cytoreductive surgery + hipec": "crs_hipec",
    "cytoreductive surgery + oxaliplatin hipec": "crs_hipec",
    "cytoreductive surgery +/- oxaliplatin hipec": "crs_hipec",
}
_PROCEDURE_ORDER = (
    "hepatectomy",
    "repeat_hepatectomy",
    "lung",
    "whipple",
    "bypass",
    "crs",
    "crs_hipec",
)
#: quantity -> (outcome coordinate, mortality horizon in days or None)
SURGICAL_QUANTITIES: dict[str, tuple[str, int | None]] = {
    "mortality_90d": ("mortality_30d", 90),
    "mortality_30d": ("mortality_30d", 30),
    "mortality_operative": ("mortality_30d", 30),
    "mortality_perioperative": ("mortality_30d", 30),
    "mortality_hospital": ("mortality_30d", 30),
    "mortality": ("mortality_30d", 30),
    "morbidity_major": ("major_morbidity", None),
    "morbidity_major_30d": ("major_morbidity", None),
    "morbidity_major_90d": ("major_morbidity", None),
    "morbidity_grade3_60d": ("major_morbidity", None),
    "morbidity": ("morbidity", None),
}
_OUTCOME_ORDER = ("mortality_30d", "major_morbidity", "morbidity")
_FAMILY = {"mortality_30d": "mortality", "major_morbidity": "morbidity", "morbidity": "morbidity"}
#: prior (mean, sd) of mu on the logit scale by outcome
_MU_PRIOR = {
    "mortality_30d": (float(_logit(0.02)), 1.5),
    "major_morbidity": (float(_logit(0.2)), 1.5),
    "morbidity": (float(_logit(0.3)), 1.5),
}
#: cells whose mu prior is the logit-normal match of a dossier default (not in the likelihood)
_CELL_PRIORS = {("bypass", "mortality_30d"): "default_bypass_mortality"}
_OUTPUT_PREFIX = {
    "major_morbidity": "p_major_morbidity",
    "morbidity": "p_morbidity",
}


def surgical_risk_data(evidence: Mapping[str, EvidenceFile]) -> pd.DataFrame:
    """The series pooled by ``surgical_risk``: one row per likelihood entry.

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``surgical_risk``.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``study`` (the series label: study, procedure, outcome and arm or
        stratum), ``procedure``, ``outcome``, ``horizon`` (30.0 or 90.0 for mortality,
        else NaN), ``events``, ``n``, ``source`` (short citation), in file order.

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> d = surgical_risk_data(load_all("priors"))
    >>> r = d.set_index("id").loc["robertson2009_mortality_90d"]  # 8.2 % of 3957
    >>> int(r["events"]), int(r["n"]), float(r["horizon"])
    (324, 3957, 90.0)
    """
    ev = _area(evidence, "surgical_risk")
    rows = []
    for e in ev.entries.values():
        if _is_prior(e):
            continue
        proc = SURGICAL_PROCEDURES.get(str(e.get("procedure", "")).lower())
        quantity = SURGICAL_QUANTITIES.get(e["quantity"])
        counts = _count(e)
        if proc is None or quantity is None or counts is None:
            continue
        outcome, horizon = quantity
        label = ":".join(
            x for x in (_study(e["id"]), proc, outcome, e.get("arm"), e.get("stratum")) if x
        )
        rows.append(
            {
                "id": e["id"],
                "study": label,
                "procedure": proc,
                "outcome": outcome,
                "horizon": horizon,
                "events": counts[0],
                "n": counts[1],
                "source": _short_citation(e),
            }
        )
    if not rows:
        raise EvidenceModelError(f"{ev.path}: no usable series for the surgical_risk model")
    return pd.DataFrame(rows)


def _surgical_design(data: pd.DataFrame) -> dict[str, Any]:
    """Coordinates, index arrays and likelihood rows of the surgical-risk model."""
    procs = [p for p in _PROCEDURE_ORDER if p in set(data["procedure"])]
    outcomes = [o for o in _OUTCOME_ORDER if o in set(data["outcome"])]
    families = sorted({_FAMILY[o] for o in outcomes}, key=["mortality", "morbidity"].index)
    studies = list(dict.fromkeys(data["study"]))
    sinfo = data.drop_duplicates("study").set_index("study")
    s_proc = np.array([procs.index(sinfo.loc[s, "procedure"]) for s in studies])
    s_out = np.array([outcomes.index(sinfo.loc[s, "outcome"]) for s in studies])
    s_fam = np.array([families.index(_FAMILY[outcomes[o]]) for o in s_out])
    # likelihood rows: kind 0 = p, 1 = 90-day p, 2 = deaths on days 31-90 among 30-day survivors
    obs_label, obs_study, obs_kind, obs_y, obs_n = [], [], [], [], []
    for s, rows in data.groupby("study", sort=False):
        r30 = rows[rows["horizon"] == 30]
        r90 = rows[rows["horizon"] == 90]
        nested = len(r30) == 1 and len(r90) == 1 and int(r30["n"].iloc[0]) == int(r90["n"].iloc[0])
        for _, r in rows.iterrows():
            obs_label.append(r["id"])
            obs_study.append(studies.index(s))
            if nested and r["horizon"] == 90:
                y30 = int(r30["events"].iloc[0])
                obs_kind.append(2)
                obs_y.append(int(r["events"]) - y30)
                obs_n.append(int(r["n"]) - y30)
            else:
                obs_kind.append(1 if r["horizon"] == 90 else 0)
                obs_y.append(int(r["events"]))
                obs_n.append(int(r["n"]))
    return {
        "procedure": procs,
        "outcome": outcomes,
        "family": families,
        "study": studies,
        "s_proc": s_proc,
        "s_out": s_out,
        "s_fam": s_fam,
        "obs": obs_label,
        "obs_study": np.array(obs_study),
        "obs_kind": np.array(obs_kind),
        "obs_y": np.array(obs_y),
        "obs_n": np.array(obs_n),
    }


def _helmert(k: int) -> np.ndarray:
    """Orthonormal basis (k, k - 1) of the contrasts (vectors orthogonal to the ones)."""
    h = np.zeros((k, k - 1))
    for j in range(1, k):
        h[:j, j - 1] = 1.0
        h[j, j - 1] = -float(j)
        h[:, j - 1] /= math.sqrt(j * (j + 1))
    return h


def _empirical_logits(data: pd.DataFrame, studies: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Empirical logit (30-day scale) and its variance per series, from its first row.

    Used only to scale the sampled contrasts (:func:`build_surgical_risk`); a 90-day-only
    series is moved to the 30-day scale by a nominal log odds ratio of 0.7.
    """
    first = data.drop_duplicates("study").set_index("study").loc[studies]
    y = first["events"].to_numpy(dtype=float) + 0.5
    n = first["n"].to_numpy(dtype=float) + 1.0
    shift = np.where(first["horizon"].to_numpy(dtype=float) == 90, 0.7, 0.0)
    return np.log(y / (n - y)) - shift, 1.0 / y + 1.0 / (n - y)


def build_surgical_risk(evidence: Mapping[str, EvidenceFile]) -> pm.Model:
    """Random-effects meta-analysis of perioperative mortality and morbidity.

    The model is ``mu[cell] ~ Normal(m0, s0)``, ``theta_s ~ Normal(mu[cell(s)],
    tau[family(s)])`` with the binomial likelihood of the module docstring. Most series
    hold hundreds or thousands of patients, so their effects are pinned down by the data
    while ``tau`` is not (for morbidity only two series of one procedure inform it): a
    centred parameterisation has a funnel where ``tau`` is small, a non-centred one
    (``theta = mu + tau * z``, ~125 leapfrog steps per draw) where it is large, and both
    diverged. The model is therefore *sampled* in an equivalent parameterisation:

    * per cell with ``k`` series, the mean of its series effects with ``mu`` integrated out,
      ``theta_bar ~ Normal(m0, sqrt(tau^2 / k + s0^2))``;
    * the ``k - 1`` orthonormal (Helmert) contrasts ``c = H' theta`` of a cell's effects,
      ``c ~ Normal(0, tau)``, sampled as ``c = a + b * contrast_u`` where ``a`` and ``b`` are
      the mean and SD of ``c`` given ``tau`` under a normal approximation of the data
      (empirical logits ``c_hat`` with variance ``v``: precision ``1/tau^2 + 1/v``); the
      prior of ``contrast_u`` is the exact image of ``Normal(0, tau)``, ``Normal(-a/b,
      tau/b)``, so the model is unchanged. Where the data dominate, ``c`` is centred on
      them; where ``tau`` is small, ``c = tau * contrast_u`` (non-centred);
    * ``mu`` drawn from its exact Gaussian conditional given ``theta_bar`` through
      ``w ~ N(0, 1)``: precision ``1/s0^2 + k/tau^2``, mean ``(m0/s0^2 + k theta_bar/tau^2)
      / precision`` (a cell without series keeps its prior, ``m0 + s0 w``).

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``surgical_risk``.

    Returns
    -------
    pymc.Model
        Coords ``procedure``, ``outcome``, ``family``, ``study``, ``obs``, ``cell``
        (``procedure:outcome`` of the cells with series) and ``contrast``. Free variables
        ``tau`` (family), ``theta_bar`` (cell), ``contrast_u`` (contrast; absent when no
        cell has two series), ``w`` and ``z_new`` (procedure, outcome) and, when mortality
        is modelled, ``delta``; deterministics ``mu``, ``p_pooled`` and ``p_new_centre``
        (procedure, outcome), ``theta`` and ``p_study`` (study), ``p_pooled_mort90`` and
        ``p_new_centre_mort90`` (procedure); observed ``y`` (obs).

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> m = build_surgical_risk(load_all("priors"))
    >>> sorted(v.name for v in m.free_RVs)
    ['contrast_u', 'delta', 'tau', 'theta_bar', 'w', 'z_new']
    >>> len(m.coords["cell"]), len(m.coords["contrast"])
    (14, 5)
    """
    data = surgical_risk_data(evidence)
    d = _surgical_design(data)
    ev = evidence["surgical_risk"]
    n_proc, n_out = len(d["procedure"]), len(d["outcome"])
    mean = np.array([[_MU_PRIOR[o][0] for o in d["outcome"]] for _ in d["procedure"]])
    sd = np.array([[_MU_PRIOR[o][1] for o in d["outcome"]] for _ in d["procedure"]])
    for (proc, out), eid in _CELL_PRIORS.items():
        if proc in d["procedure"] and out in d["outcome"] and eid in ev:
            dist = ev[eid].get("distribution")
            if dist is not None and dist["distribution"] == "beta":
                i, j = d["procedure"].index(proc), d["outcome"].index(out)
                mean[i, j], sd[i, j] = _beta_logit_moments(dist["alpha"], dist["beta"])
    m0, s0 = mean.ravel(), sd.ravel()
    # cells with series (grid index, in order of first appearance) and their contrasts
    flat_cell = d["s_proc"] * n_out + d["s_out"]
    cells = list(dict.fromkeys(flat_cell.tolist()))
    s_cell = np.array([cells.index(c) for c in flat_cell])
    k_cell = np.bincount(s_cell, minlength=len(cells)).astype(float)
    cell_labels = [f"{d['procedure'][c // n_out]}:{d['outcome'][c % n_out]}" for c in cells]
    fam_grid = np.tile([d["family"].index(_FAMILY[o]) for o in d["outcome"]], n_proc)
    contrast_labels: list[str] = []
    blocks = []
    for ci, label in enumerate(cell_labels):
        members = np.flatnonzero(s_cell == ci)
        if len(members) > 1:
            blocks.append((members, _helmert(len(members))))
            contrast_labels += [f"{label}:{j}" for j in range(1, len(members))]
    basis = np.zeros((len(d["study"]), len(contrast_labels)))
    col = 0
    for rows, h in blocks:
        basis[np.ix_(rows, np.arange(col, col + h.shape[1]))] = h
        col += h.shape[1]
    logit_hat, var_hat = _empirical_logits(data, d["study"])
    c_hat = basis.T @ logit_hat
    c_var = (basis**2).T @ var_hat
    c_fam = d["s_fam"][np.argmax(basis != 0, axis=0)] if contrast_labels else np.array([], int)
    coords = {k: d[k] for k in ("procedure", "outcome", "family", "study", "obs")}
    coords |= {"cell": cell_labels, "contrast": contrast_labels}
    has_mort = "mortality_30d" in d["outcome"]
    with pm.Model(coords=coords) as model:
        tau = pm.HalfNormal("tau", sigma=1.0, dims="family")
        tau_cell = tau[fam_grid[cells]]
        theta_bar = pm.Normal(
            "theta_bar",
            m0[cells],
            pt.sqrt(tau_cell**2 / k_cell + s0[cells] ** 2),
            dims="cell",
        )
        theta = theta_bar[s_cell]
        if contrast_labels:
            tau_c = tau[c_fam]
            prec = 1.0 / tau_c**2 + 1.0 / c_var
            a = (c_hat / c_var) / prec
            b = 1.0 / pt.sqrt(prec)
            contrast_u = pm.Normal("contrast_u", -a / b, tau_c / b, dims="contrast")
            theta = theta + pt.dot(basis, a + b * contrast_u)
        theta = pm.Deterministic("theta", theta, dims="study")
        # mu | theta_bar, tau: the exact Gaussian conditional; the prior where no series
        w = pm.Normal("w", 0.0, 1.0, dims=("procedure", "outcome"))
        k_grid = np.zeros(n_proc * n_out)
        k_grid[cells] = k_cell
        bar_grid = pt.set_subtensor(pt.zeros(n_proc * n_out)[cells], theta_bar)
        tau2 = tau[fam_grid] ** 2
        prec_mu = 1.0 / s0**2 + k_grid / tau2
        cond = (m0 / s0**2 + k_grid * bar_grid / tau2) / prec_mu
        mu = pm.Deterministic(
            "mu",
            (cond + w.ravel() / pt.sqrt(prec_mu)).reshape((n_proc, n_out)),
            dims=("procedure", "outcome"),
        )
        p30 = pm.Deterministic("p_study", pm.math.invlogit(theta), dims="study")
        z_new = pm.Normal("z_new", 0.0, 1.0, dims=("procedure", "outcome"))
        pm.Deterministic("p_pooled", pm.math.invlogit(mu), dims=("procedure", "outcome"))
        theta_new = mu + tau[fam_grid[:n_out]][None, :] * z_new
        pm.Deterministic("p_new_centre", pm.math.invlogit(theta_new), dims=("procedure", "outcome"))
        p = p30[d["obs_study"]]
        if has_mort:
            delta = pm.HalfNormal("delta", sigma=1.0)
            j = d["outcome"].index("mortality_30d")
            pm.Deterministic(
                "p_pooled_mort90", pm.math.invlogit(mu[:, j] + delta), dims="procedure"
            )
            pm.Deterministic(
                "p_new_centre_mort90",
                pm.math.invlogit(theta_new[:, j] + delta),
                dims="procedure",
            )
            p90 = pm.math.invlogit(theta[d["obs_study"]] + delta)
            kind = d["obs_kind"]
            p = pt.switch(pt.eq(kind, 0), p, pt.switch(pt.eq(kind, 1), p90, (p90 - p) / (1.0 - p)))
        pm.Binomial("y", n=d["obs_n"], p=p, observed=d["obs_y"], dims="obs")
    return model


def _surgical_cells(dt: xr.DataTree) -> list[tuple[str, str]]:
    """(procedure, outcome) cells holding at least one series, from the ``study`` labels
    (``study:procedure:outcome[:arm or stratum]``)."""
    post = _posterior(dt)
    labels = [str(v) for v in post["theta"].coords["study"].values]
    return list(dict.fromkeys((lab.split(":")[1], lab.split(":")[2]) for lab in labels))


def surgical_risk_outputs(dt: xr.DataTree) -> dict[str, xr.DataArray]:
    """New-centre (predictive) probabilities of the cells that hold series.

    Names: ``p_mort30_<procedure>`` and ``p_mort90_<procedure>``,
    ``p_major_morbidity_<procedure>``, ``p_morbidity_<procedure>`` (see the module
    docstring for the list).
    """
    post = _posterior(dt)
    out: dict[str, xr.DataArray] = {}
    for proc, outcome in _surgical_cells(dt):
        cell = post["p_new_centre"].sel(procedure=proc, outcome=outcome)
        if outcome == "mortality_30d":
            out[f"p_mort30_{proc}"] = _scalar(cell, f"p_mort30_{proc}")
            m90 = post["p_new_centre_mort90"].sel(procedure=proc)
            out[f"p_mort90_{proc}"] = _scalar(m90, f"p_mort90_{proc}")
        else:
            name = f"{_OUTPUT_PREFIX[outcome]}_{proc}"
            out[name] = _scalar(cell, name)
    return out


def surgical_risk_checks(dt: xr.DataTree, evidence: Mapping[str, EvidenceFile]) -> pd.DataFrame:
    """Each pooled series' proportion against a new centre's series of the same size.

    The replicate of a series with ``n`` patients is ``Binomial(n, p)`` with ``p`` the
    new-centre probability of its cell (90-day scale for a 90-day row); one replicate per
    posterior draw, fixed seed.
    """
    post = _posterior(dt)
    data = surgical_risk_data(evidence)
    rng = np.random.default_rng(_CHECK_SEED)
    rows = []
    for _, r in data.iterrows():
        if r["horizon"] == 90:
            p = _flat(post["p_new_centre_mort90"].sel(procedure=r["procedure"]))
        else:
            p = _flat(post["p_new_centre"].sel(procedure=r["procedure"], outcome=r["outcome"]))
        rep = rng.binomial(int(r["n"]), np.clip(p, 0.0, 1.0)) / r["n"]
        lo, hi = _interval(rep)
        source = f"{r['source']} ({r['events']}/{r['n']}; {r['procedure']}, {r['outcome']}"
        source += f", {int(r['horizon'])}-day)" if r["horizon"] == 90 else ")"
        rows.append(_row(r["id"], r["events"] / r["n"], lo, hi, source))
    return _frame(rows)


# ============================================================================ intraoperative

#: procedure text in ``intraoperative.yaml`` (lower case) -> site coordinate
INTRAOPERATIVE_SITES: dict[str, str] = {
    "planned hepatectomy": "crlm",
    "planned pancreatectomy": "whipple",
    "planned pancreatoduodenectomy": "whipple",
}
_SITE_ORDER = ("crlm", "whipple")
_SITE_OUTPUT = {"crlm": "p_peritoneal_at_laparotomy", "whipple": "p_occult_mets_whipple"}


def intraoperative_data(evidence: Mapping[str, EvidenceFile]) -> dict[str, pd.DataFrame]:
    """The series and diagnostic-accuracy estimates used by ``intraoperative``.

    Returns
    -------
    dict
        ``"series"``: columns ``id``, ``site``, ``events``, ``n``, ``source``;
        ``"sensitivity"``: columns ``id``, ``estimate``, ``lower``, ``upper``, ``level``,
        ``logit_estimate``, ``logit_se``, ``source``.

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> d = intraoperative_data(load_all("priors"))
    >>> d["series"][["id", "site", "events", "n"]].values.tolist()[0]
    ['leal2016_unexpected_extrahepatic_disease', 'crlm', 5, 626]
    >>> round(float(d["sensitivity"]["logit_se"].iloc[0]), 4)
    0.3015
    """
    ev = _area(evidence, "intraoperative")
    series, sens = [], []
    for e in ev.entries.values():
        if _is_prior(e):
            continue
        site = INTRAOPERATIVE_SITES.get(str(e.get("procedure", "")).lower())
        if (
            e["quantity"] == "unexpected_metastases_at_laparotomy"
            and site
            and e["type"] == "events"
        ):
            series.append(
                {
                    "id": e["id"],
                    "site": site,
                    "events": int(e["events"]),
                    "n": int(e["n"]),
                    "source": _short_citation(e),
                }
            )
        elif (
            e["quantity"] == "sensitivity"
            and str(e.get("procedure", "")).lower() == "staging laparoscopy"
            and "lower" in e
        ):
            level = float(e.get("level", _LEVEL))
            zq = stats.norm.ppf(0.5 + level / 2)
            lo, hi = _logit(float(e["lower"])), _logit(float(e["upper"]))
            sens.append(
                {
                    "id": e["id"],
                    "estimate": float(e["value"]),
                    "lower": float(e["lower"]),
                    "upper": float(e["upper"]),
                    "level": level,
                    "logit_estimate": float(_logit(float(e["value"]))),
                    "logit_se": float((hi - lo) / (2 * zq)),
                    "source": _short_citation(e),
                }
            )
    if not series and not sens:
        raise EvidenceModelError(f"{ev.path}: no usable entries for the intraoperative model")
    cols_s = ["id", "site", "events", "n", "source"]
    cols_d = ["id", "estimate", "lower", "upper", "level", "logit_estimate", "logit_se", "source"]
    return {
        "series": pd.DataFrame(series, columns=cols_s),
        "sensitivity": pd.DataFrame(sens, columns=cols_d),
    }


def build_intraoperative(evidence: Mapping[str, EvidenceFile]) -> pm.Model:
    """Beta-binomial of unexpected metastases at laparotomy, and staging-laparoscopy sensitivity.

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``intraoperative``.

    Returns
    -------
    pymc.Model
        Coords ``site``, ``series``, ``review``. Free ``logit_m``, ``log_kappa``,
        ``u_new`` (site), ``logit_sens``; deterministics ``m`` and ``kappa`` (site),
        ``p_new_series`` (site), ``sens``; observed ``y`` (series) and
        ``logit_sens_estimate`` (review).

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> m = build_intraoperative(load_all("priors"))
    >>> m.coords["site"], len(m.coords["series"])
    (('crlm', 'whipple'), 3)
    """
    d = intraoperative_data(evidence)
    series, sens = d["series"], d["sensitivity"]
    sites = [s for s in _SITE_ORDER if s in set(series["site"])]
    coords = {"site": sites, "series": list(series["id"]), "review": list(sens["id"])}
    with pm.Model(coords=coords) as model:
        if sites:
            logit_m = pm.Normal("logit_m", float(_logit(0.05)), 1.5, dims="site")
            log_kappa = pm.Normal("log_kappa", math.log(30.0), 1.0, dims="site")
            m = pm.Deterministic("m", pm.math.invlogit(logit_m), dims="site")
            kappa = pm.Deterministic("kappa", pt.exp(log_kappa), dims="site")
            a, b = m * kappa, (1.0 - m) * kappa
            u_new = pm.Uniform("u_new", 0.0, 1.0, dims="site")
            pm.Deterministic("p_new_series", pt.betaincinv(a, b, u_new), dims="site")
            idx = np.array([sites.index(s) for s in series["site"]])
            pm.BetaBinomial(
                "y",
                alpha=a[idx],
                beta=b[idx],
                n=series["n"].to_numpy(),
                observed=series["events"].to_numpy(),
                dims="series",
            )
        if len(sens):
            logit_sens = pm.Normal("logit_sens", 0.0, 1.5)
            pm.Deterministic("sens", pm.math.invlogit(logit_sens))
            pm.Normal(
                "logit_sens_estimate",
                mu=logit_sens,
                sigma=sens["logit_se"].to_numpy(),
                observed=sens["logit_estimate"].to_numpy(),
                dims="review",
            )
    return model


def intraoperative_outputs(dt: xr.DataTree) -> dict[str, xr.DataArray]:
    """``p_peritoneal_at_laparotomy``, ``p_occult_mets_whipple`` (new series) and
    ``sens_staging_laparoscopy`` (summary sensitivity)."""
    post = _posterior(dt)
    out: dict[str, xr.DataArray] = {}
    if "p_new_series" in post:
        for site in post["p_new_series"].coords["site"].values:
            name = _SITE_OUTPUT.get(str(site), f"p_unexpected_mets_{site}")
            out[name] = _scalar(post["p_new_series"].sel(site=site), name)
    if "sens" in post:
        out["sens_staging_laparoscopy"] = _scalar(post["sens"], "sens_staging_laparoscopy")
    return out


def intraoperative_checks(dt: xr.DataTree, evidence: Mapping[str, EvidenceFile]) -> pd.DataFrame:
    """Each series' proportion against a new series of the same size (``Binomial(n,
    p_new_series)``), and the review's sensitivity against a new estimate
    ``expit(Normal(logit_sens, se))``."""
    post = _posterior(dt)
    d = intraoperative_data(evidence)
    rng = np.random.default_rng(_CHECK_SEED)
    rows = []
    for _, r in d["series"].iterrows():
        p = _flat(post["p_new_series"].sel(site=r["site"]))
        rep = rng.binomial(int(r["n"]), np.clip(p, 0.0, 1.0)) / r["n"]
        lo, hi = _interval(rep)
        src = f"{r['source']} ({r['events']}/{r['n']}; {r['site']})"
        rows.append(_row(r["id"], r["events"] / r["n"], lo, hi, src))
    for _, r in d["sensitivity"].iterrows():
        ls = _flat(post["logit_sens"])
        rep = _expit(ls + r["logit_se"] * rng.standard_normal(ls.shape))
        lo, hi = _interval(rep)
        src = f"{r['source']} (sensitivity {r['estimate']}, {r['lower']}-{r['upper']})"
        rows.append(_row(r["id"], r["estimate"], lo, hi, src))
    return _frame(rows)


# ============================================================================ tumour kinetics

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

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``population``, ``kind`` (``mean_sd``, ``mean``, ``median_iqr``),
        ``n``, ``n_assumed`` (bool), ``mean``, ``sd``, ``median``, ``q1``, ``q3``,
        ``source``.

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
    ``regrowth_time_<margin>_crlm_mo`` (months, occult-CRLM growth)."""
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
    ``max_draws`` draws, evenly thinned; fixed seed)."""
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


# ============================================================================ kinetics functions


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


# ============================================================================ registry

SPECS: list[ModelSpec] = [
    ModelSpec(
        name="surgical_risk",
        files=("surgical_risk",),
        build=build_surgical_risk,
        outputs=surgical_risk_outputs,
        checks=surgical_risk_checks,
        version="1",
    ),
    ModelSpec(
        name="intraoperative",
        files=("intraoperative",),
        build=build_intraoperative,
        outputs=intraoperative_outputs,
        checks=intraoperative_checks,
        version="1",
    ),
    ModelSpec(
        name="tumour_kinetics",
        files=("tumour_kinetics",),
        build=build_tumour_kinetics,
        outputs=tumour_kinetics_outputs,
        checks=tumour_kinetics_checks,
        version="1",
    ),
]
