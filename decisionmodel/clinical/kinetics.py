"""Tumour regrowth after metastasectomy under exponential growth.

Exponential growth ``dN/dt = r N`` (evidence dossier section 8) gives ``N(t) = N_0 e^{rt}``,
so the time from a residual burden ``N_residual`` to a burden ``N`` is
``ln(N / N_residual) / r``, and the growth rate and the volume doubling time are related by
``r = ln 2 / DT``.

* :func:`regrowth_time`: time to the lethal burden, ``ln(N_lethal / N_residual) / r``;
* :func:`time_to_detection`: time to a detectable recurrence, ``ln(N_detect / N_residual) / r``
  (zero when the residual burden is already detectable);
* :func:`dfi_growth_rate_bound`: the growth rate implied by a disease-free interval.

Both times are returned in **months** (:data:`DAYS_PER_MONTH` = 365.25 / 12 days) from
growth rates **per day**, and are vectorised over arrays or ``xarray.DataArray`` of draws,
e.g. the posterior draws of ``growth_rate_crlm`` of the ``tumour_kinetics`` evidence model
(:mod:`decisionmodel.evidence.models.tumour_kinetics`), whose defaults these are.

Default burdens (cells):

================  ========  =============================================================
burden            cells     source
================  ========  =============================================================
detection         10^9      about 1 cm^3 (Friberg S, Mattson S. *J Surg Oncol*
                            1997;65:284-97; F). Del Monte U. *Cell Cycle* 2009;8:505-6
                            (F) argues 10^8 is more realistic for epithelial tumours.
lethal            10^12     about 1 kg, ten doublings beyond detection (Friberg 1997; F)
R0 residual       10^7      calibrated (D): with DT ~ 75 days, 10^7 -> 10^9 cells takes
                            ~16 months, the median time to recurrence after resection of
                            colorectal liver metastases (~15-16 months, dossier section 2)
R1 residual       10^8      microscopic margin: one order of magnitude more than R0 (D)
R2 residual       10^9      macroscopic residual disease: a detectable burden left behind,
                            two orders of magnitude more than R0 (D)
================  ========  =============================================================

The R0/R1/R2 burdens are :data:`RESIDUAL_LOG10_CELLS`, which the evidence model
(:mod:`decisionmodel.evidence.models.tumour_kinetics`) takes for its ``regrowth_time_r*_crlm_mo``
outputs, as it takes :data:`DAYS_PER_MONTH`; :func:`regrowth_days` is the kernel in days.

Worked numbers of the dossier (DT 86 days, occult CRLM, Finlay IG et al. *Br J Surg*
1988;75:641-4): 10^6 -> 10^9 cells in 2.3 years, 10^7 -> 10^9 in 1.6 years, 10^8 -> 10^9 in
0.8 years.

Examples
--------
>>> r = growth_rate_from_doubling_time(86)
>>> round(time_to_detection(r, residual_cells=1e7) / 12, 2)  # years
1.56
>>> round(regrowth_time(r, "R0"), 1)  # months to 10^12 cells after R0
46.9
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr

from decisionmodel.exceptions import ParameterError

__all__ = [
    "DAYS_PER_MONTH",
    "DETECTION_CELLS",
    "LETHAL_CELLS",
    "RESIDUAL_CELLS",
    "RESIDUAL_LOG10_CELLS",
    "KineticsInputError",
    "dfi_growth_rate_bound",
    "doubling_time_from_growth_rate",
    "growth_rate_from_doubling_time",
    "regrowth_days",
    "regrowth_time",
    "residual_cells",
    "time_to_detection",
]

#: days in an average month (365.25 / 12)
DAYS_PER_MONTH: float = 365.25 / 12
#: log10 residual tumour cells after resection by margin (R0: the dossier's calibrated
#: default ``default_log10_residual_cells``; R1/R2: assumptions, one and two logs more)
RESIDUAL_LOG10_CELLS: dict[str, float] = {"R0": 7.0, "R1": 8.0, "R2": 9.0}
#: cells in a detectable tumour (about 1 cm^3; Friberg 1997)
DETECTION_CELLS: float = 1e9
#: lethal tumour burden (about 1 kg; Friberg 1997)
LETHAL_CELLS: float = 1e12
#: residual cells after an R0 / R1 / R2 resection (assumptions D; see the module docstring)
RESIDUAL_CELLS: dict[str, float] = {k: 10.0**v for k, v in RESIDUAL_LOG10_CELLS.items()}


class KineticsInputError(ParameterError, ValueError):
    """A growth rate, doubling time, cell burden, margin or interval is invalid."""


def _values(name: str, x: Any, *, allow_zero: bool = False) -> np.ndarray:
    if isinstance(x, bool | np.bool_ | str):
        raise KineticsInputError(f"{name} must be a number, got {x!r}")
    try:
        a = np.asarray(x.values if isinstance(x, xr.DataArray) else x, dtype=float)
    except (TypeError, ValueError):
        raise KineticsInputError(f"{name} must be numeric, got {x!r}") from None
    ok = (a >= 0) if allow_zero else (a > 0)
    if not (np.all(np.isfinite(a)) and np.all(ok)):
        rel = ">= 0" if allow_zero else "positive"
        raise KineticsInputError(f"{name} must be finite and {rel}")
    return a


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.values if isinstance(x, xr.DataArray) else x, dtype=float)


def regrowth_days(r_draws: Any, residual_cells: Any, lethal_cells: Any) -> Any:
    """Time for exponential growth at rate ``r`` from ``residual_cells`` to ``lethal_cells``.

    ``t = ln(lethal_cells / residual_cells) / r``, in the time unit of ``1 / r`` (days
    when ``r`` is per day, as the ``tumour_kinetics`` growth rates are). The kernel of
    :func:`regrowth_time` (which takes a margin, checks its inputs as clinical values and
    returns months) and of the evidence model's checks.

    Parameters
    ----------
    r_draws : float, array-like or xarray.DataArray
        Growth rates (> 0).
    residual_cells, lethal_cells : float, array-like or xarray.DataArray
        Cell numbers (> 0), ``lethal_cells > residual_cells``; broadcast against
        ``r_draws`` (xarray by dimension name).

    Returns
    -------
    float, numpy.ndarray or xarray.DataArray
        Like the inputs (xarray if any input is).

    Raises
    ------
    ParameterError
        A non-positive or non-finite rate or cell number, or ``lethal <= residual``.

    Examples
    --------
    >>> import math
    >>> r = math.log(2) / 86  # doubling time 86 days (Finlay 1988, occult CRLM)
    >>> round(regrowth_days(r, 1e7, 1e9) / 365.25, 2)  # 10^7 -> 10^9 cells: 1.6 years
    1.56
    """
    for name, x in (("r_draws", r_draws), ("residual_cells", residual_cells)):
        a = _array(x)
        if not (np.all(np.isfinite(a)) and np.all(a > 0)):
            raise ParameterError(f"{name} must be positive and finite")
    if not np.all(np.isfinite(_array(lethal_cells))):
        raise ParameterError("lethal_cells must be finite")
    if np.any(_array(lethal_cells) / _array(residual_cells) <= 1):
        raise ParameterError("lethal_cells must exceed residual_cells")
    args = (r_draws, residual_cells, lethal_cells)
    if not any(isinstance(x, xr.DataArray) for x in args):
        r_draws, residual_cells, lethal_cells = (np.asarray(x, dtype=float) for x in args)
    out = np.log(lethal_cells / residual_cells) / r_draws
    if not isinstance(out, xr.DataArray) and np.ndim(out) == 0:
        return float(out)
    return out


def _out(x: Any) -> Any:
    if isinstance(x, xr.DataArray):
        return x
    return float(x) if np.ndim(x) == 0 else np.asarray(x, dtype=float)


def _wrap(x: Any) -> Any:
    return x if isinstance(x, xr.DataArray) else np.asarray(x, dtype=float)


def _rate_dims_first(out: Any, rate: Any) -> Any:
    """Order an xarray result with the growth-rate draws' dims first."""
    if isinstance(out, xr.DataArray) and isinstance(rate, xr.DataArray):
        return out.transpose(*rate.dims, ...)
    return out


