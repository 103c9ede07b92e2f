r"""Survival kernels shared by the survival evidence models (``crlm_survival``,
``systemic_survival``): background (Gompertz) mortality, the two-stage mixture-cure
curves and their medians, written once for numpy and pytensor (``xp`` is the numpy or the
``pytensor.tensor`` namespace); the published targets; the readers of evidence entries;
posterior draws and check rows. Internal to the models (most names keep their leading
underscore); part of the cache key of every model that imports it, so editing a kernel
refits those models.

Examples
--------
>>> import numpy as np
>>> float(_cure(np, 0.3, 1.0)), round(float(_cure(np, 0.3, 2.0)), 2)  # pi ** hr
(0.3, 0.09)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from decisionmodel.evidence.files import EvidenceFile

__all__ = [
    "AGE_REF",
    "GOMPERTZ_A",
    "GOMPERTZ_B",
    "N_QUAD",
    "MedianTarget",
    "ProportionTarget",
]

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

_GL_X, _GL_W = np.polynomial.legendre.leggauss(N_QUAD)
_GL_X = (_GL_X + 1.0) / 2.0
_GL_W = _GL_W / 2.0
_LN2 = math.log(2.0)
_MEDIAN_CAP_YEARS = 40.0


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
    if props:
        p_flat = np.asarray(p_draws).reshape(-1, len(props))
        for j, prop in enumerate(props):
            p = np.clip(np.nan_to_num(p_flat[:, j], nan=0.5), 0.0, 1.0)
            rep = rng.binomial(prop.n, p) / prop.n
            lo, hi = np.quantile(rep, [0.025, 0.975])
            rows.append(_row(prop.id, prop.observed, lo, hi, prop.source))
    if meds:
        m_flat = np.asarray(m_draws).reshape(-1, len(meds))
        for j, med in enumerate(meds):
            log_m = np.log(np.maximum(m_flat[:, j], 1e-300))
            rep = np.exp(log_m + med.sigma * rng.standard_normal(log_m.shape))
            lo, hi = np.quantile(rep, [0.025, 0.975])
            rows.append(_row(med.id, med.observed, lo, hi, med.source))
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
