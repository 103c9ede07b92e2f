r"""Evidence model ``crlm_survival``: survival, cure and recurrence after curative hepatectomy.

A PyMC synthesis of the published aggregate numbers in ``priors/crlm_survival.yaml`` (and
``priors/systemic_survival.yaml``; source: the evidence dossier, sections 1-4, 11 and
13.2), registered in :data:`SPECS` for :mod:`decisionmodel.evidence.registry`. The
survival kernels it shares with ``systemic_survival`` are in
:mod:`decisionmodel.evidence.models.survival_kernels`, the patient-profile tooling of its
posterior in :mod:`decisionmodel.evidence.models.crlm_profile`.

A two-stage **mixture-cure** model with the structure of the Markov cohort ``resected`` of
``trees/crlm.yaml``. Time :math:`t` is in years from hepatectomy. A share :math:`\pi` of
patients is cured (only background mortality). The others recur after a Weibull time
:math:`T_r` with cumulative hazard :math:`h\,(\lambda t)^k` and then die of the disease at
a constant excess hazard :math:`h\,\mu` (:math:`\mu` is the all-cause post-recurrence hazard
at the source cohorts' age minus the background hazard there, as in the tree). Background
mortality is the tree's Gompertz hazard :math:`\exp(a + b\,(\text{age} + t))`
(``GOMPERTZ_A``, ``GOMPERTZ_B``, ``AGE_REF`` of
:mod:`~decisionmodel.evidence.models.survival_kernels`). For a cohort whose disease course
is sped up by :math:`h = e^{u}`:

.. math::

    \pi_h &= \pi^{h} \quad\text{(complementary log-log link: } \log(-\log \pi_h) =
             u + \log(-\log\pi)\text{)}\\
    U_h(t) &= e^{-H} + \int_0^{t} f_{T_r}(s)\, e^{-h\mu (t-s)}\,ds,
             \qquad H = h(\lambda t)^k\\
    D_h(t) &= \pi_h + (1-\pi_h)\,U_h(t),\qquad \text{OS}_h(t) = S_{bg}(t)\,D_h(t)\\
    \text{TTR}_h(t) &= \pi_h + (1-\pi_h)\,e^{-H},\qquad
    \text{RFS}_h(t) = S_{bg}(t)\,\text{TTR}_h(t)

(:math:`D` is disease-specific survival; the integral by Gauss-Legendre quadrature on three
panels, ``survival_kernels.N_QUAD`` nodes each).

*Patient profiles* act by proportional hazards on the disease-specific survival and on the
recurrence curve of the cohort's average patient: :math:`D_x(t) = D_h(t)^{e^{\eta_x}}`,
:math:`\text{TTR}_x(t) = \text{TTR}_h(t)^{e^{\eta_x}}`, so the cure fraction becomes
:math:`\pi_h^{e^{\eta_x}}` and the ratio of the cumulative disease hazards is
:math:`e^{\eta_x}` at every time: what a published (Cox) hazard ratio describes.
(Multiplying both stages' hazards by the ratio instead would compound it: a BRAF ratio of
2.56 would act like about 3.9 on 5-year survival.)

*Cohorts.* The published series disagree more than their sizes allow (5-year OS 37 % in
Fong 1999, 47.3 % in de Jong 2009; actual 10-year survival 24.4 % in Creasy 2018, 16.7 %
in Tomlinson 2007), so each cohort :math:`c` has its own log multiplier :math:`u_c`,
centred (each cohort's large sample pins its own effect) and summing to zero
(``ZeroSumNormal``, scale :math:`\tau`), so that the *typical* cohort (:math:`u = 0`),
described by :math:`\pi, \lambda, k, \mu`, is the average of the observed ones and does not
slide along with them. :math:`\tau \sim \text{LogNormal}(\log 0.15, 0.5)` (95 %
0.056-0.40; the dossier's between-study prior for 5-year OS, SD 0.07 around 0.45, is
about 0.19 on this scale; lognormal rather than half-normal because the series are known
to differ and because its Gaussian tails in log space keep NUTS free of divergences). A
*new* cohort deviates from the typical one by :math:`u_\text{new} \sim N(0, \tau^2 (1 +
1/6))`, the factor restoring the uncertainty of the average of six cohorts.

*Likelihood* (one row per published number; see :func:`crlm_data`):

- 5- and 10-year overall survival: :math:`x \sim \text{Binomial}(n, \text{OS}_c(t))`, with
  :math:`n` the dossier's effective size ``n_eff`` (n/2 for censored Kaplan-Meier values)
  where given, else :math:`n` from a 95 % interval (:math:`p(1-p)/\text{se}^2`), else the
  cohort size; the actual (fully followed-up) 10-year survival as published counts.
- Fong 1999 score strata (5-year OS, scores 0-5): the Fong cohort's disease-specific
  survival raised to the stratum's Fong multiplier (below), times background survival.
- Actual cure (alive and disease-free at 10 years, Creasy 2018): :math:`\text{RFS}_c(10)`;
  statistical cure fraction (Viganò 2014): :math:`\pi_c`.
- Recurrence proportions (crude, within follow-up): :math:`(1-\pi_c)\,q_c`, where
  :math:`\text{logit}\,q_c \sim N(1.5, 1.2^2)` (median 0.82, 95 % 0.29-0.98; an
  assumption) is the share of the non-cured who recurred within
  the unreported follow-up (implied follow-up :math:`F_c` with :math:`1 - q_c =
  e^{-h_c(\lambda F_c)^k}`, reported as ``followup_years``). A crude proportion under
  censoring only bounds the eventual recurrence from below, so it is not read as
  :math:`1 - \pi`.
- Medians: :math:`\log m_\text{obs} \sim N(\log m_\text{model}, \sigma)`, with
  :math:`\sigma = 1/\sqrt{\text{events}}` (de Jong 2009 median RFS 16.3 months: 947
  recurrences; Angelsen 2015 median time to recurrence 14.0 months: 209) or the dossier's
  :math:`\sigma` (Angelsen 2015 post-recurrence median 24.3 months: 0.12). The RFS median
  solves :math:`\text{RFS}_c(m) = 1/2` (closed form without background mortality, then
  two Newton steps); the TTR median is closed form; the post-recurrence median is
  :math:`12\log 2 / (h_c\mu + h_{bg}(\text{age}_\text{ref}))` months.

*Covariates* (hazard multipliers from published hazard/risk ratios, informative priors
:math:`\beta \sim N(\log \text{HR}, \text{se})` with se from the 95 % interval,
non-centred):

- R1 vs R0 (Liu 2015, 1.60 (1.46-1.76)); KRAS/RAS mutant (Passiglia 2016, 1.86
  (1.51-2.30)); BRAF mutant (Petrelli 2024, 2.56 (2.04-3.22)); extrahepatic disease (Kanas
  2012, RR 1.9 (1.5-2.4)).
- The five Fong criteria: node-positive primary (Kanas RR 1.6 (1.5-1.7)), disease-free
  interval < 12 months (Korean PCA score RR 1.98, sdlog 0.2 assumed by the dossier),
  more than one tumour (Kanas 1.6 (1.4-1.8)), CEA > 200 ng/mL (Kanas "high CEA" 1.9
  (1.1-3.2)), largest > 5 cm (Kanas "> 3 cm" 1.5 (1.3-1.8)). These are univariable
  meta-analytic ratios of correlated criteria: summed they would give score 5 vs 0 a ratio
  of about 14, while the Fong strata show about 4. The criteria therefore enter the score
  as :math:`\alpha\beta_j` with an attenuation :math:`\alpha \sim \text{Beta}(2, 2)` learnt
  from the Fong 1999 strata; a score :math:`s` whose criteria are not named has log
  multiplier :math:`\alpha\,s\,\bar\beta` (criteria exchangeable).

The published HRs describe overall survival; for want of separate numbers they also act on
the recurrence curve. The published RFS hazard ratios (KRAS 1.65, BRAF 1.97) are smaller
than the OS ones, so ``kind="rfs"``/``"ttr"`` profiles overstate the covariate effects on
recurrence a little.

*Baseline.* Covariates are centred at the pooled cohorts' mix: the linear predictor of a
profile is :math:`\eta = \sum_j \beta_j (x_j - p_j) + \alpha\bar\beta\,(s - \bar s)`, where
:math:`\bar s` = 2.08 is the mean Fong score of Fong 1999's 1001 patients and :math:`p_j`
the prevalences (uncertain, priors only): RAS mutant Beta from Karagkounis 2013, Vauthey
2013 and Passot 2017 (pooled 0.33, between-study SD 0.11); BRAF Beta(4, 120) (dossier
default); R1 Beta(63, 282) (Bern/Berlin 2021); extrahepatic disease Beta(2, 18)
(**assumption**, no prevalence in the dossier). An empty profile is therefore the pooled
cohort. A covariate the profile does not name stays at its pooled mix. (The survival of
the average patient is not the average of the profiles' survival curves: with the fitted
parameters the mix of profiles has 2-year OS about 0.02 lower, 5-year OS the same and
10-year OS about 0.02 higher than the average patient, who is fitted to the pooled data.)

Outputs and their tree parameters (``trees/crlm.yaml``; *new-cohort* predictive draws):

``pi_cure`` (tree ``pi_cure``)
    Cure fraction of the resected cohort, R0 and R1 together (the tree keeps it equal after
    R0 and R1).
``lam_recurrence`` (tree ``lam_recurrence``)
    Recurrence rate (per year) of the non-cured after R0, as the exponential rate with the
    same median time to recurrence, :math:`\log 2 / \text{median}`; the tree multiplies it
    by ``hr_r1`` after R1. The R0 stratum is the cohort process with both stages slowed by
    :math:`h_0 = e^{-\beta_{R1} p_{R1}}`, the tree's own ``hr_margin`` semantics, so that
    the tree's R0/R1 mix comes back to about the pooled cohort.
``median_os_post_recurrence_mo`` (tree ``median_os_post_recurrence_mo``)
    All-cause median survival after recurrence (months, R0 as above) at ``age_ref``.
    Estimated jointly with the recurrence rate (the survival data pull it from Angelsen's
    24.3 months), which is why this model, not ``systemic_survival``, exports it.
``hr_r1`` (tree ``hr_r1``, bound as ``hr_margin``)
    R1 vs R0.
``hr_ras``, ``hr_braf``, ``hr_extrahepatic``
    RAS-mutant, BRAF-mutant, extrahepatic disease (not in the tree yet: the profile
    modifiers of the dossier's section 13.2).
``hr_fong_point``, ``hr_fong_<criterion>``
    Per Fong point, :math:`e^{\alpha\bar\beta}`, and per criterion within the score,
    :math:`e^{\alpha\beta_j}`.
``recurrence_shape``
    Weibull shape :math:`k` of the time to recurrence.
``os_5y_resected``, ``os_10y_resected``
    Overall survival of the pooled resected cohort at 5 and 10 years (for reports).

The tree sends 25 % of recurrences to repeat hepatectomy with their own recurrence rate,
while this model's post-recurrence survival is the average over all recurrences (as is
Angelsen's median): plugged into the tree at their posterior medians, ``pi_cure``,
``lam_recurrence`` (about 0.8/yr, vs the tree's calibrated 0.57/yr),
``median_os_post_recurrence_mo`` and ``hr_r1`` give the curative arm a 5-year OS of 0.43
(0.47 with the tree's own priors, calibrated to de Jong 2009 alone), against 0.40 for the
pooled resected cohort in this model.

Examples
--------
>>> from decisionmodel.evidence import load_all
>>> model = build_crlm_survival(load_all("priors"))
>>> sorted(model.coords["cohort"])[:2]
['angelsen2015', 'creasy2018']
>>> [s.name for s in SPECS]
['crlm_survival']
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import special

from decisionmodel.clinical.fong import FONG_CRITERIA
from decisionmodel.evidence.files import EvidenceFile
from decisionmodel.evidence.models.crlm_profile import crlm_profile_outputs, survival_by_profile
from decisionmodel.evidence.models.survival_kernels import (
    _LN2,
    MedianTarget,
    ProportionTarget,
    _beta_from_proportions,
    _bg_cumhaz,
    _binomial,
    _check_frame,
    _citation,
    _cure,
    _disease,
    _log_ratio_prior,
    _months,
    _post_recurrence_median_months,
    _posterior,
    _ppc_rows,
    _rfs,
    _rfs_median,
    _sample_dims,
    _ttr_median,
)
from decisionmodel.evidence.registry import ModelSpec

__all__ = [
    "COHORTS",
    "COVARIATES",
    "EHD_PREVALENCE_PRIOR",
    "HR_ENTRIES",
    "SAMPLER_SETTINGS",
    "SPECS",
    "CrlmData",
    "build_crlm_survival",
    "crlm_checks",
    "crlm_data",
    "crlm_outputs",
    "crlm_predictions",
]

#: binary covariates besides the Fong score
COVARIATES: tuple[str, ...] = ("ras", "braf", "r1", "extrahepatic")
#: cohorts with their own random effect
COHORTS: tuple[str, ...] = (
    "fong1999",
    "dejong2009",
    "creasy2018",
    "tomlinson2007",
    "vigano2014",
    "angelsen2015",
)
#: evidence entry of the published ratio behind each covariate effect
HR_ENTRIES: dict[str, str] = {
    "node_positive": "kanas2012_rr_death_node_positive_primary",
    "dfi_lt_12m": "pca2015_rr_dfi",
    "multiple_tumours": "kanas2012_rr_death_multiple_metastases",
    "cea_gt_200": "kanas2012_rr_death_cea_high",
    "size_gt_5cm": "kanas2012_rr_death_size_3cm",
    "ras": "passiglia2016_hr_os_kras",
    "braf": "petrelli2024_hr_os_braf",
    "r1": "liu2015_hr_os_r1",
    "extrahepatic": "kanas2012_rr_death_extrahepatic",
}
#: prevalence of extrahepatic disease in the pooled cohorts: Beta(2, 18), an assumption (D)
EHD_PREVALENCE_PRIOR: tuple[float, float] = (2.0, 18.0)


#: NUTS settings (the spec's ``draws`` and ``sample_kwargs``; the tests use them too).
#: Measured on this machine: with PyMC's sampler even its defaults (target_accept 0.8) pass
#: the diagnostics gate (R-hat <= 1.01, bulk/tail ESS >= 400, no divergences) on every seed
#: tried, ESS > 1100. With nutpie (the default sampler) the model needs 2000 draws: at 1000,
#: ESS 540-860 and R-hat up to 1.016 on 3 of 15 seeds. Its posterior has a ridge (cure
#: fraction vs speed of the disease vs cohort effects) that a diagonal mass matrix crosses
#: slowly.
SAMPLER_SETTINGS: dict[str, Any] = {"draws": 2000, "tune": 1000, "chains": 4, "target_accept": 0.9}


@dataclass(frozen=True)
class CrlmData:
    """Everything :func:`build_crlm_survival` reads from the evidence.

    Attributes
    ----------
    proportions : tuple of ProportionTarget
        Grouped by kind in the order os, cure_observed, cure_fraction, recurrence.
    medians : tuple of MedianTarget
    recurrence_studies : tuple of str
        Cohorts with a crude recurrence proportion (one follow-up parameter each).
    log_hr_mean, log_hr_sd : dict
        Prior of each covariate's log hazard ratio (keys: Fong criteria and covariates).
    hr_sources : dict
        Short citation of each prior.
    prevalence_alpha, prevalence_beta : dict
        Beta priors of the covariate prevalences in the pooled cohorts.
    fong_score_counts : tuple of int
        Patients with Fong score 0..5 (Fong 1999).
    """

    proportions: tuple[ProportionTarget, ...]
    medians: tuple[MedianTarget, ...]
    recurrence_studies: tuple[str, ...]
    log_hr_mean: dict[str, float]
    log_hr_sd: dict[str, float]
    hr_sources: dict[str, str]
    prevalence_alpha: dict[str, float]
    prevalence_beta: dict[str, float]
    fong_score_counts: tuple[int, ...]

    @property
    def fong_score_mean(self) -> float:
        """Mean Fong score of the pooled cohorts (Fong 1999 distribution).

        Returns
        -------
        float
            ``sum(score * count) / sum(count)`` over the scores 0..5 of
            ``fong_score_counts``.
        """
        counts = np.asarray(self.fong_score_counts, dtype=float)
        return float((counts * np.arange(len(counts))).sum() / counts.sum())


#: (entry id, cohort, kind, years, Fong score) of the fitted proportions, in kind order
_CRLM_PROPORTIONS: tuple[tuple[str, str, str, float | None, int | None], ...] = (
    ("fong1999_os_5y", "fong1999", "os", 5.0, None),
    ("fong1999_os_10y", "fong1999", "os", 10.0, None),
    *((f"fong1999_crs{s}_os_5y", "fong1999", "os", 5.0, s) for s in range(6)),
    ("dejong2009_os_5y", "dejong2009", "os", 5.0, None),
    ("creasy2018_actual_os_10y", "creasy2018", "os", 10.0, None),
    ("tomlinson2007_actual_os_10y", "tomlinson2007", "os", 10.0, None),
    ("creasy2018_cure_observed", "creasy2018", "cure_observed", 10.0, None),
    ("vigano2014_cure_fraction", "vigano2014", "cure_fraction", None, None),
    ("dejong2009_recurrence", "dejong2009", "recurrence", None, None),
    ("angelsen2015_recurrence", "angelsen2015", "recurrence", None, None),
)
#: (area, entry id, cohort, kind, entry whose events set sigma or None for its sdlog)
_CRLM_MEDIANS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("crlm_survival", "dejong2009_median_rfs", "dejong2009", "rfs", "dejong2009_recurrence"),
    ("crlm_survival", "angelsen2015_median_ttr", "angelsen2015", "ttr", "angelsen2015_recurrence"),
    (
        "systemic_survival",
        "angelsen2015_median_os_after_recurrence",
        "angelsen2015",
        "post_recurrence",
        None,
    ),
)
_RAS_PREVALENCE = (
    "karagkounis2013_kras_mutated",
    "vauthey2013_ras_mutated",
    "passot2017_ras_mutated",
)


def crlm_data(evidence: Mapping[str, EvidenceFile]) -> CrlmData:
    """Extract the fitted numbers and the covariate priors of ``crlm_survival``.

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`, with ``crlm_survival`` and ``systemic_survival``.

    Returns
    -------
    CrlmData

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> d = crlm_data(load_all("priors"))
    >>> [(t.id, t.x, t.n) for t in d.proportions if t.cohort == "dejong2009"]
    [('dejong2009_os_5y', 789, 1669), ('dejong2009_recurrence', 947, 1669)]
    >>> round(d.fong_score_mean, 3), round(d.log_hr_mean["r1"], 3)
    (2.079, 0.47)
    """
    crlm = evidence["crlm_survival"]
    props = []
    for entry_id, cohort, kind, time, score in _CRLM_PROPORTIONS:
        observed, x, n = _binomial(crlm[entry_id])
        props.append(
            ProportionTarget(
                entry_id,
                crlm.area,
                cohort,
                kind,
                time,
                score,
                observed,
                x,
                n,
                _citation(crlm, entry_id),
            )
        )
    medians = []
    for area, entry_id, cohort, kind, events_id in _CRLM_MEDIANS:
        ev = evidence[area]
        entry = ev[entry_id]
        if events_id is not None:
            events = crlm[events_id]["events"]
            sigma, note = 1.0 / math.sqrt(events), f"1/sqrt({events} events, {events_id})"
        else:
            sigma = float(entry["distribution"]["sdlog"])
            note = "sdlog of the dossier's lognormal"
        medians.append(
            MedianTarget(
                entry_id, area, cohort, kind, _months(entry), sigma, note, _citation(ev, entry_id)
            )
        )
    means, sds, sources = {}, {}, {}
    for name, entry_id in HR_ENTRIES.items():
        means[name], sds[name] = _log_ratio_prior(crlm[entry_id])
        sources[name] = f"{_citation(crlm, entry_id)} ({entry_id})"
    ras = [crlm[i] for i in _RAS_PREVALENCE]
    ras_pooled = sum(e["events"] for e in ras) / sum(e["n"] for e in ras)
    ras_ab = _beta_from_proportions([e["events"] / e["n"] for e in ras], ras_pooled)
    braf = crlm["default_braf_prevalence"]["distribution"]
    r1 = crlm["bernberlin2021_r1_rate"]
    alpha = {
        "ras": ras_ab[0],
        "braf": float(braf["alpha"]),
        "r1": float(r1["events"]),
        "extrahepatic": EHD_PREVALENCE_PRIOR[0],
    }
    beta = {
        "ras": ras_ab[1],
        "braf": float(braf["beta"]),
        "r1": float(r1["n"] - r1["events"]),
        "extrahepatic": EHD_PREVALENCE_PRIOR[1],
    }
    counts = tuple(int(crlm[f"fong1999_crs{s}_os_5y"]["n"]) for s in range(6))
    return CrlmData(
        tuple(props),
        tuple(medians),
        ("dejong2009", "angelsen2015"),
        means,
        sds,
        sources,
        alpha,
        beta,
        counts,
    )


_PROPORTION_KINDS: tuple[str, ...] = ("os", "cure_observed", "cure_fraction", "recurrence")


def _crlm_predictions(
    xp: Any,
    data: CrlmData,
    pi: Any,
    lam: Any,
    k: Any,
    mu: Any,
    u: Any,
    fong_point: Any,
    reach: Any,
) -> tuple[Any, Any]:
    """Model-implied proportions and medians (months) of the fitted targets.

    One function for the likelihood (``xp`` = pytensor.tensor, scalar parameters) and the
    posterior-predictive checks (``xp`` = numpy, parameters with a trailing length-1 axis
    and ``u``/``reach`` with their dim last). Returns arrays whose last axis runs over
    ``data.proportions`` and ``data.medians``.
    """
    cohort_idx = {c: i for i, c in enumerate(COHORTS)}
    s_bar = data.fong_score_mean
    props = data.proportions
    if [t.kind for t in props] != sorted((t.kind for t in props), key=_PROPORTION_KINDS.index):
        raise ValueError("proportion targets must be grouped by kind")  # pragma: no cover

    def hr_of(targets: list[ProportionTarget]) -> Any:
        idx = np.array([cohort_idx[t.cohort] for t in targets], dtype=int)
        return xp.exp(u[..., idx])

    parts = []
    for kind in _PROPORTION_KINDS:
        ts = [t for t in props if t.kind == kind]
        if not ts:
            continue
        hr = hr_of(ts)
        times = np.array([t.time if t.time is not None else 0.0 for t in ts])
        if kind == "os":
            # Fong strata: proportional hazards on the cohort's disease-specific survival
            shift = np.array([0.0 if t.score is None else t.score - s_bar for t in ts])
            disease = _disease(xp, times, pi, lam, k, mu, hr) ** xp.exp(fong_point * shift)
            parts.append(xp.exp(-_bg_cumhaz(xp, times)) * disease)
        elif kind == "cure_observed":
            parts.append(_rfs(xp, times, pi, lam, k, hr))
        elif kind == "cure_fraction":
            parts.append(_cure(xp, pi, hr))
        else:
            f_idx = np.array([data.recurrence_studies.index(t.cohort) for t in ts], dtype=int)
            parts.append((1.0 - _cure(xp, pi, hr)) * reach[..., f_idx])
    medians = []
    for t in data.medians:
        hr = xp.exp(u[..., np.array([cohort_idx[t.group]])])
        if t.kind == "rfs":
            medians.append(12.0 * _rfs_median(xp, pi, lam, k, hr))
        elif t.kind == "ttr":
            medians.append(12.0 * _ttr_median(xp, pi, lam, k, hr))
        else:
            medians.append(_post_recurrence_median_months(mu, hr))
    return xp.concatenate(parts, axis=-1), xp.concatenate(medians, axis=-1)


def build_crlm_survival(evidence: Mapping[str, EvidenceFile]) -> pm.Model:
    """Mixture-cure model of survival and recurrence after hepatectomy for CRLM.

    See the module docstring for the equations, the data and the priors.

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`; reads ``crlm_survival`` and ``systemic_survival``
        (Angelsen 2015's post-recurrence median).

    Returns
    -------
    pymc.Model
        Free variables ``cure_logit``, ``log_recurrence_scale``, ``log_recurrence_shape``,
        ``log_post_recurrence_excess``, ``cohort_sd``, ``cohort_effect`` (dim ``cohort``),
        ``new_cohort_z``, ``recurrence_reach_logit`` (``recurrence_study``), ``fong_z``
        (``fong_criterion``), ``fong_attenuation``, ``covariate_z`` and ``prevalence``
        (``covariate``); deterministics ``cure_fraction``, ``recurrence_scale``,
        ``recurrence_shape``, ``post_recurrence_excess_hazard``, ``cohort_effect``,
        ``new_cohort_effect``, ``log_hr_fong_univariable``, ``log_hr_fong``,
        ``log_hr_covariate`` and ``fong_score_mean``; observed ``proportion_obs`` (dim
        ``proportion_target``) and ``log_median_obs`` (``median_target``). The
        model-implied targets are recomputed from the draws by :func:`crlm_predictions`
        (kept out of the trace to keep compilation short).
    """
    data = crlm_data(evidence)
    props, meds = data.proportions, data.medians
    coords = {
        "cohort": list(COHORTS),
        "recurrence_study": list(data.recurrence_studies),
        "fong_criterion": list(FONG_CRITERIA),
        "covariate": list(COVARIATES),
        "proportion_target": [t.id for t in props],
        "median_target": [t.id for t in meds],
    }
    s_bar = data.fong_score_mean

    with pm.Model(coords=coords) as model:
        # --- typical-cohort mixture-cure parameters
        cure_logit = pm.Normal("cure_logit", mu=special.logit(0.2), sigma=1.0)
        pi = pm.Deterministic("cure_fraction", pm.math.invlogit(cure_logit))
        log_lam = pm.Normal("log_recurrence_scale", mu=math.log(0.6), sigma=0.75)
        lam = pm.Deterministic("recurrence_scale", pt.exp(log_lam))
        log_k = pm.Normal("log_recurrence_shape", mu=0.0, sigma=0.2)
        k = pm.Deterministic("recurrence_shape", pt.exp(log_k))
        log_mu = pm.Normal("log_post_recurrence_excess", mu=math.log(0.3), sigma=1.0)
        mu = pm.Deterministic("post_recurrence_excess_hazard", pt.exp(log_mu))
        # --- between-cohort heterogeneity (module docstring: "Cohorts")
        tau = pm.LogNormal("cohort_sd", mu=math.log(0.15), sigma=0.5)
        u = pm.ZeroSumNormal("cohort_effect", sigma=tau, dims="cohort")
        z_new = pm.Normal("new_cohort_z", 0.0, 1.0)
        pm.Deterministic("new_cohort_effect", tau * math.sqrt(1.0 + 1.0 / len(COHORTS)) * z_new)
        # share of the non-cured who recurred within the (unreported) follow-up of a crude
        # recurrence proportion; parametrised directly (a follow-up time would form a
        # funnel with the Weibull shape), the implied follow-up is derived
        reach_logit = pm.Normal(
            "recurrence_reach_logit", mu=1.5, sigma=1.2, dims="recurrence_study"
        )
        reach = pm.Deterministic(
            "recurrence_reach", pm.math.invlogit(reach_logit), dims="recurrence_study"
        )
        rec_idx = np.array([COHORTS.index(c) for c in data.recurrence_studies], dtype=int)
        pm.Deterministic(
            "followup_years",
            (-pt.log1p(-reach) / pt.exp(u[rec_idx])) ** (1.0 / k) / lam,
            dims="recurrence_study",
        )
        # --- covariate effects (non-centred informative priors)
        fong_m = np.array([data.log_hr_mean[c] for c in FONG_CRITERIA])
        fong_s = np.array([data.log_hr_sd[c] for c in FONG_CRITERIA])
        z_f = pm.Normal("fong_z", 0.0, 1.0, dims="fong_criterion")
        beta_f = pm.Deterministic(
            "log_hr_fong_univariable", fong_m + fong_s * z_f, dims="fong_criterion"
        )
        alpha = pm.Beta("fong_attenuation", alpha=2.0, beta=2.0)
        pm.Deterministic("log_hr_fong", alpha * beta_f, dims="fong_criterion")
        cov_m = np.array([data.log_hr_mean[c] for c in COVARIATES])
        cov_s = np.array([data.log_hr_sd[c] for c in COVARIATES])
        z_x = pm.Normal("covariate_z", 0.0, 1.0, dims="covariate")
        pm.Deterministic("log_hr_covariate", cov_m + cov_s * z_x, dims="covariate")
        pm.Beta(
            "prevalence",
            alpha=np.array([data.prevalence_alpha[c] for c in COVARIATES]),
            beta=np.array([data.prevalence_beta[c] for c in COVARIATES]),
            dims="covariate",
        )
        pm.Deterministic("fong_score_mean", pt.as_tensor_variable(s_bar))
        fong_point = alpha * pt.mean(beta_f)

        # --- likelihood of the published numbers
        p_model, m_model = _crlm_predictions(pt, data, pi, lam, k, mu, u, fong_point, reach)
        pm.Binomial(
            "proportion_obs",
            n=np.array([t.n for t in props]),
            p=pt.clip(p_model, 1e-12, 1.0 - 1e-12),
            observed=np.array([t.x for t in props]),
            dims="proportion_target",
        )
        pm.Normal(
            "log_median_obs",
            mu=pt.log(m_model),
            sigma=np.array([t.sigma for t in meds]),
            observed=np.log([t.observed for t in meds]),
            dims="median_target",
        )
    return model


def crlm_outputs(dt: xr.DataTree | xr.Dataset) -> dict[str, xr.DataArray]:
    """Tree parameters (and profile hazard ratios) from a ``crlm_survival`` fit.

    Parameters
    ----------
    dt : xarray.DataTree or Dataset
        Fit of :func:`build_crlm_survival`.

    Returns
    -------
    dict
        Name -> draws with dims ``(chain, draw)``; the names and their mapping to
        ``trees/crlm.yaml`` are tabulated in the module docstring. Each array's
        ``attrs["tree_parameter"]`` names the tree parameter (or is ``""``).
    """
    post = _posterior(dt)
    u_new = _sample_dims(post["new_cohort_effect"])
    pi = _sample_dims(post["cure_fraction"])
    lam = _sample_dims(post["recurrence_scale"])
    k = _sample_dims(post["recurrence_shape"])
    mu = _sample_dims(post["post_recurrence_excess_hazard"])
    beta_x = post["log_hr_covariate"]
    prev = post["prevalence"]
    log_hr_r0 = _sample_dims(-beta_x.sel(covariate="r1") * prev.sel(covariate="r1"))
    hr_r0 = np.exp(u_new + log_hr_r0)  # R0 stratum of a new cohort
    out: dict[str, xr.DataArray] = {}

    def put(name: str, da: xr.DataArray | np.ndarray, tree: str, description: str) -> None:
        # np.exp of a DataArray is a DataArray (its __array_ufunc__), though numpy's stubs
        # type it as an ndarray
        assert isinstance(da, xr.DataArray)
        da = _sample_dims(da)
        da.name = name
        da.attrs = {"tree_parameter": tree, "description": description, "model": "crlm_survival"}
        out[name] = da

    put(
        "pi_cure",
        np.exp(np.exp(u_new) * np.log(pi)),
        "pi_cure",
        "cure fraction of the resected cohort (R0 and R1), new cohort",
    )
    median_ttr = (_LN2 / hr_r0) ** (1.0 / k) / lam
    put(
        "lam_recurrence",
        _LN2 / median_ttr,
        "lam_recurrence",
        "recurrence rate per year of the non-cured after R0: ln 2 / median time to recurrence",
    )
    put(
        "median_os_post_recurrence_mo",
        _post_recurrence_median_months(mu, hr_r0),
        "median_os_post_recurrence_mo",
        "all-cause median survival after recurrence (months, R0) at age_ref",
    )
    put("hr_r1", np.exp(beta_x.sel(covariate="r1")), "hr_r1", "R1 vs R0 hazard multiplier")
    put("hr_ras", np.exp(beta_x.sel(covariate="ras")), "", "RAS/KRAS mutant vs wild type")
    put("hr_braf", np.exp(beta_x.sel(covariate="braf")), "", "BRAF mutant vs wild type")
    put(
        "hr_extrahepatic",
        np.exp(beta_x.sel(covariate="extrahepatic")),
        "",
        "extrahepatic disease vs none",
    )
    alpha = post["fong_attenuation"]
    beta_f = post["log_hr_fong_univariable"]
    put(
        "hr_fong_point",
        np.exp(alpha * beta_f.mean("fong_criterion")),
        "",
        "per point of the Fong clinical risk score",
    )
    for c in FONG_CRITERIA:
        put(
            f"hr_fong_{c}",
            np.exp(alpha * beta_f.sel(fong_criterion=c)),
            "",
            f"Fong criterion {c} within the score (attenuated)",
        )
    put("recurrence_shape", k, "", "Weibull shape of the time to recurrence")
    for years in (5, 10):
        s = survival_by_profile(post, {}, [float(years)], new_cohort=True).isel(time=0)
        put(f"os_{years}y_resected", s, "", f"overall survival {years} years after resection")
    return out


def crlm_checks(dt: xr.DataTree | xr.Dataset, evidence: Mapping[str, EvidenceFile]) -> pd.DataFrame:
    """Posterior-predictive checks of every number ``crlm_survival`` is fitted to.

    Each published proportion is replicated as ``Binomial(n, p_model) / n`` with the
    likelihood's (effective) size, each median as ``exp(log m_model + sigma * e)``; a check
    passes when the published value lies in the central 95 % interval of its replicates.

    Parameters
    ----------
    dt : xarray.DataTree or xarray.Dataset
        A fit of :func:`build_crlm_survival`, or its posterior.
    evidence : mapping
        Area -> :class:`EvidenceFile`, with ``crlm_survival`` and ``systemic_survival``
        (the files it was fitted to).

    Returns
    -------
    pandas.DataFrame
        Columns ``target`` (entry id), ``observed``, ``lower``, ``upper``, ``passed``,
        ``source``; one row per proportion then per median of :func:`crlm_data` (fixed
        seed).

    See Also
    --------
    crlm_predictions : The model-implied numbers that are replicated.
    """
    data = crlm_data(evidence)
    p_draws, m_draws = crlm_predictions(dt, data)
    return _check_frame(_ppc_rows(data.proportions, p_draws, data.medians, m_draws, 20260))


def crlm_predictions(dt: xr.DataTree | xr.Dataset, data: CrlmData) -> tuple[np.ndarray, np.ndarray]:
    """Model-implied proportions and medians (months) of the fitted targets, per draw.

    Parameters
    ----------
    dt : xarray.DataTree or xarray.Dataset
        A fit of :func:`build_crlm_survival`, or its posterior.
    data : CrlmData
        The targets (:func:`crlm_data` of the evidence it was fitted to).

    Returns
    -------
    tuple of numpy.ndarray
        Shapes ``(chain, draw, len(data.proportions))`` and ``(chain, draw,
        len(data.medians))``.
    """
    post = _posterior(dt)

    def scalar(name: str) -> np.ndarray:
        return _sample_dims(post[name]).values[..., None]

    def vector(name: str, dim: str) -> np.ndarray:
        return post[name].transpose("chain", "draw", dim).values

    fong_point = (
        scalar("fong_attenuation")
        * post["log_hr_fong_univariable"]
        .mean("fong_criterion")
        .transpose("chain", "draw")
        .values[..., None]
    )
    with np.errstate(under="ignore"):
        return _crlm_predictions(
            np,
            data,
            scalar("cure_fraction"),
            scalar("recurrence_scale"),
            scalar("recurrence_shape"),
            scalar("post_recurrence_excess_hazard"),
            vector("cohort_effect", "cohort"),
            fong_point,
            vector("recurrence_reach", "recurrence_study"),
        )


SPECS: list[ModelSpec] = [
    ModelSpec(
        name="crlm_survival",
        files=("crlm_survival", "systemic_survival"),
        build=build_crlm_survival,
        outputs=crlm_outputs,
        checks=crlm_checks,
        version="1",
        draws=SAMPLER_SETTINGS["draws"],
        sample_kwargs={"target_accept": SAMPLER_SETTINGS["target_accept"]},
        profile_outputs=crlm_profile_outputs,
    ),
]
