"""Value of information: EVPI, EVPPI, EVSI, ENBS and population VOI.

The vocabulary follows the R package voi: ``evpi(nb)``, ``evppi(nb, inputs, pars,
method=...)``, ``evsi(nb, inputs, study=..., n=..., method=...)``, ``enbs(...)``,
``pop_voi(...)``. Net benefit and parameter layouts are described in
:mod:`decisionmodel.voi.inputs`; every function returns an :class:`xarray.Dataset` with
``value`` and ``se`` labelled by WTP, parameter group and study size as relevant.
"""

from decisionmodel.voi.enbs import enbs, enbs_optimum, pop_voi, population_multiplier
from decisionmodel.voi.evpi import evpi
from decisionmodel.voi.evppi import evppi, evppi_nested, evppi_rank, plot_evppi_rank
from decisionmodel.voi.evsi import evsi
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
    "RegressionFit",
    "StudyDesign",
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
    "plot_evppi_rank",
    "pop_voi",
    "population_multiplier",
    "survival_two_arm",
]
