"""Expected value of perfect information from probabilistic-analysis draws.

The per-draw opportunity loss is :func:`decisionmodel.netbenefit.opportunity_loss` (also
importable from here), the one EVPI kernel the decision table uses too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from decisionmodel.netbenefit import opportunity_loss
from decisionmodel.voi.inputs import NetBenefit, as_net_benefit


def evpi_values(nb: NetBenefit) -> tuple[np.ndarray, np.ndarray]:
    """EVPI and its Monte Carlo standard error per WTP: the mean opportunity loss and the
    standard deviation of the loss over √n.

    Parameters
    ----------
    nb : NetBenefit
        From :func:`~decisionmodel.voi.inputs.as_net_benefit`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(evpi, se)``, each of shape (n_wtp,).

    Examples
    --------
    >>> import numpy as np
    >>> from decisionmodel.voi.inputs import as_net_benefit
    >>> value, se = evpi_values(as_net_benefit(np.array([[10.0, 0.0], [0.0, 20.0]])))
    >>> value.tolist(), se.round(4).tolist()
    ([5.0], [5.0])
    """
    loss = opportunity_loss(nb.values)
    n = loss.shape[1]
    return loss.mean(axis=1), loss.std(axis=1, ddof=1) / np.sqrt(n)


def evpi(nb: Any = None, *, costs: Any = None, effects: Any = None, wtp: Any = None) -> xr.Dataset:
    """Expected value of perfect information: E[max_d NB_d] − max_d E[NB_d].

    Computed in the opportunity-loss form (the mean over draws of max_d NB_d − NB_{d*},
    d* the strategy with the highest mean), which is non-negative and free of
    cancellation between two large numbers.

    Parameters
    ----------
    nb : DataArray, DataFrame, 2-D array or outcomes Dataset
        Net-benefit draws (draws × strategies), or engine outcomes (with ``wtp``).
    costs, effects : optional
        Instead of ``nb``: cost and effect draws in the same layout, with ``wtp``. When
        both label their draws (see :mod:`decisionmodel.voi.inputs`) they are matched by
        label, otherwise by position.
    wtp : float or sequence, optional
        Willingness to pay (required with costs/effects).

    Returns
    -------
    xarray.Dataset
        ``value`` and ``se`` (the Monte Carlo standard error of the mean loss), over
        ``wtp`` when a WTP grid was given.

    Raises
    ------
    VOIInputError
        Missing or conflicting arguments, a bad layout or value, fewer than 2 draws or
        strategies, or costs and effects that do not match (see
        :func:`~decisionmodel.voi.inputs.as_net_benefit`).

    See Also
    --------
    evppi : The value of perfect information on some parameters only.
    evsi : The value of the information a study of a given design and size would give.
    pop_voi : A per-person value of information scaled to the population.

    Examples
    --------
    >>> import numpy as np
    >>> nb = np.array([[10.0, 0.0], [0.0, 20.0]])   # two draws, two strategies
    >>> float(evpi(nb)["value"])                     # E max = 15, max E = 10
    5.0
    """
    net = as_net_benefit(nb, costs=costs, effects=effects, wtp=wtp)
    value, se = evpi_values(net)
    out = xr.Dataset({"value": net.labelled(value, "value"), "se": net.labelled(se, "se")})
    out.attrs.update(quantity="evpi", samples=net.n_samples, strategies=net.strategies)
    return out
