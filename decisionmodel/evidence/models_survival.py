r"""Survival evidence models: resection of colorectal liver metastases, and systemic therapy.

Two PyMC syntheses of the published aggregate numbers in ``priors/crlm_survival.yaml`` and
``priors/systemic_survival.yaml`` (source: the evidence dossier, sections 1-4, 11 and 13.2),
registered in :data:`SPECS` for :mod:`decisionmodel.evidence.registry`.

``crlm_survival``: survival, cure and recurrence after curative hepatectomy
------------------------------------------------------------------------------
A two-stage **mixture-cure** model with the structure of the Markov cohort ``resected`` of
``trees/crlm.yaml``. Time :math:`t` is in years from hepatectomy. A share :math:`\pi` of
patients is cured (only background mortality). The others recur after a Weibull time
:math:`T_r` with cumulative hazard :math:`h\,(\lambda t)^k` and then die of the disease at
a constant excess hazard :math:`h\,\mu` (:math:`\mu` is the all-cause post-recurrence hazard
at the source cohorts' age minus the background hazard there, as in the tree). Background
mortality is the tree's Gompertz hazard :math:`\exp(a + b\,(\text{age} + t))`
(:data:`GOMPERTZ_A`, :data:`GOMPERTZ_B`, :data:`AGE_REF`). For a cohort whose disease
course is sped up by :math:`h = e^{u}`:

.. math::

    \pi_h &= \pi^{h} \quad\text{(complementary log-log link: } \log(-\log \pi_h) =
             u + \log(-\log\pi)\text{)}\\
    U_h(t) &= e^{-H} + \int_0^{t} f_{T_r}(s)\, e^{-h\mu (t-s)}\,ds,
             \qquad H = h(\lambda t)^k\\
    D_h(t) &= \pi_h + (1-\pi_h)\,U_h(t),\qquad \text{OS}_h(t) = S_{bg}(t)\,D_h(t)\\
    \text{TTR}_h(t) &= \pi_h + (1-\pi_h)\,e^{-H},\qquad
    \text{RFS}_h(t) = S_{bg}(t)\,\text{TTR}_h(t)

(:math:`D` is disease-specific survival; the integral by Gauss-Legendre quadrature on three
panels, :data:`N_QUAD` nodes each).

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

``systemic_survival``: survival without resection, and the resection effect
---------------------------------------------------------------------------
Median overall survival (months) is exponential-survival shorthand, as in the tree.

- First-line trial arms (CALGB/SWOG 80405 x 2, FIRE-3 x 2, TRIBE x 2) and the CLOCC
  systemic-therapy-only arm (liver-limited, unresectable): :math:`\log m_a = \nu +
  \Delta\,[a \text{ liver-limited}] + \tau_s z_a`, observed with :math:`\sigma` = 0.06 for
  large phase III arms whose deaths the dossier does not give (the dossier's sdlog for
  80405) and :math:`1/\sqrt{54}` for CLOCC (119 randomised 1:1, 8-year OS 8.9 %: about 54
  deaths; assumption). The liver-limited median (tree ``median_os_systemic_mo``) is a new
  population: :math:`\nu + \Delta + \sqrt{\tau_s^2 + 0.15^2}\,z` (transport SD 0.15 for
  resectable-type patients vs trial entrants, assumption D as in the tree). Priors:
  :math:`\nu \sim N(\log 24, 0.5^2)`, :math:`\Delta \sim N(0, 0.5^2)`, :math:`\tau_s \sim
  \text{LogNormal}(\log 0.05, 0.6)` (between first-line arms, 95 % 0.015-0.16),
  :math:`\log m_\text{M1c} \sim N(\log 18, 0.5^2)`.
- Peritoneal metastases on first-line therapy (Franko 2016, 16.3 months, sdlog 0.05):
  :math:`\log m_\text{M1c}` with its own prior; the tree's ``median_os_m1c_mo`` adds the same
  transport term (patients found at laparotomy are not trial entrants).
- **Resection vs systemic therapy**, ``hr_resection_vs_systemic``: an explicit uncertain
  parameter informed only by the randomised local-treatment trials: CLOCC (liver, RFA
  +/- resection, HR 0.58 (0.38-0.88)) and PulMiCC (lung metastasectomy, HR 0.93
  (0.56-1.56)) as a random-effects pair, :math:`\theta_s = \psi + \tau_h z_s`,
  :math:`\psi \sim N(0, 0.7^2)`, :math:`\tau_h \sim \text{LogNormal}(\log 0.15, 0.6)`
  (two settings cannot estimate it; 95 % 0.05-0.49); the target
  is the liver setting plus an indirectness term :math:`N(0, 0.2^2)` (ablation in
  unresectable disease vs resection of resectable disease). It is flagged **confounded**:
  no trial randomised resection of resectable disease against systemic therapy, so the
  parameter transports other comparisons, and every non-randomised comparison of
  resection with chemotherapy is biased by selection (fitter patients, less disease).
  None of those is used, and the effect is *not* the difference between the
  surgical-series survival of ``crlm_survival`` and the trial survival of this model,
  which would overstate the benefit. The output carries ``attrs["confounded"] = True`` and
  the caution in ``attrs["caution"]``.

Given :math:`\tau_s` and :math:`\tau_h` everything in this model is normal, so
:math:`\nu, \Delta`, the arm effects, :math:`\psi` and the setting effects are integrated
out of the likelihood and drawn from their exact conditional posteriors: NUTS meets no
funnel.

The CLOCC 8-year survival on systemic therapy (8.9 %) is not fitted: the exponential shape
implied by a 40.5-month median gives about 19 %.

Examples
--------
>>> from decisionmodel.evidence import load_all
>>> ev = load_all("priors")
>>> model = build_crlm_survival(ev)
>>> sorted(model.coords["cohort"])[:2]
['angelsen2015', 'creasy2018']
>>> [s.name for s in SPECS]
['crlm_survival', 'systemic_survival']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import special, stats

from decisionmodel.clinical.fong import FONG_CRITERIA
from decisionmodel.evidence.files import EvidenceFile
from decisionmodel.evidence.registry import ModelSpec
from decisionmodel.exceptions import ProfileError

__all__ = [
    "AGE_REF",
    "COHORTS",
    "COVARIATES",
    "FONG_CRITERIA",
    "GOMPERTZ_A",
    "GOMPERTZ_B",
    "SAMPLER_SETTINGS",
    "SPECS",
    "SYSTEMIC_PROFILE_KEYS",
    "CrlmData",
    "MedianTarget",
    "ProfileError",
    "ProportionTarget",
    "SystemicData",
    "build_crlm_survival",
    "build_systemic_survival",
    "crlm_checks",
    "crlm_data",
    "crlm_outputs",
    "crlm_predictions",
    "crlm_profile_outputs",
    "profile_log_hr",
    "survival_by_profile",
    "systemic_checks",
    "systemic_data",
    "systemic_outputs",
]

# ----------------------------------------------------------------------------- constants

#: Gompertz all-cause hazard exp(a + b * age), the tree's ``gomp_a``/``gomp_b`` (US life
#: table 2023, NVSR 74(6), fitted in ``trees/crlm.yaml``)
GOMPERTZ_A: float = -10.814
#: Gompertz slope per year of age (tree ``gomp_b``)
GOMPERTZ_B: float = 0.09735
#: age (years) at which the published survival was observed (tree ``age_ref``)
AGE_REF: float = 62.0
#: Gauss-Legendre nodes per panel of the recurrence-then-death convolution
N_QUAD: int = 20
#: panel cuts (in cumulative recurrence hazard) of that quadrature
_PANEL_CUTS: tuple[float, ...] = (6.0, 30.0)
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
#: transport SD (log median) from trial populations to the decision population (D)
TRANSPORT_SD: float = 0.15
#: indirectness SD (log HR) from CLOCC's local treatment to resection of resectable CRLM (D)
INDIRECTNESS_SD: float = 0.2
#: sdlog of a phase III arm median when the dossier gives no deaths (its sdlog for 80405)
DEFAULT_SIGMA_LOG_MEDIAN: float = 0.06
#: NUTS settings of the two models (their specs' ``draws`` and ``sample_kwargs``; the
#: tests use them too). Measured on this machine: with PyMC's sampler even its defaults
#: (target_accept 0.8) pass the diagnostics gate (R-hat <= 1.01, bulk/tail ESS >= 400, no
#: divergences) on every seed tried, ESS > 1100 for crlm_survival. With nutpie (the
#: default sampler), systemic_survival passes easily (ESS > 2000) but crlm_survival needs
#: 2000 draws: at 1000, ESS 540-860 and R-hat up to 1.016 on 3 of 15 seeds. Its posterior
#: has a ridge (cure fraction vs speed of the disease vs cohort effects) that a diagonal
#: mass matrix crosses slowly.
SAMPLER_SETTINGS: dict[str, dict[str, Any]] = {
    "crlm_survival": {"draws": 2000, "tune": 1000, "chains": 4, "target_accept": 0.9},
    "systemic_survival": {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.9},
}

_GL_X, _GL_W = np.polynomial.legendre.leggauss(N_QUAD)
_GL_X = (_GL_X + 1.0) / 2.0
_GL_W = _GL_W / 2.0
_LN2 = math.log(2.0)
_MEDIAN_CAP_YEARS = 40.0
_CONFOUNDING_CAUTION = (
    "Resection vs systemic therapy: informed only by the randomised local-treatment trials "
    "CLOCC (liver; radiofrequency ablation +/- resection in unresectable disease, HR 0.58 "
    "(0.38-0.88)) and PulMiCC (lung metastasectomy, HR 0.93 (0.56-1.56)), with an "
    "indirectness term for resection of resectable disease. Every non-randomised comparison "
    "(surgical series vs chemotherapy trials) is confounded by selection and overstates the "
    "benefit; do not replace this parameter by the ratio of the two arms' survival."
)


# ----------------------------------------------------------------------------- survival kernels
# Written once for numpy and pytensor: ``xp`` is the numpy or the pytensor.tensor namespace.


def _bg_hazard0(age: float) -> float:
    """Background (all-cause) hazard per year at ``age``."""
    return math.exp(GOMPERTZ_A + GOMPERTZ_B * age)


def _bg_cumhaz(xp: Any, t: Any, age: float = AGE_REF) -> Any:
    """Cumulative Gompertz background hazard from ``age`` over ``t`` years."""
    return _bg_hazard0(age) / GOMPERTZ_B * xp.expm1(GOMPERTZ_B * t)


def _noncured_alive(xp: Any, t: Any, lam: Any, k: Any, mu: Any, hr: Any) -> Any:
    """P(no disease death by ``t`` | not cured), net of background mortality.

    Time to recurrence has cumulative hazard ``hr * (lam * t) ** k``; after recurrence the
    excess death hazard is ``hr * mu``. With ``H = hr * (lam * t) ** k``, ``c = hr * mu * t``
    and the recurrence time ``s = t * z ** (2 / k)``, the convolution is

    ``U(t) = exp(-H) + int_0^1 2 z H exp(-H z**2) exp(-c (1 - z ** (2 / k))) dz``,

    smooth in ``z`` for any shape; Gauss-Legendre on the panels ``[0, sqrt(6 / H)]``,
    ``[sqrt(6 / H), sqrt(30 / H)]``, ``[sqrt(30 / H), 1]`` (clipped to 1) follows the
    recurrence mass when ``H`` is large. Absolute error < 1e-8 for shapes 0.5-2, ``H`` up
    to ~300 (tested against scipy).
    """
    zero = xp.zeros_like(t * lam * k * mu * hr)
    t, lam, k, mu, hr = t + zero, lam + zero, k + zero, mu + zero, hr + zero
    big_h = hr * (lam * t) ** k
    # panel bounds, shape (..., 3): [0, b1, b2] -> [b1, b2, 1]
    cuts = [xp.minimum(1.0, xp.sqrt(c / big_h)) for c in _PANEL_CUTS]
    lower = xp.stack([zero, *cuts], axis=-1)
    upper = xp.stack([*cuts, zero + 1.0], axis=-1)
    z = lower[..., None] + (upper - lower)[..., None] * _GL_X  # (..., 3, N_QUAD)
    h = big_h[..., None, None]
    c = (hr * mu * t)[..., None, None]
    f = 2.0 * z * h * xp.exp(-h * z * z - c * (1.0 - z ** (2.0 / k)[..., None, None]))
    total = xp.sum((upper - lower) * xp.sum(_GL_W * f, axis=-1), axis=-1)
    return xp.exp(-big_h) + total


def _cure(xp: Any, pi: Any, hr: Any) -> Any:
    """Cure fraction ``pi ** hr`` (complementary log-log link)."""
    return xp.exp(hr * xp.log(pi))


def _disease(xp: Any, t: Any, pi: Any, lam: Any, k: Any, mu: Any, hr: Any) -> Any:
    """Disease-specific (net) survival of the two-stage mixture-cure process."""
    pi_h = _cure(xp, pi, hr)
    return pi_h + (1.0 - pi_h) * _noncured_alive(xp, t, lam, k, mu, hr)


def _os(xp: Any, t: Any, pi: Any, lam: Any, k: Any, mu: Any, hr: Any, age: float = AGE_REF) -> Any:
    return xp.exp(-_bg_cumhaz(xp, t, age)) * _disease(xp, t, pi, lam, k, mu, hr)


def _ttr(xp: Any, t: Any, pi: Any, lam: Any, k: Any, hr: Any) -> Any:
    pi_h = _cure(xp, pi, hr)
    return pi_h + (1.0 - pi_h) * xp.exp(-hr * (lam * t) ** k)


def _rfs(xp: Any, t: Any, pi: Any, lam: Any, k: Any, hr: Any, age: float = AGE_REF) -> Any:
    return xp.exp(-_bg_cumhaz(xp, t, age)) * _ttr(xp, t, pi, lam, k, hr)


def _ttr_median(xp: Any, pi: Any, lam: Any, k: Any, hr: Any) -> Any:
    """Median time to recurrence in years (closed form; cure fraction capped below 1/2)."""
    pi_h = xp.minimum(_cure(xp, pi, hr), 0.499)
    return (xp.log((1.0 - pi_h) / (0.5 - pi_h)) / hr) ** (1.0 / k) / lam


def _rfs_median(
    xp: Any, pi: Any, lam: Any, k: Any, hr: Any, age: float = AGE_REF, steps: int = 2
) -> Any:
    """Median recurrence-free survival in years: TTR median, then Newton steps.

    With the background hazard the RFS median always exists; the TTR median (the start)
    is capped at 40 years so that every step keeps finite values and gradients.
    """
    h0 = _bg_hazard0(age)
    pi_h = xp.minimum(_cure(xp, pi, hr), 0.499)
    # start at the median without background deaths, capped where the background
    # survival is still representable (the Newton step divides by it)
    t = xp.minimum(_ttr_median(xp, pi, lam, k, hr), _MEDIAN_CAP_YEARS)
    for _ in range(steps):
        s_bg = xp.exp(-_bg_cumhaz(xp, t, age))
        big_h = hr * (lam * t) ** k
        tail = (1.0 - pi_h) * xp.exp(-big_h)
        r = pi_h + tail
        f = s_bg * r - 0.5
        fprime = -s_bg * (h0 * xp.exp(GOMPERTZ_B * t) * r + tail * big_h * k / t)
        t = xp.maximum(t - f / fprime, 0.5 * t)
    return t


def _post_recurrence_median_months(mu: Any, hr: Any, age: float = AGE_REF) -> Any:
    """All-cause median survival after recurrence (months) at ``age``."""
    return 12.0 * _LN2 / (hr * mu + _bg_hazard0(age))


# ----------------------------------------------------------------------------- evidence helpers


@dataclass(frozen=True)
class ProportionTarget:
    """A published proportion fitted with a binomial likelihood.

    Attributes
    ----------
    id, area : str
        Evidence entry and its file's area.
    cohort : str
        One of :data:`COHORTS` (``crlm_survival``).
    kind : str
        ``os`` (overall survival at ``time``), ``cure_observed`` (alive and disease-free
        at ``time``), ``cure_fraction`` (statistical cure) or ``recurrence`` (crude
        proportion within follow-up).
    time : float or None
        Years from hepatectomy.
    score : int or None
        Fong score of a stratum.
    observed : float
        The published proportion.
    x, n : int
        Events and (effective) size used in the likelihood.
    source : str
        Short citation.
    """

    id: str
    area: str
    cohort: str
    kind: str
    time: float | None
    score: int | None
    observed: float
    x: int
    n: int
    source: str


@dataclass(frozen=True)
class MedianTarget:
    """A published median fitted as ``log m_obs ~ N(log m_model, sigma)``.

    Attributes
    ----------
    id, area : str
        Evidence entry and its file's area.
    group : str
        Cohort (``crlm_survival``) or population (``systemic_survival``).
    kind : str
        ``rfs``, ``ttr``, ``post_recurrence`` (crlm) or ``all_comer``,
        ``liver_limited``, ``m1c`` (systemic).
    observed : float
        Published median in months.
    sigma : float
        Standard deviation of the log median.
    sigma_note : str
        Where ``sigma`` comes from.
    source : str
        Short citation.
    """

    id: str
    area: str
    group: str
    kind: str
    observed: float
    sigma: float
    sigma_note: str
    source: str


def _citation(ev: EvidenceFile, entry_id: str) -> str:
    frame = ev.to_frame()
    return str(frame.loc[frame["id"] == entry_id, "citation"].iloc[0])


def _level_z(entry: Mapping[str, Any]) -> float:
    return float(stats.norm.ppf(0.5 + entry.get("level", 0.95) / 2.0))


def _binomial(entry: Mapping[str, Any]) -> tuple[float, int, int]:
    """(published proportion, x, n) of an ``events``/``proportion`` entry.

    The size is ``n_eff`` when given, else the size implied by a confidence interval
    (``p (1 - p) / se**2``), else ``n``.
    """
    if entry["type"] == "events":
        return entry["events"] / entry["n"], int(entry["events"]), int(entry["n"])
    if entry["type"] != "proportion":
        raise ValueError(f"entry {entry['id']!r} is not a proportion or events entry")
    p = float(entry["value"])
    if entry.get("n_eff") is not None:
        n = float(entry["n_eff"])
    elif entry.get("lower") is not None:
        se = (entry["upper"] - entry["lower"]) / (2.0 * _level_z(entry))
        n = p * (1.0 - p) / se**2
    else:
        n = float(entry["n"])
    n_int = round(n)
    return p, round(p * n_int), n_int


def _log_ratio_prior(entry: Mapping[str, Any]) -> tuple[float, float]:
    """(mean, sd) of a log ratio: from the 95 % interval, else the entry's lognormal."""
    if entry.get("lower") is not None:
        z = _level_z(entry)
        return math.log(entry["value"]), (math.log(entry["upper"]) - math.log(entry["lower"])) / (
            2.0 * z
        )
    dist = entry.get("distribution")
    if dist and dist["distribution"] == "lognormal":
        return float(dist["meanlog"]), float(dist["sdlog"])
    raise ValueError(f"entry {entry['id']!r} has neither an interval nor a lognormal prior")


