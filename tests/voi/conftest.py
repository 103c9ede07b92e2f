"""Locate the shared VOI reference data (``../shared/voi-reference`` beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_CANDIDATES = [
    os.environ.get("DECISIONMODEL_VOI_REFERENCE", ""),
    str(Path(__file__).resolve().parents[3] / "shared" / "voi-reference"),
    "/work/shared/voi-reference",
]


def reference_dir() -> Path | None:
    for c in _CANDIDATES:
        if c and (Path(c) / "cases").is_dir():
            return Path(c)
    return None


VOI_REF = reference_dir()


@pytest.fixture
def voi_ref() -> Path:
    if VOI_REF is None:
        pytest.skip("the shared voi-reference data is not beside the repository")
    return VOI_REF
