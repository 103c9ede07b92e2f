"""Figures, one module per kind, each returning a :class:`matplotlib.figure.Figure` that
is not registered with :mod:`matplotlib.pyplot` (no GUI backend, no global state):

- :func:`draw_tree` (:mod:`~decisionmodel.plots.tree`): a decision tree, left to right;
- :func:`subgroup_heatmap` (:mod:`~decisionmodel.plots.subgroups`): the decision over the
  subgroups of :func:`decisionmodel.subgroups.subgroup_table`;
- :func:`plot_survival` (:mod:`~decisionmodel.plots.survival`): overall survival of each
  policy from :func:`decisionmodel.state_trace`;
- :func:`plot_evppi_rank` (:mod:`~decisionmodel.plots.voi`): the EVPPI ranking table of
  :func:`decisionmodel.voi.evppi_rank` as bars.
"""

from decisionmodel.plots.subgroups import subgroup_heatmap
from decisionmodel.plots.survival import plot_survival
from decisionmodel.plots.tree import draw_tree
from decisionmodel.plots.voi import plot_evppi_rank

__all__ = ["draw_tree", "plot_evppi_rank", "plot_survival", "subgroup_heatmap"]