def residual_cells(margin: str) -> float:
    """Default residual tumour burden (cells) after a resection with the given margin.

    Parameters
    ----------
    margin : {"R0", "R1", "R2"}
        Resection margin (case-insensitive).

    Returns
    -------
    float

    Raises
    ------
    KineticsInputError
        An unknown margin.

    Examples
    --------
    >>> residual_cells("R0"), residual_cells("r2")
    (10000000.0, 1000000000.0)
    """
    key = margin.strip().upper() if isinstance(margin, str) else margin
    if key not in RESIDUAL_CELLS:
        raise KineticsInputError(
            f"unknown resection margin {margin!r} (allowed: {', '.join(RESIDUAL_CELLS)})"
        )
    return RESIDUAL_CELLS[key]


def _residual(margin: str | None, cells: Any) -> Any:
    if cells is not None:
        if margin is not None:
            raise KineticsInputError("give either margin or residual_cells, not both")
        _values("residual_cells", cells)
        return _wrap(cells)
    return residual_cells("R0" if margin is None else margin)


def growth_rate_from_doubling_time(doubling_time_days: Any) -> Any:
    """Exponential growth rate (per day) from a volume doubling time: ``r = ln 2 / DT``.

    Parameters
    ----------
    doubling_time_days : float, array-like or xarray.DataArray
        Doubling times in days (> 0).

    Returns
    -------
    float, numpy.ndarray or xarray.DataArray

    Raises
    ------
    KineticsInputError
        A non-positive or non-finite doubling time.

    Examples
    --------
    >>> round(growth_rate_from_doubling_time(86), 4)  # dossier: 0.0081 per day
    0.0081
    """
    _values("doubling_time_days", doubling_time_days)
    return _out(math.log(2.0) / _wrap(doubling_time_days))


