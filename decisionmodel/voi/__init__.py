"""Value of information: EVPI, EVPPI, EVSI, ENBS and population VOI.

The vocabulary follows the R package voi: ``evpi(nb)``, ``evppi(nb, inputs, pars,
method=...)``, ``evsi(nb, inputs, study=..., n=..., method=...)``, ``enbs(...)``,
``pop_voi(...)``. Net benefit and parameter layouts are described in
:mod:`decisionmodel.voi.inputs`.
"""

from decisionmodel.voi.enbs import enbs, enbs_optimum, pop_voi, population_multiplier
from decisionmodel.voi.evpi import evpi
from decisionmodel.voi.evsi import evsi
from decisionmodel.voi.studies import (
    StudyDesign,
    binary,
    binary_two_arm,
    custom_study,
    get_study,
    normal_mean,
    survival_two_arm,
)

__all__ = ["enbs", "enbs_optimum", "evpi", "pop_voi", "population_multiplier"]
__all__ += [  # EVSI and study designs
    "StudyDesign",
    "binary",
    "binary_two_arm",
    "custom_study",
    "evsi",
    "get_study",
    "normal_mean",
    "survival_two_arm",
]

from decisionmodel.voi.evppi import evppi, evppi_nested, evppi_rank, plot_evppi_rank  # noqa: E402
from decisionmodel.voi.regression import RegressionFit, fit_regression  # noqa: E402

__all__ += [  # EVPPI and the regression engine
    "RegressionFit",
    "evppi",
    "evppi_nested",
    "evppi_rank",
    "fit_regression",
    "plot_evppi_rank",
]
