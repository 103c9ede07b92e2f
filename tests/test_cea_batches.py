"""Outcomes with batch dimensions (``scenario``, ``subgroup``, a WTP-dependent ``wtp``):
every CEA function and the decision-table contract equal a loop over the cells, each
computed on its own (strategy x sample) slice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from decisionmodel import cea
from decisionmodel.exceptions import CEAInputError
from decisionmodel.report import summarise

WTP = [0.0, 120.0, 5000.0]


def _cell(rng: np.random.Generator, shift: float) -> xr.Dataset:
    return xr.Dataset(
        {
            "cost": (("strategy", "sample"), rng.normal([[100.0], [150.0], [90.0]], 30, (3, 60))),
            "effect": (
                ("strategy", "sample"),
                rng.normal([[1.0], [1.2 + shift], [0.9]], 0.2, (3, 60)),
            ),
        },
        coords={"strategy": ["usual", "surgery", "watch"]},
        attrs={"currency": "USD", "effect_unit": "QALY"},
    )


@pytest.fixture
def cells() -> list[xr.Dataset]:
    rng = np.random.default_rng(7)
    return [_cell(rng, s) for s in (-0.3, 0.0, 0.4, 0.1)]


@pytest.fixture
def batched(cells: list[xr.Dataset]) -> xr.Dataset:
    """(scenario: 2) x (subgroup: 2) with a non-index coordinate along scenario."""
    rows = [xr.concat(cells[i : i + 2], dim="subgroup") for i in (0, 2)]
    ds = xr.concat(rows, dim="scenario").assign_coords(
        scenario=["base", "dear"], subgroup=["young", "old"], label=("scenario", ["B", "D"])
    )
    ds.attrs = dict(cells[0].attrs)
    return ds


def _at(cells: list[xr.Dataset], i: int, j: int) -> xr.Dataset:
    return cells[2 * i + j]


@pytest.mark.parametrize("fn", ["summary", "ceac", "expected_loss", "recommended", "net_benefit"])
def test_labelled_functions_equal_the_loop_over_cells(fn, cells, batched):
    got = getattr(cea, fn)(batched, WTP)
    first = got["recommended"] if isinstance(got, xr.Dataset) else got
    assert first.dims[:2] == ("scenario", "subgroup")
    assert got["scenario"].values.tolist() == ["base", "dear"]
    assert got["label"].values.tolist() == ["B", "D"]
    for i, sc in enumerate(["base", "dear"]):
        for j, sg in enumerate(["young", "old"]):
            want = getattr(cea, fn)(_at(cells, i, j), WTP)
            part = got.sel(scenario=sc, subgroup=sg).drop_vars(["scenario", "subgroup", "label"])
            xr.testing.assert_identical(part, want)


def test_summary_keeps_the_unit_attributes(batched):
    assert cea.summary(batched, WTP).attrs == {"currency": "USD", "effect_unit": "QALY"}


@pytest.mark.parametrize("fn", ["icer_table", "ceaf", "decision_table"])
def test_frames_are_the_cells_stacked_with_a_column_per_batch_dim(fn, cells, batched):
    got = getattr(cea, fn)(batched) if fn == "icer_table" else getattr(cea, fn)(batched, WTP)
    pieces = []
    for i, sc in enumerate(["base", "dear"]):
        for j, sg in enumerate(["young", "old"]):
            f = getattr(cea, fn)
            want = f(_at(cells, i, j)) if fn == "icer_table" else f(_at(cells, i, j), WTP)
            if want.index.name is not None:
                want = want.reset_index()
            want.insert(0, "subgroup", sg)
            want.insert(0, "scenario", sc)
            pieces.append(want)
    pd.testing.assert_frame_equal(got, pd.concat(pieces, ignore_index=True))


def test_a_wtp_batch_dim_uses_each_wtp_on_its_own_outcomes(cells):
    ds = xr.concat(cells[:3], dim="wtp").assign_coords(wtp=WTP)
    got = cea.summary(ds, [WTP[2], WTP[0]])  # any order, any subset
    assert got["wtp"].values.tolist() == [WTP[2], WTP[0]]
    for w, k in ((WTP[2], 2), (WTP[0], 0)):
        want = cea.summary(cells[k], [w])
        for name, var in want.data_vars.items():  # cost, effect, icer, status gain 'wtp'
            expected = var.isel(wtp=0, drop=True) if "wtp" in var.dims else var
            xr.testing.assert_identical(got[name].sel(wtp=w, drop=True), expected)
    assert (
        cea.net_benefit(ds, WTP)
        .sel(wtp=WTP[1])
        .equals(cea.net_benefit(cells[1], WTP[1]).isel(wtp=0))
    )


def test_a_wtp_batch_dim_must_hold_the_wtp_asked_for(cells):
    ds = xr.concat(cells[:2], dim="wtp").assign_coords(wtp=[0.0, 100.0])
    with pytest.raises(CEAInputError, match=r"wtp \[50\.0\] not in the outcomes' 'wtp'"):
        cea.summary(ds, [0.0, 50.0])
    with pytest.raises(CEAInputError, match="without a 'wtp' coordinate"):
        cea.ceac(xr.concat(cells[:2], dim="wtp"), [0.0])
    with pytest.raises(CEAInputError, match="use summary"):
        cea.decision_table(ds, [0.0])


def test_summarise_gives_one_decision_table_per_cell(cells, batched):
    got = summarise(batched, WTP, seed=3)
    assert got["dims"] == ["scenario", "subgroup"]
    assert got["coords"] == {"scenario": ["base", "dear"], "subgroup": ["young", "old"]}
    want = [summarise(c, WTP, seed=3) for c in cells]
    assert got["results"] == want
    unlabelled = xr.concat(cells[:2], dim="arm")
    assert summarise(unlabelled, WTP)["coords"] == {"arm": [0, 1]}


def test_summarise_refuses_a_wtp_batch_dim(cells):
    ds = xr.concat(cells[:2], dim="wtp").assign_coords(wtp=[0.0, 100.0])
    with pytest.raises(CEAInputError, match="WTP-dependent"):
        summarise(ds, [0.0])


def test_no_batch_dim_is_unchanged(cells):
    assert cea.batch_dims(cells[0]) == ()
    assert "policies" in summarise(cells[0], WTP)