def _beta_from_proportions(props: Sequence[float], pooled: float) -> tuple[float, float]:
    """Beta with mean ``pooled`` and SD the between-study SD of ``props``."""
    sd = float(np.std(props, ddof=1))
    conc = pooled * (1.0 - pooled) / sd**2 - 1.0
    return pooled * conc, (1.0 - pooled) * conc


def _months(entry: Mapping[str, Any]) -> float:
    factor = {"days": 12.0 / 365.25, "weeks": 12.0 / 52.18, "months": 1.0, "years": 12.0}
    return float(entry["value"]) * factor[entry["unit"]]


# ----------------------------------------------------------------------------- crlm data


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
        """Mean Fong score of the pooled cohorts (Fong 1999 distribution)."""
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


# ----------------------------------------------------------------------------- crlm model


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


# ----------------------------------------------------------------------------- crlm posterior tools


def _posterior(dt: xr.DataTree | xr.Dataset) -> xr.Dataset:
    if isinstance(dt, xr.Dataset):
        return dt
    if "posterior" in dt.children:
        return dt["posterior"].to_dataset()
    return dt.to_dataset()  # a group node, e.g. ``prior`` of sample_prior_predictive


def _sample_dims(da: xr.DataArray) -> xr.DataArray:
    """Keep only the (chain, draw) dims/coords of a scalar-per-draw array."""
    da = da.transpose("chain", "draw")
    return xr.DataArray(
        da.values,
        dims=("chain", "draw"),
        coords={"chain": da["chain"].values, "draw": da["draw"].values},
    )


