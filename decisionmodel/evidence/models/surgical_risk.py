"""Evidence model ``surgical_risk``: perioperative mortality and morbidity by procedure.

A PyMC synthesis of the evidence file ``surgical_risk``, registered in :data:`SPECS` (see
:mod:`decisionmodel.evidence.registry` for the contract); the helpers it shares with the
other risk models are in :mod:`decisionmodel.evidence.models.risk_common`.

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

Outputs (tree-parameter name -> draws with dims ``(chain, draw)``): ``p_mort30_<proc>`` and
``p_mort90_<proc>`` for ``hepatectomy``, ``repeat_hepatectomy``, ``lung``, ``whipple``,
``bypass``, ``crs_hipec``; ``p_major_morbidity_<proc>`` for ``hepatectomy``, ``lung``,
``bypass``, ``crs``, ``crs_hipec``; ``p_morbidity_<proc>`` (any complication) for
``repeat_hepatectomy``, ``whipple``, ``crs_hipec``.

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
['surgical_risk']
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import special

from decisionmodel.evidence.files import EvidenceFile
from decisionmodel.evidence.models.risk_common import (
    _CHECK_SEED,
    _area,
    _count,
    _flat,
    _frame,
    _interval,
    _is_prior,
    _logit,
    _posterior,
    _row,
    _scalar,
    _short_citation,
    _study,
)
from decisionmodel.evidence.registry import ModelSpec
from decisionmodel.exceptions import (
    EvidenceModelError,
)

__all__ = [
    "SPECS",
    "SURGICAL_PROCEDURES",
    "SURGICAL_QUANTITIES",
    "build_surgical_risk",
    "surgical_risk_checks",
    "surgical_risk_data",
    "surgical_risk_outputs",
]


def _beta_logit_moments(alpha: float, beta: float) -> tuple[float, float]:
    """Mean and SD of logit(X) for X ~ Beta(alpha, beta) (exact)."""
    mean = special.digamma(alpha) - special.digamma(beta)
    var = special.polygamma(1, alpha) + special.polygamma(1, beta)
    return float(mean), float(math.sqrt(var))


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

    Raises
    ------
    MissingEvidenceError
        ``evidence`` has no ``surgical_risk`` file.
    EvidenceModelError
        The file holds no usable series.

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

    Parameters
    ----------
    dt : xarray.DataTree
        A fit of :func:`build_surgical_risk` (its ``posterior`` group is read).

    Returns
    -------
    dict
        Output name -> draws with dims ``(chain, draw)``: ``p_mort30_<procedure>`` and
        ``p_mort90_<procedure>``, ``p_major_morbidity_<procedure>``,
        ``p_morbidity_<procedure>`` (see the module docstring for the list), for the
        cells that hold series.

    Raises
    ------
    EvidenceModelError
        ``dt`` has no posterior group.
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

    Parameters
    ----------
    dt : xarray.DataTree
        A fit of :func:`build_surgical_risk`.
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``surgical_risk`` (the file it was fitted
        to).

    Returns
    -------
    pandas.DataFrame
        One row per series of :func:`surgical_risk_data`, with the columns of
        :data:`~decisionmodel.evidence.registry.CHECK_COLUMNS` (central 95 % intervals
        of the replicates).

    Raises
    ------
    MissingEvidenceError, EvidenceModelError
        As for :func:`surgical_risk_data`, or ``dt`` has no posterior group.
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


SPECS: list[ModelSpec] = [
    ModelSpec(
        name="surgical_risk",
        files=("surgical_risk",),
        build=build_surgical_risk,
        outputs=surgical_risk_outputs,
        checks=surgical_risk_checks,
        version="1",
    ),
]