def doubling_time_from_growth_rate(growth_rate_per_day: Any) -> Any:
    """Volume doubling time (days) from an exponential growth rate: ``DT = ln 2 / r``.

    Parameters
    ----------
    growth_rate_per_day : float, array-like or xarray.DataArray
        Growth rates per day (> 0).

    Returns
    -------
    float, numpy.ndarray or xarray.DataArray

    Raises
    ------
    KineticsInputError
        A non-positive or non-finite rate.

    Examples
    --------
    >>> round(doubling_time_from_growth_rate(0.0097), 1)  # dossier: DT 71 days
    71.5
    """
    _values("growth_rate_per_day", growth_rate_per_day)
    return _out(math.log(2.0) / _wrap(growth_rate_per_day))


def regrowth_time(
    growth_rate_per_day: Any,
    margin: str | None = None,
    *,
    residual_cells: Any = None,
    lethal_cells: Any = LETHAL_CELLS,
) -> Any:
    """Months from the residual burden left by a resection to the lethal burden.

    ``t = ln(N_lethal / N_residual) / r``, converted from days to months.

    Parameters
    ----------
    growth_rate_per_day : float, array-like or xarray.DataArray
        Growth-rate draws per day (> 0), e.g. the ``growth_rate_crlm`` posterior draws.
    margin : {"R0", "R1", "R2"}, optional
        Selects the default residual burden (:data:`RESIDUAL_CELLS`); R0 if neither
        ``margin`` nor ``residual_cells`` is given.
    residual_cells : float or array-like, optional
        Residual burden in cells, instead of ``margin``.
    lethal_cells : float, array-like or xarray.DataArray
        Lethal burden (default 10^12 cells; draws allowed, e.g. the evidence model's
        ``10 ** log10_lethal_cells``); must exceed the residual burden.

    Returns
    -------
    float, numpy.ndarray or xarray.DataArray
        Months, with the shape (and dims) of the broadcast inputs.

    Raises
    ------
    KineticsInputError
        A non-positive rate or burden, a lethal burden not above the residual one, an
        unknown margin, or both ``margin`` and ``residual_cells``.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.log(2) / np.array([50.0, 100.0])
    >>> np.round(regrowth_time(r, "R1"), 1)  # ln(10^4) / r days
    array([21.8, 43.7])
    """
    _values("growth_rate_per_day", growth_rate_per_day)
    res = _residual(margin, residual_cells)
    lethal = _values("lethal_cells", lethal_cells)
    if np.any(lethal <= _values("residual_cells", res)):
        raise KineticsInputError("lethal_cells must exceed the residual burden")
    days = regrowth_days(_wrap(growth_rate_per_day), res, _wrap(lethal_cells))
    return _out(_rate_dims_first(days / DAYS_PER_MONTH, growth_rate_per_day))


