"""The VOI reference data: ``tests/data/voi-reference/`` of this repository.

The known-truth cases (``cases/``) and the R package voi's chemotherapy example with voi
1.0.3's results on it (``voi-chemo/``) are committed with the tests; their provenance is in
``tests/data/voi-reference/README.md``. Nothing is looked up outside the repository, and a
missing file is an error of the checkout, never a reason to skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

VOI_REF = Path(__file__).resolve().parents[1] / "data" / "voi-reference"


@pytest.fixture
def voi_ref() -> Path:
    """The reference directory (``cases/`` and ``voi-chemo/``); fails if it is incomplete."""
    missing = [s for s in ("cases", "voi-chemo") if not (VOI_REF / s).is_dir()]
    if missing:
        pytest.fail(f"{VOI_REF} lacks {', '.join(missing)}: the checkout is incomplete")
    return VOI_REF