#: accepted values of the binary profile keys (strings compared case-insensitively)
_VALUES: dict[str, dict[str, float]] = {
    "ras": {"wild": 0.0, "wild-type": 0.0, "wt": 0.0, "mutant": 1.0, "mut": 1.0},
    "braf": {"wild": 0.0, "wild-type": 0.0, "wt": 0.0, "mutant": 1.0, "mut": 1.0, "v600e": 1.0},
    "margin": {"r0": 0.0, "r1": 1.0},
    "extrahepatic": {"no": 0.0, "absent": 0.0, "yes": 1.0, "present": 1.0},
}


def _binary(key: str, value: Any) -> float | None:
    """0/1 for a binary covariate value (``None`` = keep the pooled mix).

    Booleans are accepted for every key (True = mutant / R1 / present).
    """
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in _VALUES[key]:
        return _VALUES[key][value.strip().lower()]
    allowed = ", ".join(repr(v) for v in _VALUES[key])
    raise ProfileError(f"profile: invalid value {value!r} for {key!r} (allowed: {allowed}, bool)")


def profile_log_hr(dt: xr.DataTree | xr.Dataset, profile: Mapping[str, Any]) -> xr.DataArray:
    """Log hazard multiplier of a patient profile relative to the pooled-cohort mix.

    Parameters
    ----------
    dt : xarray.DataTree or Dataset
        Fit (or prior draws) of :func:`build_crlm_survival`; the ``posterior`` group is read.
    profile : mapping
        ``fong``: a score 0-5, an iterable of the names of the criteria met (from
        :data:`FONG_CRITERIA`, all five known), or a mapping criterion -> True/False for
        the criteria known (the others at their pooled prevalence, mean score / 5); ``ras`` / ``braf``: ``"wild"`` or ``"mutant"`` (``braf``
        also ``"v600e"``); ``margin``: ``"R0"`` or ``"R1"``; ``extrahepatic``: bool. A
        missing key (or ``None``) keeps that covariate at the pooled cohorts' mix.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw)``.

    Raises
    ------
    ProfileError
        Unknown key or invalid value.
    """
    post = _posterior(dt)
    known = {"fong", "ras", "braf", "margin", "extrahepatic"}
    unknown = sorted(set(profile) - known)
    if unknown:
        raise ProfileError(
            f"profile: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    eta = xr.zeros_like(post["fong_attenuation"])
    fong = profile.get("fong")
    if fong is not None:
        alpha = post["fong_attenuation"]
        beta = post["log_hr_fong_univariable"]
        s_bar = post["fong_score_mean"]
        beta_bar = beta.mean("fong_criterion")
        if isinstance(fong, bool | np.bool_) or not isinstance(fong, int | np.integer | Iterable):
            raise ProfileError(
                f"profile: 'fong' must be a score 0-5 or criterion names, not {fong!r}"
            )
        if isinstance(fong, Mapping):
            # some criteria stated (True/False), the others at their pooled prevalence:
            # exchangeable criteria, each met with probability s_bar / 5
            bad = sorted(set(map(str, fong)) - set(FONG_CRITERIA))
            if bad or not all(isinstance(v, bool | np.bool_) for v in fong.values()):
                raise ProfileError(
                    f"profile: Fong criteria must map names from {FONG_CRITERIA} to "
                    f"True/False, got {dict(fong)!r}"
                )
            met = [c for c, v in fong.items() if v]
            unknown = [c for c in FONG_CRITERIA if c not in fong]
            chosen = beta.sel(fong_criterion=met).sum("fong_criterion") if met else 0.0
            if unknown:
                share = s_bar / len(FONG_CRITERIA)
                chosen = chosen + share * beta.sel(fong_criterion=unknown).sum("fong_criterion")
            eta = eta + alpha * (chosen - beta_bar * s_bar)
        elif isinstance(fong, int | np.integer):
            if not 0 <= int(fong) <= len(FONG_CRITERIA):
                raise ProfileError(f"profile: Fong score {fong!r} outside 0-{len(FONG_CRITERIA)}")
            eta = eta + alpha * beta_bar * (int(fong) - s_bar)
        else:
            names = [str(c) for c in fong]
            bad = sorted(set(names) - set(FONG_CRITERIA))
            if bad or len(set(names)) != len(names) or isinstance(fong, str):
                raise ProfileError(
                    f"profile: Fong criteria must be distinct names from {FONG_CRITERIA}, got {fong!r}"
                )
            chosen = beta.sel(fong_criterion=names).sum("fong_criterion") if names else 0.0
            eta = eta + alpha * (chosen - beta_bar * s_bar)
    beta_x = post["log_hr_covariate"]
    prev = post["prevalence"]
    for key, cov in (
        ("ras", "ras"),
        ("braf", "braf"),
        ("margin", "r1"),
        ("extrahepatic", "extrahepatic"),
    ):
        x = _binary(key, profile.get(key))
        if x is not None:
            eta = eta + beta_x.sel(covariate=cov) * (x - prev.sel(covariate=cov))
    return _sample_dims(eta)


#: covariates that also act without resection (prognostic in metastatic colorectal cancer
#: whatever the treatment); the Fong criteria and extrahepatic disease describe the
#: resected population and act only on ``hr_profile``
SYSTEMIC_PROFILE_KEYS: tuple[str, ...] = ("ras", "braf")


def crlm_profile_outputs(
    dt: xr.DataTree | xr.Dataset, covariates: Mapping[str, Any]
) -> dict[str, xr.DataArray]:
    r"""Hazard multipliers of a patient profile, for the tree's profile parameters.

    Parameters
    ----------
    dt : xarray.DataTree or Dataset
        A ``crlm_survival`` fit.
    covariates : mapping
        The keys of :func:`profile_log_hr` (``fong``, ``ras``, ``braf``,
        ``extrahepatic``; ``margin`` is ignored here because the tree models the margin
        itself); missing keys keep the pooled mix, so ``{}`` gives multipliers of exactly 1.

    Returns
    -------
    dict
        ``hr_profile``: :math:`e^{\eta}` of the whole profile, the multiplier of the
        disease hazards after resection (the tree raises the cure fraction to this power
        and multiplies the hazards of the non-cured by it); ``hr_profile_systemic``: the
        multiplier from RAS and BRAF alone (:data:`SYSTEMIC_PROFILE_KEYS`), applied to the
        survival hazard on systemic therapy, **an assumption**: the same hazard ratios
        with and without resection, centred at the resected cohorts' prevalences.
        Both over ``(chain, draw)``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> post = xr.Dataset({
    ...     "fong_attenuation": (("chain", "draw"), [[0.5]]),
    ...     "log_hr_fong_univariable": (("chain", "draw", "fong_criterion"), [[[0.4] * 5]]),
    ...     "fong_score_mean": (("chain", "draw"), [[2.0]]),
    ...     "log_hr_covariate": (("chain", "draw", "covariate"), [[[0.47, 0.62, 0.94, 0.64]]]),
    ...     "prevalence": (("chain", "draw", "covariate"), [[[0.18, 0.33, 0.03, 0.1]]]),
    ... }, coords={"fong_criterion": list(FONG_CRITERIA), "covariate": ["r1", "ras", "braf",
    ...     "extrahepatic"]})
    >>> out = crlm_profile_outputs(xr.DataTree.from_dict({"posterior": post}), {"fong": 4})
    >>> round(out["hr_profile"].item(), 4), out["hr_profile_systemic"].item()  # exp(0.5*0.4*2)
    (1.4918, 1.0)
    """
    cov = {k: v for k, v in covariates.items() if k != "margin"}
    systemic = {k: cov[k] for k in SYSTEMIC_PROFILE_KEYS if k in cov}
    return {
        "hr_profile": np.exp(profile_log_hr(dt, cov)),
        "hr_profile_systemic": np.exp(profile_log_hr(dt, systemic)),
    }


def survival_by_profile(
    dt: xr.DataTree | xr.Dataset,
    profile: Mapping[str, Any] | None,
    times: Sequence[float] | np.ndarray,
    *,
    kind: str = "os",
    age: float = AGE_REF,
    new_cohort: bool = True,
) -> xr.DataArray:
    """Posterior-predictive survival curve of a patient profile after hepatectomy.

    Parameters
    ----------
    dt : xarray.DataTree or Dataset
        Fit (or prior draws) of :func:`build_crlm_survival`.
    profile : mapping or None
        See :func:`profile_log_hr`, e.g. ``{"fong": 3, "ras": "mutant", "braf": "wild",
        "margin": "R1", "extrahepatic": False}``. Missing keys (and ``None`` or ``{}``)
        stay at the baseline: the covariate mix of the pooled cohorts.
    times : sequence of float
        Years after hepatectomy (>= 0).
    kind : {"os", "disease", "rfs", "ttr"}
        Overall survival (with background mortality from ``age``), disease-specific
        (net) survival, recurrence-free survival (recurrence or death), or freedom from
        recurrence (deaths censored).
    age : float
        Age at hepatectomy for the background mortality; the disease hazards are those
        of the source cohorts (excess over the background at :data:`AGE_REF`).
    new_cohort : bool
        Include the between-cohort effect of a new centre (``new_cohort_effect``; the
        default, as in the model's outputs) or use the typical cohort.

    Returns
    -------
    xarray.DataArray
        ``survival`` with dims ``(chain, draw, time)``.

    Examples
    --------
    >>> import pymc as pm
    >>> from decisionmodel.evidence import load_all
    >>> model = build_crlm_survival(load_all("priors"))
    >>> prior = pm.sample_prior_predictive(draws=5, model=model, random_seed=1,
    ...                                    compile_kwargs={"mode": "FAST_COMPILE"})
    >>> s = survival_by_profile(prior["prior"], {"fong": 3, "braf": "mutant"}, [1, 5])
    >>> s.dims, s.shape
    (('chain', 'draw', 'time'), (1, 5, 2))
    """
    if kind not in ("os", "disease", "rfs", "ttr"):
        raise ValueError(f"kind must be 'os', 'disease', 'rfs' or 'ttr', not {kind!r}")
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be a 1-d sequence of finite non-negative years")
    post = _posterior(dt)
    eta = profile_log_hr(post, profile or {})
    hr_profile = np.exp(eta.values)[..., None]
    u = _sample_dims(post["new_cohort_effect"]).values[..., None] if new_cohort else 0.0
    hr = np.exp(u + np.zeros_like(hr_profile))
    pi = _sample_dims(post["cure_fraction"]).values[..., None]
    lam = _sample_dims(post["recurrence_scale"]).values[..., None]
    k = _sample_dims(post["recurrence_shape"]).values[..., None]
    mu = _sample_dims(post["post_recurrence_excess_hazard"]).values[..., None]
    tt = np.maximum(t, 1e-12)
    with np.errstate(under="ignore"):
        # the cohort's average patient, then proportional hazards for the profile
        if kind in ("os", "disease"):
            s = _disease(np, tt, pi, lam, k, mu, hr) ** hr_profile
        else:
            s = _ttr(np, tt, pi, lam, k, hr) ** hr_profile
        if kind in ("os", "rfs"):
            s = s * np.exp(-_bg_cumhaz(np, tt, age))
    s = np.where(t == 0, 1.0, s)
    return xr.DataArray(
        s,
        dims=("chain", "draw", "time"),
        coords={"chain": eta["chain"].values, "draw": eta["draw"].values, "time": t},
        name="survival",
        attrs={
            "kind": kind,
            "profile": repr(dict(profile or {})),
            "age": age,
            "new_cohort": new_cohort,
            "time_unit": "years after hepatectomy",
            "baseline": "covariates not in the profile at the pooled cohorts' mix",
        },
    )


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

    def put(name: str, da: xr.DataArray, tree: str, description: str) -> None:
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


# ----------------------------------------------------------------------------- checks


def _check_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["target", "observed", "lower", "upper", "passed", "source"])
    frame["passed"] = frame["passed"].astype(bool)
    return frame


