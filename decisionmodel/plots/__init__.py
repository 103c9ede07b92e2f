"""Figures, one module per kind, each returning a :class:`matplotlib.figure.Figure` that
is not registered with :mod:`matplotlib.pyplot` (no GUI backend, no global state):

- :func:`draw_tree` (:mod:`~decisionmodel.plots.tree`): a decision tree, left to right;
- :func:`subgroup_heatmap` (:mod:`~decisionmodel.plots.subgroups`): the decision over the
  subgroups of :func:`decisionmodel.subgroups.subgroup_table`;
- :func:`plot_survival` (:mod:`~decisionmodel.plots.survival`): overall survival of each
  policy from :func:`decisionmodel.state_trace`.

The EVPPI ranking figure is :func:`decisionmodel.voi.plot_evppi_rank`.
"""

from decisionmodel.plots.subgroups import subgroup_heatmap
from decisionmodel.plots.survival import plot_survival
from decisionmodel.plots.tree import draw_tree

__all__ = ["draw_tree", "plot_survival", "subgroup_heatmap"]
