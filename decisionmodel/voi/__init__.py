"""Value of information: EVPI, EVPPI, EVSI, ENBS and population VOI.

The vocabulary follows the R package voi: ``evpi(nb)``, ``evppi(nb, inputs, pars,
method=...)``, ``evsi(nb, inputs, study=..., n=..., method=...)``, ``enbs(...)``,
``pop_voi(...)``. Net benefit and parameter layouts are described in
:mod:`decisionmodel.voi.inputs`.
"""

from decisionmodel.voi.evpi import evpi

__all__ = ["evpi"]
