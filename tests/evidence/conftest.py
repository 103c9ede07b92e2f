"""Fixtures of the evidence tests."""

from __future__ import annotations

import pytest

from decisionmodel.evidence.fit import FIT_CORES_ENV


@pytest.fixture(autouse=True)
def _chains_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fits sample their chains one after the other (``DECISIONMODEL_FIT_CORES=1``):
    forking sampler processes from the test runner warns and can deadlock. The draws do not
    depend on it; subprocesses the tests start inherit it."""
    monkeypatch.setenv(FIT_CORES_ENV, "1")