def _ppc_rows(
    props: Sequence[ProportionTarget],
    p_draws: np.ndarray,
    meds: Sequence[MedianTarget],
    m_draws: np.ndarray,
    seed: int,
) -> list[dict[str, Any]]:
    """Replicate each published number from the posterior; 95 % interval of the replicates.

    ``p_draws``/``m_draws`` hold the model-implied proportions / medians (months) with the
    targets on the last axis.
    """
    rng = np.random.default_rng(seed)
    rows = []
    p_flat = np.asarray(p_draws).reshape(-1, len(props)) if props else None
    for j, t in enumerate(props):
        p = np.clip(np.nan_to_num(p_flat[:, j], nan=0.5), 0.0, 1.0)
        rep = rng.binomial(t.n, p) / t.n
        lo, hi = np.quantile(rep, [0.025, 0.975])
        rows.append(_row(t.id, t.observed, lo, hi, t.source))
    m_flat = np.asarray(m_draws).reshape(-1, len(meds)) if meds else None
    for j, t in enumerate(meds):
        log_m = np.log(np.maximum(m_flat[:, j], 1e-300))
        rep = np.exp(log_m + t.sigma * rng.standard_normal(log_m.shape))
        lo, hi = np.quantile(rep, [0.025, 0.975])
        rows.append(_row(t.id, t.observed, lo, hi, t.source))
    return rows


