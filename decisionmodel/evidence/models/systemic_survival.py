r"""Evidence model ``systemic_survival``: survival without resection, and the resection effect.

A PyMC synthesis of the published aggregate numbers in ``priors/systemic_survival.yaml``
(source: the evidence dossier, sections 1-4, 11 and 13.2), registered in :data:`SPECS`
for :mod:`decisionmodel.evidence.registry`; its shared survival tooling is in
:mod:`decisionmodel.evidence.models.survival_kernels`.

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
>>> [s.name for s in SPECS]
['systemic_survival']
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

from decisionmodel.evidence.files import EvidenceFile
from decisionmodel.evidence.models.survival_kernels import (
    MedianTarget,
    _check_frame,
    _citation,
    _log_ratio_prior,
    _months,
    _posterior,
    _ppc_rows,
    _row,
    _sample_dims,
)
from decisionmodel.evidence.registry import ModelSpec

__all__ = [
    "DEFAULT_SIGMA_LOG_MEDIAN",
    "INDIRECTNESS_SD",
    "SAMPLER_SETTINGS",
    "SPECS",
    "TRANSPORT_SD",
    "HazardRatioTarget",
    "SystemicData",
    "build_systemic_survival",
    "systemic_checks",
    "systemic_data",
    "systemic_outputs",
]

#: transport SD (log median) from trial populations to the decision population (D)
TRANSPORT_SD: float = 0.15
#: indirectness SD (log HR) from CLOCC's local treatment to resection of resectable CRLM (D)
INDIRECTNESS_SD: float = 0.2
#: sdlog of a phase III arm median when the dossier gives no deaths (its sdlog for 80405)
DEFAULT_SIGMA_LOG_MEDIAN: float = 0.06
_CONFOUNDING_CAUTION = (
    "Resection vs systemic therapy: informed only by the randomised local-treatment trials "
    "CLOCC (liver; radiofrequency ablation +/- resection in unresectable disease, HR 0.58 "
    "(0.38-0.88)) and PulMiCC (lung metastasectomy, HR 0.93 (0.56-1.56)), with an "
    "indirectness term for resection of resectable disease. Every non-randomised comparison "
    "(surgical series vs chemotherapy trials) is confounded by selection and overstates the "
    "benefit; do not replace this parameter by the ratio of the two arms' survival."
)


#: NUTS settings (the spec's ``draws`` and ``sample_kwargs``; the tests use them too). The
#: model passes the diagnostics gate easily with PyMC's defaults and with nutpie (the default
#: sampler; ESS > 2000).
SAMPLER_SETTINGS: dict[str, Any] = {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.9}


@dataclass(frozen=True)
class HazardRatioTarget:
    """A randomised local-treatment hazard ratio (``systemic_survival``).

    Attributes
    ----------
    id : str
        Evidence entry.
    setting : str
        ``liver`` (CLOCC) or ``lung`` (PulMiCC).
    observed : float
        The published hazard ratio.
    log_mean, log_se : float
        Its log and the standard error of the log (from the interval).
    source : str
        Short citation.
    """

    id: str
    setting: str
    observed: float
    log_mean: float
    log_se: float
    source: str


@dataclass(frozen=True)
class SystemicData:
    """Everything :func:`build_systemic_survival` reads from the evidence.

    Attributes
    ----------
    arms : tuple of MedianTarget
        Median OS of the systemic-therapy trial arms (all-comer and liver-limited).
    m1c : tuple of MedianTarget
        Median OS with peritoneal metastases (one target).
    hazard_ratios : tuple of HazardRatioTarget
        The randomised local-treatment hazard ratios, one per setting.
    """

    arms: tuple[MedianTarget, ...]
    m1c: tuple[MedianTarget, ...]
    hazard_ratios: tuple[HazardRatioTarget, ...]

    @property
    def medians(self) -> tuple[MedianTarget, ...]:
        """Arms then M1c, in the order of the ``median_target`` dim.

        Returns
        -------
        tuple of MedianTarget
            ``arms + m1c``.
        """
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

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``systemic_survival``.

    Returns
    -------
    SystemicData
        The systemic-therapy arm medians (months, with their log-scale SDs), the
        peritoneal (M1c) median and the randomised local-treatment hazard ratios.

    Raises
    ------
    KeyError
        ``evidence`` has no ``systemic_survival`` file, or the file lacks an entry the
        model reads.

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

    Parameters
    ----------
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``systemic_survival``.

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

    Raises
    ------
    KeyError
        As for :func:`systemic_data`.

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> m = build_systemic_survival(load_all("priors"))
    >>> m.coords["rct_setting"], len(m.coords["systemic_arm"])
    (('liver', 'lung'), 7)
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

    Parameters
    ----------
    dt : xarray.DataTree or xarray.Dataset
        A fit of :func:`build_systemic_survival` (its ``posterior`` group), or the
        posterior itself.

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

    def put(
        name: str, da: xr.DataArray | np.ndarray, tree: str, description: str, **attrs: Any
    ) -> None:
        # np.exp of a DataArray is a DataArray (its __array_ufunc__), though numpy's stubs
        # type it as an ndarray
        assert isinstance(da, xr.DataArray)
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

    Parameters
    ----------
    dt : xarray.DataTree or xarray.Dataset
        A fit of :func:`build_systemic_survival`, or its posterior.
    evidence : mapping
        Area -> :class:`EvidenceFile`; needs ``systemic_survival`` (the file it was
        fitted to).

    Returns
    -------
    pandas.DataFrame
        One row per median then per hazard ratio, with the columns of
        :data:`~decisionmodel.evidence.registry.CHECK_COLUMNS` (fixed seeds).

    Raises
    ------
    KeyError
        As for :func:`systemic_data`.
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


SPECS: list[ModelSpec] = [
    ModelSpec(
        name="systemic_survival",
        files=("systemic_survival",),
        build=build_systemic_survival,
        outputs=systemic_outputs,
        checks=systemic_checks,
        version="1",
        draws=SAMPLER_SETTINGS["draws"],
        sample_kwargs={"target_accept": SAMPLER_SETTINGS["target_accept"]},
    ),
]
