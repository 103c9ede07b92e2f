"""Figures, one module per kind, each returning a :class:`matplotlib.figure.Figure` that
is not registered with :mod:`matplotlib.pyplot` (no GUI backend, no global state):

- :func:`draw_tree` (:mod:`~decisionmodel.plots.tree`): a decision tree, left to right;
- :func:`subgroup_heatmap` (:mod:`~decisionmodel.plots.subgroups`): the decision over the
  subgroups of :func:`decisionmodel.subgroups.subgroup_table`;
- :func:`plot_survival` (:mod:`~decisionmodel.plots.survival`): overall survival of each
  policy from :func:`decisionmodel.state_trace`;
- :func:`plot_evppi_rank` (:mod:`~decisionmodel.plots.voi`): the EVPPI ranking table of
  :func:`decisionmodel.voi.evppi_rank` as bars;
- :func:`plot_ce_plane`, :func:`plot_ceac`, :func:`plot_expected_loss` and
  :func:`plot_evpi_curve` (:mod:`~decisionmodel.plots.cea`): the cost-effectiveness plane,
  the acceptability curves and frontier, the expected loss curves and the EVPI over the
  willingness to pay, each with a data twin (:func:`ce_plane_data`, :func:`ceac_data`,
  :func:`expected_loss_data`, :func:`evpi_curve_data`) returning the numbers it draws.
"""

from decisionmodel.plots.cea import (
    ce_plane_data,
    ceac_data,
    evpi_curve_data,
    expected_loss_data,
    plot_ce_plane,
    plot_ceac,
    plot_evpi_curve,
    plot_expected_loss,
)
from decisionmodel.plots.subgroups import subgroup_heatmap
from decisionmodel.plots.survival import plot_survival
from decisionmodel.plots.tree import draw_tree
from decisionmodel.plots.voi import plot_evppi_rank

__all__ = [
    "ce_plane_data",
    "ceac_data",
    "draw_tree",
    "evpi_curve_data",
    "expected_loss_data",
    "plot_ce_plane",
    "plot_ceac",
    "plot_evpi_curve",
    "plot_evppi_rank",
    "plot_expected_loss",
    "plot_survival",
    "subgroup_heatmap",
]