def _row(target: str, observed: float, lo: float, hi: float, source: str) -> dict[str, Any]:
    return {
        "target": target,
        "observed": float(observed),
        "lower": float(lo),
        "upper": float(hi),
        "passed": bool(lo <= observed <= hi),
        "source": source,
    }


def crlm_checks(dt: xr.DataTree | xr.Dataset, evidence: Mapping[str, EvidenceFile]) -> pd.DataFrame:
    """Posterior-predictive checks of every number ``crlm_survival`` is fitted to.

    Each published proportion is replicated as ``Binomial(n, p_model) / n`` with the
    likelihood's (effective) size, each median as ``exp(log m_model + sigma * e)``; a check
    passes when the published value lies in the central 95 % interval of its replicates.

    Returns
    -------
    pandas.DataFrame
        Columns ``target`` (entry id), ``observed``, ``lower``, ``upper``, ``passed``,
        ``source``.
    """
    data = crlm_data(evidence)
    p_draws, m_draws = crlm_predictions(dt, data)
    return _check_frame(_ppc_rows(data.proportions, p_draws, data.medians, m_draws, 20260))


def crlm_predictions(dt: xr.DataTree | xr.Dataset, data: CrlmData) -> tuple[np.ndarray, np.ndarray]:
    """Model-implied proportions and medians (months) of the fitted targets, per draw.

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


# ----------------------------------------------------------------------------- systemic data and model


@dataclass(frozen=True)
class HazardRatioTarget:
    """A randomised local-treatment hazard ratio (``systemic_survival``)."""

    id: str
    setting: str
    observed: float
    log_mean: float
    log_se: float
    source: str


@dataclass(frozen=True)
class SystemicData:
    """Everything :func:`build_systemic_survival` reads from the evidence."""

    arms: tuple[MedianTarget, ...]
    m1c: tuple[MedianTarget, ...]
    hazard_ratios: tuple[HazardRatioTarget, ...]

    @property
    def medians(self) -> tuple[MedianTarget, ...]:
        """Arms then M1c, in the order of the ``median_target`` dim."""
        return self.arms + self.m1c


#: (entry id, population kind) of the systemic-therapy medians
_SYSTEMIC_ARMS: tuple[tuple[str, str], ...] = (
    ("venook2017_median_os_cetuximab", "all_comer"),
    ("venook2017_median_os_bevacizumab", "all_comer"),
    ("heinemann2014_fire3_median_os_arm1", "all_comer"),
    ("heinemann2014_fire3_median_os_arm2", "all_comer"),
    ("tribe_median_os_folfoxiri_bev", "all_comer"),
    ("tribe_median_os_folfiri_bev", "all_comer"),
    ("ruers2017_clocc_median_os_chemo_only", "liver_limited"),
)
#: sdlog of Franko 2016's peritoneal median (the dossier's suggestion, entry notes)
_FRANKO_SIGMA = 0.05
_SETTINGS: tuple[str, ...] = ("liver", "lung")
#: prior SD of the mean local-treatment log hazard ratio over settings
_PSI_SD = 0.7


def systemic_data(evidence: Mapping[str, EvidenceFile]) -> SystemicData:
    """Extract the fitted numbers of ``systemic_survival``.

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> d = systemic_data(load_all("priors"))
    >>> [(t.id, round(t.sigma, 3)) for t in d.arms][-1]
    ('ruers2017_clocc_median_os_chemo_only', 0.136)
    >>> [(h.setting, round(h.log_se, 3)) for h in d.hazard_ratios]
    [('liver', 0.214), ('lung', 0.261)]
    """
    ev = evidence["systemic_survival"]
    clocc_hr = ev["ruers2017_clocc_hr_os"]
    clocc_8y = ev["ruers2017_clocc_os_8y_chemo_only"]["value"]
    clocc_deaths = (1.0 - clocc_8y) * clocc_hr["n"] / 2.0
    arms = []
    for entry_id, kind in _SYSTEMIC_ARMS:
        entry = ev[entry_id]
        if kind == "liver_limited":
            sigma = 1.0 / math.sqrt(clocc_deaths)
            note = f"1/sqrt({clocc_deaths:.0f} deaths: 119 randomised 1:1, 8-year OS {clocc_8y})"
        else:
            sigma, note = DEFAULT_SIGMA_LOG_MEDIAN, "phase III arm, deaths not in the dossier"
        arms.append(
            MedianTarget(
                entry_id, ev.area, kind, kind, _months(entry), sigma, note, _citation(ev, entry_id)
            )
        )
    franko = "franko2016_median_os_peritoneal"
    m1c = (
        MedianTarget(
            franko,
            ev.area,
            "m1c",
            "m1c",
            _months(ev[franko]),
            _FRANKO_SIGMA,
            "dossier's suggested sdlog",
            _citation(ev, franko),
        ),
    )
    hrs = []
    for entry_id, setting in (
        ("ruers2017_clocc_hr_os", "liver"),
        ("milosevic2020_pulmicc_hr_os", "lung"),
    ):
        m, s = _log_ratio_prior(ev[entry_id])
        hrs.append(
            HazardRatioTarget(
                entry_id, setting, float(ev[entry_id]["value"]), m, s, _citation(ev, entry_id)
            )
        )
    return SystemicData(tuple(arms), m1c, tuple(hrs))


def _normal_conditional(y: Any, s: Any, mean: Any, tau: Any, z: Any) -> Any:
    """Draw of a random effect given its observation: ``y ~ N(theta, s)``, ``theta ~ N(mean, tau)``.

    ``theta | y`` is normal with mean ``(y tau^2 + mean s^2) / (s^2 + tau^2)`` and variance
    ``s^2 tau^2 / (s^2 + tau^2)`` (finite at ``tau = 0``); ``z`` is a standard normal.
    """
    v = s**2 + tau**2
    return (y * tau**2 + mean * s**2) / v + pt.sqrt(s**2 * tau**2 / v) * z


def build_systemic_survival(evidence: Mapping[str, EvidenceFile]) -> pm.Model:
    """Survival on systemic therapy alone, M1c survival, and the resection-vs-systemic HR.

    See the module docstring. ``hr_resection_vs_systemic`` is an explicit parameter
    informed only by the randomised local-treatment trials (CLOCC, PulMiCC); it is
    confounded for resectable disease (selection), which no non-randomised number here
    corrects.

    Returns
    -------
    pymc.Model
        Free variables ``arm_sd``, ``coefficient_z`` (dim ``coefficient``), ``arm_z``
        (``systemic_arm``), ``log_median_m1c``, ``new_population_z`` (``population``),
        ``setting_sd``, ``local_treatment_z``, ``setting_z`` (``rct_setting``),
        ``indirectness_z``; deterministics ``log_median_allcomer``,
        ``liver_limited_effect``, ``log_median_arm``, ``median_model`` (``median_target``,
        months), ``local_treatment_mean``, ``log_hr_setting``,
        ``hr_resection_vs_systemic``; observed ``log_median_obs`` (``systemic_arm``),
        ``log_median_m1c_obs`` and ``log_hr_obs`` (``hr_target``). Priors and likelihood
        are normal given the between-arm and between-setting SDs, so everything else is
        integrated out of the likelihood (multivariate normal marginals) and drawn from
        its exact conditional posterior through the standard normals ``*_z``: NUTS meets
        no funnel, even at its default settings.
    """
    data = systemic_data(evidence)
    coords = {
        "systemic_arm": [t.id for t in data.arms],
        "median_target": [t.id for t in data.medians],
        "population": ["liver_limited", "m1c"],
        "rct_setting": list(_SETTINGS),
        "hr_target": [h.id for h in data.hazard_ratios],
        "coefficient": ["allcomer", "liver_limited"],
    }
    liver_limited = np.array([t.kind == "liver_limited" for t in data.arms], dtype=float)
    y_arm = np.log([t.observed for t in data.arms])
    s_arm = np.array([t.sigma for t in data.arms])
    y_hr = np.array([h.log_mean for h in data.hazard_ratios])
    s_hr = np.array([h.log_se for h in data.hazard_ratios])
    idx = np.array([_SETTINGS.index(h.setting) for h in data.hazard_ratios], dtype=int)
    if sorted(idx) != list(range(len(_SETTINGS))):
        raise ValueError("one randomised hazard ratio per setting expected")  # pragma: no cover
    x = np.column_stack([np.ones(len(data.arms)), liver_limited])  # design: (nu, delta)
    m0 = np.array([math.log(24.0), 0.0])  # prior means of nu and delta
    s0 = np.array([0.5, 0.5])  # prior SDs
    with pm.Model(coords=coords) as model:
        # --- medians. Normal priors and likelihood given the between-arm SD tau: nu, delta
        # and the arm effects are integrated out of the likelihood and drawn from their
        # exact conditional posteriors (standard normals z), so NUTS only meets tau.
        # lognormal SDs: Gaussian tails in log space (a half-normal's wall at large log SD
        # and long tail at small log SD make NUTS diverge)
        tau = pm.LogNormal("arm_sd", mu=math.log(0.05), sigma=0.6)
        pm.MvNormal(
            "log_median_obs",
            mu=x @ m0,
            cov=pt.diag(s_arm**2 + tau**2) + (x * s0**2) @ x.T,
            observed=y_arm,
            dims="systemic_arm",
        )
        w = 1.0 / (s_arm**2 + tau**2)
        precision = np.diag(1.0 / s0**2) + (x.T * w) @ x
        cov_beta = pt.linalg.inv(precision)
        mean_beta = cov_beta @ (m0 / s0**2 + (x.T * w) @ y_arm)
        z_b = pm.Normal("coefficient_z", 0.0, 1.0, dims="coefficient")
        beta = mean_beta + pt.linalg.cholesky(cov_beta) @ z_b
        nu = pm.Deterministic("log_median_allcomer", beta[0])
        delta = pm.Deterministic("liver_limited_effect", beta[1])
        z_a = pm.Normal("arm_z", 0.0, 1.0, dims="systemic_arm")
        log_arm = pm.Deterministic(
            "log_median_arm",
            _normal_conditional(y_arm, s_arm, nu + delta * liver_limited, tau, z_a),
            dims="systemic_arm",
        )
        log_m1c = pm.Normal("log_median_m1c", mu=math.log(18.0), sigma=0.5)
        pm.Normal(
            "log_median_m1c_obs",
            mu=log_m1c,
            sigma=data.m1c[0].sigma,
            observed=math.log(data.m1c[0].observed),
        )
        pm.Deterministic(
            "median_model",
            pt.exp(pt.concatenate([log_arm, pt.stack([log_m1c])])),
            dims="median_target",
        )
        pm.Normal("new_population_z", 0.0, 1.0, dims="population")
        # --- randomised local treatment vs none: random effects over the two settings,
        # collapsed in the same way (psi ~ N(0, 0.7^2), theta_s ~ N(psi, tau_h^2))
        tau_h = pm.LogNormal("setting_sd", mu=math.log(0.15), sigma=0.6)
        pm.MvNormal(
            "log_hr_obs",
            mu=np.zeros(len(y_hr)),
            cov=pt.diag(s_hr**2 + tau_h**2) + _PSI_SD**2,
            observed=y_hr,
            dims="hr_target",
        )
        w_h = 1.0 / (s_hr**2 + tau_h**2)
        prec_psi = 1.0 / _PSI_SD**2 + pt.sum(w_h)
        z_psi = pm.Normal("local_treatment_z", 0.0, 1.0)
        psi = pm.Deterministic(
            "local_treatment_mean", pt.sum(w_h * y_hr) / prec_psi + z_psi / pt.sqrt(prec_psi)
        )
        order = np.argsort(idx)  # the observations in setting order
        z_s = pm.Normal("setting_z", 0.0, 1.0, dims="rct_setting")
        theta = pm.Deterministic(
            "log_hr_setting",
            _normal_conditional(y_hr[order], s_hr[order], psi, tau_h, z_s),
            dims="rct_setting",
        )
        z_i = pm.Normal("indirectness_z", 0.0, 1.0)
        pm.Deterministic(
            "hr_resection_vs_systemic",
            pt.exp(theta[_SETTINGS.index("liver")] + INDIRECTNESS_SD * z_i),
        )
    return model


def systemic_outputs(dt: xr.DataTree | xr.Dataset) -> dict[str, xr.DataArray]:
    """Tree parameters from a ``systemic_survival`` fit.

    Returns
    -------
    dict
        ``median_os_systemic_mo`` (tree ``median_os_systemic_mo``: liver-limited,
        resectable-type disease on systemic therapy alone, new population),
        ``median_os_m1c_mo`` (tree ``median_os_m1c_mo``), ``hr_resection_vs_systemic``
        (no tree parameter yet; ``attrs["confounded"]`` is True and
        ``attrs["caution"]`` explains why), ``median_os_systemic_allcomer_mo`` (typical
        first-line trial arm) and ``hr_local_treatment_lung`` (PulMiCC setting); all with
        dims ``(chain, draw)``.
    """
    post = _posterior(dt)
    spread = np.sqrt(post["arm_sd"] ** 2 + TRANSPORT_SD**2)
    z = post["new_population_z"]
    out: dict[str, xr.DataArray] = {}

    def put(name: str, da: xr.DataArray, tree: str, description: str, **attrs: Any) -> None:
        da = _sample_dims(da)
        da.name = name
        da.attrs = {
            "tree_parameter": tree,
            "description": description,
            "model": "systemic_survival",
            **attrs,
        }
        out[name] = da

    put(
        "median_os_systemic_mo",
        np.exp(
            post["log_median_allcomer"]
            + post["liver_limited_effect"]
            + spread * z.sel(population="liver_limited")
        ),
        "median_os_systemic_mo",
        "median OS (months) on systemic therapy alone, liver-limited disease, new population",
    )
    put(
        "median_os_m1c_mo",
        np.exp(post["log_median_m1c"] + spread * z.sel(population="m1c")),
        "median_os_m1c_mo",
        "median OS (months) with peritoneal metastases on systemic therapy",
    )
    put(
        "hr_resection_vs_systemic",
        post["hr_resection_vs_systemic"],
        "",
        "hazard ratio of death, resection of resectable CRLM vs systemic therapy alone",
        confounded=True,
        caution=_CONFOUNDING_CAUTION,
    )
    put(
        "median_os_systemic_allcomer_mo",
        np.exp(post["log_median_allcomer"]),
        "",
        "median OS (months) of a typical first-line trial arm (all-comers)",
    )
    put(
        "hr_local_treatment_lung",
        np.exp(post["log_hr_setting"].sel(rct_setting="lung")),
        "",
        "lung metastasectomy vs monitoring (PulMiCC setting)",
    )
    return out


def systemic_checks(
    dt: xr.DataTree | xr.Dataset, evidence: Mapping[str, EvidenceFile]
) -> pd.DataFrame:
    """Posterior-predictive checks of every number ``systemic_survival`` is fitted to.

    Medians are replicated as ``exp(log m_model + sigma * e)``, the randomised hazard
    ratios as ``exp(theta_setting + se * e)``; a check passes when the published value is
    inside the central 95 % interval of its replicates.
    """
    data = systemic_data(evidence)
    post = _posterior(dt)
    m_draws = post["median_model"].transpose("chain", "draw", "median_target").values
    rows = _ppc_rows((), np.empty(0), data.medians, m_draws, 20261)
    rng = np.random.default_rng(20262)
    for h in data.hazard_ratios:
        theta = post["log_hr_setting"].sel(rct_setting=h.setting).values.ravel()
        rep = np.exp(theta + h.log_se * rng.standard_normal(theta.shape))
        lo, hi = np.quantile(rep, [0.025, 0.975])
        rows.append(_row(h.id, h.observed, lo, hi, h.source))
    return _check_frame(rows)


# ----------------------------------------------------------------------------- registry

SPECS: list[ModelSpec] = [
    ModelSpec(
        name="crlm_survival",
        files=("crlm_survival", "systemic_survival"),
        build=build_crlm_survival,
        outputs=crlm_outputs,
        checks=crlm_checks,
        version="1",
        draws=SAMPLER_SETTINGS["crlm_survival"]["draws"],
        sample_kwargs={"target_accept": SAMPLER_SETTINGS["crlm_survival"]["target_accept"]},
        profile_outputs=crlm_profile_outputs,
    ),
    ModelSpec(
        name="systemic_survival",
        files=("systemic_survival",),
        build=build_systemic_survival,
        outputs=systemic_outputs,
        checks=systemic_checks,
        version="1",
        draws=SAMPLER_SETTINGS["systemic_survival"]["draws"],
        sample_kwargs={"target_accept": SAMPLER_SETTINGS["systemic_survival"]["target_accept"]},
    ),
]
