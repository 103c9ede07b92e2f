"""Value of information: EVPI, EVPPI, EVSI, ENBS and population VOI.

The vocabulary follows the R package voi: ``evpi(nb)``, ``evppi(nb, inputs, pars,
method=...)``, ``evsi(nb, inputs, study=..., n=..., method=...)``, ``enbs(...)``,
``pop_voi(...)``. Net benefit and parameter layouts, and how their draws are paired (by
``sample`` label when both sides carry labels, else by position), are described in
:mod:`decisionmodel.voi.inputs`; every function returns an :class:`xarray.Dataset` with
``value`` and ``se`` labelled by WTP, parameter group and study size as relevant. Every
function that draws takes ``rng`` (:mod:`decisionmodel.rng`; ``None`` is refused).
:func:`read_psa` (:mod:`decisionmodel.voi.io`) reads a PSA sample from the CSV files of
voi, BCEA and SAVI, as ``decisionmodel voi`` does.

Examples
--------
>>> import numpy as np
>>> from decisionmodel.voi import evpi
>>> float(evpi(np.array([[10.0, 0.0], [0.0, 20.0]]))["value"])
5.0
"""

from decisionmodel.voi.enbs import enbs, enbs_optimum, pop_voi, population_multiplier
from decisionmodel.voi.evpi import evpi
from decisionmodel.voi.evppi import evppi, evppi_nested, evppi_rank
from decisionmodel.voi.evsi import evsi
from decisionmodel.voi.inputs import align_draws, sample_labels
from decisionmodel.voi.io import PSAFiles, read_psa
from decisionmodel.voi.regression import RegressionFit, fit_regression
from decisionmodel.voi.studies import (
    StudyDesign,
    binary,
    binary_two_arm,
    custom_study,
    get_study,
    normal_mean,
    survival_two_arm,
)

__all__ = [
    "PSAFiles",
    "RegressionFit",
    "StudyDesign",
    "align_draws",
    "binary",
    "binary_two_arm",
    "custom_study",
    "enbs",
    "enbs_optimum",
    "evpi",
    "evppi",
    "evppi_nested",
    "evppi_rank",
    "evsi",
    "fit_regression",
    "get_study",
    "normal_mean",
    "pop_voi",
    "population_multiplier",
    "read_psa",
    "sample_labels",
    "survival_two_arm",
]
