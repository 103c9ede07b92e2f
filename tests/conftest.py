"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import xarray as xr


@pytest.fixture(scope="session")
def evidence_fit() -> Callable[[str], xr.DataTree]:
    """``get(name)``: the default fit of an evidence model, as every analysis obtains it
    (``fit_all`` with the default seed and settings: read from the posterior cache, or
    fitted once and cached). Tests using it belong to the ``slow`` tier."""
    from decisionmodel.evidence.fit import DEFAULT_SEED, fit_all

    fits: dict[str, xr.DataTree] = {}

    def get(name: str) -> xr.DataTree:
        if name not in fits:
            fits[name] = fit_all([name], seed=DEFAULT_SEED)[name]
        return fits[name]

    return get
