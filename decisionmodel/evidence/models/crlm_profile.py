r"""Patient profiles on the ``crlm_survival`` posterior: the log hazard multiplier of a
profile (:func:`profile_log_hr`), the model's profile outputs (:func:`crlm_profile_outputs`)
and survival curves by profile (:func:`survival_by_profile`).

A profile acts by proportional hazards on the disease-specific survival and on the
recurrence curve of the cohort's average patient; covariates are centred at the pooled
cohorts' mix (see :mod:`decisionmodel.evidence.models.crlm_survival`). Part of the cache
key of ``crlm_survival``, which imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from decisionmodel.clinical.fong import FONG_CRITERIA
from decisionmodel.evidence.models.survival_kernels import (
    AGE_REF,
    _bg_cumhaz,
    _disease,
    _posterior,
    _sample_dims,
    _ttr,
)
from decisionmodel.exceptions import (
    ProfileError,
)

__all__ = [
    "SYSTEMIC_PROFILE_KEYS",
    "crlm_profile_outputs",
    "profile_log_hr",
    "survival_by_profile",
]

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

    Raises
    ------
    ProfileError
        An unknown key or an invalid value (see :func:`profile_log_hr`).

    See Also
    --------
    profile_log_hr : The log multiplier of a profile.
    survival_by_profile : A profile's survival curve.

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
    hr: xr.DataArray | np.ndarray = np.exp(profile_log_hr(dt, cov))
    hr_systemic: xr.DataArray | np.ndarray = np.exp(profile_log_hr(dt, systemic))
    # np.exp of a DataArray is a DataArray (its __array_ufunc__), though numpy's stubs
    # type it as an ndarray
    assert isinstance(hr, xr.DataArray) and isinstance(hr_systemic, xr.DataArray)
    return {"hr_profile": hr, "hr_profile_systemic": hr_systemic}


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

    Raises
    ------
    ValueError
        An unknown ``kind``, or ``times`` not a 1-d sequence of finite non-negative
        numbers.
    ProfileError
        An invalid profile (see :func:`profile_log_hr`).

    Examples
    --------
    >>> import pymc as pm
    >>> from decisionmodel.evidence import load_all
    >>> from decisionmodel.evidence.models.crlm_survival import build_crlm_survival
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
