"""Evidence model ``intraoperative``: disease found at a planned curative laparotomy.

A PyMC synthesis of the evidence file ``intraoperative``, registered in :data:`SPECS` (see
:mod:`decisionmodel.evidence.registry` for the contract); the helpers it shares with the
other risk models are in :mod:`decisionmodel.evidence.models.risk_common`.

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

Outputs (tree-parameter name -> draws with dims ``(chain, draw)``):
``p_peritoneal_at_laparotomy`` (crlm), ``p_occult_mets_whipple``,
``sens_staging_laparoscopy``.

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
['intraoperative']
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import stats

from decisionmodel.evidence.files import EvidenceFile
from decisionmodel.evidence.models.risk_common import (
    _CHECK_SEED,
    _LEVEL,
    _area,
    _expit,
    _flat,
    _frame,
    _interval,
    _is_prior,
    _logit,
    _posterior,
    _row,
    _scalar,
    _short_citation,
)
from decisionmodel.evidence.registry import ModelSpec
from decisionmodel.exceptions import (
    EvidenceModelError,
)

__all__ = [
    "INTRAOPERATIVE_SITES",
    "SPECS",
    "build_intraoperative",
    "intraoperative_checks",
    "intraoperative_data",
    "intraoperative_outputs",
]

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

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``intraoperative``.

    Returns
    -------
    dict
        ``"series"``: columns ``id``, ``site``, ``events``, ``n``, ``source``;
        ``"sensitivity"``: columns ``id``, ``estimate``, ``lower``, ``upper``, ``level``,
        ``logit_estimate``, ``logit_se``, ``source``.

    Raises
    ------
    MissingEvidenceError
        ``evidence`` has no ``intraoperative`` file.
    EvidenceModelError
        The file holds neither a usable series nor a sensitivity estimate.

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
    ``sens_staging_laparoscopy`` (summary sensitivity).

    Parameters
    ----------
    dt : xarray.DataTree
        A fit of :func:`build_intraoperative` (its ``posterior`` group is read).

    Returns
    -------
    dict
        Output name -> draws with dims ``(chain, draw)``: one ``p_new_series`` per site
        present (``p_unexpected_mets_<site>`` for a site without a tree name) and, when
        the evidence had a review, ``sens_staging_laparoscopy``.

    Raises
    ------
    EvidenceModelError
        ``dt`` has no posterior group.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> post = xr.Dataset({"p_new_series": (("chain", "draw", "site"), np.full((1, 2, 1), 0.1)),
    ...                    "sens": (("chain", "draw"), [[0.6, 0.7]])}, coords={"site": ["crlm"]})
    >>> sorted(intraoperative_outputs(xr.DataTree.from_dict({"posterior": post})))
    ['p_peritoneal_at_laparotomy', 'sens_staging_laparoscopy']
    """
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
    ``expit(Normal(logit_sens, se))``.

    Parameters
    ----------
    dt : xarray.DataTree
        A fit of :func:`build_intraoperative`.
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``intraoperative`` (the file it was fitted
        to).

    Returns
    -------
    pandas.DataFrame
        One row per series and per sensitivity estimate, with the columns of
        :data:`~decisionmodel.evidence.registry.CHECK_COLUMNS` (central 95 % intervals
        of the replicates; fixed seed).

    Raises
    ------
    MissingEvidenceError, EvidenceModelError
        As for :func:`intraoperative_data`, or ``dt`` has no posterior group.
    """
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


SPECS: list[ModelSpec] = [
    ModelSpec(
        name="intraoperative",
        files=("intraoperative",),
        build=build_intraoperative,
        outputs=intraoperative_outputs,
        checks=intraoperative_checks,
        version="1",
    ),
]