def time_to_detection(
    growth_rate_per_day: Any,
    margin: str | None = None,
    *,
    residual_cells: Any = None,
    detection_cells: float = DETECTION_CELLS,
) -> Any:
    """Months from the residual burden left by a resection to a detectable recurrence.

    ``t = ln(N_detect / N_residual) / r`` (days, converted to months); zero when the
    residual burden is already at or above the detection threshold (R2: macroscopic
    disease left behind).

    Parameters
    ----------
    growth_rate_per_day : float, array-like or xarray.DataArray
        Growth-rate draws per day (> 0).
    margin : {"R0", "R1", "R2"}, optional
        Selects the default residual burden; R0 if neither ``margin`` nor
        ``residual_cells`` is given.
    residual_cells : float or array-like, optional
        Residual burden in cells, instead of ``margin``.
    detection_cells : float
        Burden at detection (default 10^9 cells, about 1 cm^3).

    Returns
    -------
    float, numpy.ndarray or xarray.DataArray
        Months.

    Raises
    ------
    KineticsInputError
        A non-positive rate or burden, an unknown margin, or both ``margin`` and
        ``residual_cells``.

    Examples
    --------
    >>> r = growth_rate_from_doubling_time(75)
    >>> round(time_to_detection(r), 1)  # R0 (10^7 cells): the calibration to TTR ~ 16 months
    16.4
    >>> time_to_detection(r, "R2")
    0.0
    """
    _values("growth_rate_per_day", growth_rate_per_day)
    res = _residual(margin, residual_cells)
    _values("detection_cells", detection_cells)
    ratio = np.maximum(float(detection_cells) / _wrap(res), 1.0)
    days = np.log(ratio) / _wrap(growth_rate_per_day)
    return _out(_rate_dims_first(days / DAYS_PER_MONTH, growth_rate_per_day))


def dfi_growth_rate_bound(
    dfi_months: Any,
    *,
    detection_cells: float = DETECTION_CELLS,
    seed_cells: float = 1.0,
) -> Any:
    """Growth rate (per day) that takes ``seed_cells`` to ``detection_cells`` in the DFI.

    ``r_DFI = ln(N_detect / N_seed) / DFI``. Metastases that became detectable ``DFI``
    months after the resection of the primary grew to ``N_detect`` from a burden of at
    least ``N_seed`` cells; the direction of the bound depends on when they were seeded:

    * seeded **at or after** the resection of the primary (e.g. shed during the
      operation, or growing from a residual burden ``N_seed`` left at that time): the
      growth took at most DFI, so ``r >= r_DFI``;
    * seeded at an unknown time **before** it (the usual case: most metastases are years
      old at detection, Friberg 1997): the growth took at least DFI, so ``r <= r_DFI``
      (doubling time at least ``ln 2 / r_DFI``).

    With one seed cell and a 12-month DFI, ``r_DFI`` ~ 0.057 per day (doubling time 12
    days), far faster than measured doubling times of colorectal liver metastases (71-155
    days): such metastases were seeded long before the primary was removed, and the upper
    bound is the informative one.
    :func:`decisionmodel.evidence.models.tumour_kinetics.growth_rate_given_dfi` conditions
    growth-rate draws on a DFI under the first reading (growth from ``n_start`` starting at
    the resection).

    Parameters
    ----------
    dfi_months : float or array-like
        Disease-free interval in months (> 0).
    detection_cells : float
        Burden at detection (default 10^9).
    seed_cells : float
        Burden at the resection of the primary (default one cell); below
        ``detection_cells``.

    Returns
    -------
    float or numpy.ndarray
        Growth rate per day.

    Raises
    ------
    KineticsInputError
        A non-positive DFI or burden, or ``seed_cells >= detection_cells``.

    Examples
    --------
    >>> round(dfi_growth_rate_bound(12), 4)
    0.0567
    >>> round(doubling_time_from_growth_rate(dfi_growth_rate_bound(24, seed_cells=1e7)), 1)
    110.0
    """
    _values("dfi_months", dfi_months)
    _values("detection_cells", detection_cells)
    _values("seed_cells", seed_cells)
    if float(seed_cells) >= float(detection_cells):
        raise KineticsInputError(
            f"seed_cells ({float(seed_cells):g}) must be below detection_cells "
            f"({float(detection_cells):g})"
        )
    days = _wrap(dfi_months) * DAYS_PER_MONTH
    return _out(math.log(float(detection_cells) / float(seed_cells)) / days)
