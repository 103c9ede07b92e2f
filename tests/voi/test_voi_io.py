"""Reading a PSA from CSV files in Python (:mod:`decisionmodel.voi.io`): the same files,
checks and messages as ``decisionmodel voi``, which reads its files with these functions.

References: the files as :func:`pandas.read_csv` reads them, and the EVPI the R package voi
1.0.3 computed on the same chemotherapy files (``voi_results.csv``; the EVPI is exact, so
the two agree to rounding).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from decisionmodel.exceptions import VOIInputError
from decisionmodel.voi import cli, evpi, evppi, io


@pytest.fixture
def chemo(voi_ref):
    return voi_ref / "voi-chemo"


def _voi_evpi(chemo, data: str, wtp: float | None = None) -> float:
    r = pd.read_csv(chemo / "voi_results.csv")
    rows = r[(r.quantity == "evpi") & (r.data == data)]
    if wtp is not None:
        rows = rows[rows.wtp == wtp]
    return float(rows["value"].item())


def test_net_benefit_and_inputs(chemo):
    psa = io.read_psa(outputs=chemo / "chemo_nb.csv", inputs=chemo / "chemo_pars.csv")
    nb = pd.read_csv(chemo / "chemo_nb.csv")
    pars = pd.read_csv(chemo / "chemo_pars.csv")
    assert psa.strategies == ["SoC", "Novel"] and psa.n_rows == len(nb) == 10_000
    np.testing.assert_array_equal(psa.nb.to_numpy(), nb.to_numpy())
    np.testing.assert_array_equal(psa.inputs.to_numpy(), pars.to_numpy())
    assert psa.costs is None and psa.wtp is None and psa.constant == []
    assert psa.rows_file == str(chemo / "chemo_nb.csv")
    value = evpi(**psa.outcome_kwargs())["value"].item()
    assert value == pytest.approx(_voi_evpi(chemo, "chemo_nb"), rel=1e-12)
    # the rows are draws in positional order: they pair with anything of that length
    assert isinstance(psa.inputs.index, pd.RangeIndex)
    kw = psa.outcome_kwargs()
    out = evppi(kw["nb"], psa.inputs, "p_side_effects_t2", se=False)
    assert out["value"].item() == pytest.approx(262.1, rel=0.05)  # voi's GAM: 262.11


def test_costs_effects_and_a_wtp_file(chemo):
    psa = io.read_psa(
        costs=chemo / "chemo_cea_c.csv",
        effects=chemo / "chemo_cea_e.csv",
        wtp=[chemo / "chemo_cea_k.csv"],
    )
    assert psa.wtp == pd.read_csv(chemo / "chemo_cea_k.csv")["k"].astype(float).tolist()
    np.testing.assert_array_equal(
        psa.effects.to_numpy(), pd.read_csv(chemo / "chemo_cea_e.csv").to_numpy()
    )
    assert psa.nb is None and psa.inputs is None
    res = evpi(**psa.outcome_kwargs())
    for w in (10_000.0, 20_000.0, 30_000.0):
        got = res["value"].sel(wtp=w).item()
        assert got == pytest.approx(_voi_evpi(chemo, "chemo_cea", w), rel=1e-9)


def test_numbers_and_files_mix_in_wtp(tmp_path):
    (tmp_path / "k.csv").write_text("k\n10000\n")
    assert io.read_wtp([20_000, "30000,40000", tmp_path / "k.csv"]) == [
        20_000.0,
        30_000.0,
        40_000.0,
        10_000.0,
    ]


def test_constant_parameters_are_listed(tmp_path):
    (tmp_path / "nb.csv").write_text("a,b\n0,1\n0,2\n0,3\n")
    (tmp_path / "pars.csv").write_text("x,k\n1,7\n2,7\n3,7\n")
    psa = io.read_psa(outputs=tmp_path / "nb.csv", inputs=tmp_path / "pars.csv")
    assert psa.constant == ["k"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"costs": "c.csv"}, "--effects is missing: --costs and --effects go together"),
        ({"effects": "e.csv"}, "--costs is missing: --costs and --effects go together"),
        ({}, "give net benefit with --outputs CSV, or --costs CSV and --effects CSV"),
        (
            {"outputs": "nb.csv", "costs": "c.csv"},
            "give net benefit (--outputs) or --costs and --effects, not both",
        ),
        (
            {"outputs": "nb.csv", "wtp": ["1"]},
            "--wtp applies to --costs/--effects; net benefit in --outputs is already valued "
            "at one willingness to pay",
        ),
        ({"costs": "c.csv", "effects": "c.csv"}, "--wtp is required with --costs and --effects"),
    ],
)
def test_wrong_combinations_raise(tmp_path, monkeypatch, kwargs, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.csv").write_text("a,b\n0,1\n0,2\n")
    (tmp_path / "c.csv").write_text("a,b\n0,1\n0,2\n")
    with pytest.raises(VOIInputError) as err:
        io.read_psa(**kwargs)
    assert str(err.value) == message


def test_files_of_different_lengths_raise(tmp_path):
    (tmp_path / "nb.csv").write_text("a,b\n0,1\n0,2\n0,3\n")
    (tmp_path / "pars.csv").write_text("x\n1\n2\n")
    with pytest.raises(VOIInputError) as err:
        io.read_psa(outputs=tmp_path / "nb.csv", inputs=tmp_path / "pars.csv")
    assert str(err.value) == (
        f"{tmp_path / 'pars.csv'} has 2 rows but {tmp_path / 'nb.csv'} has 3: the files must "
        "hold the same draws, row by row"
    )


def test_the_command_reads_with_these_functions():
    assert cli.read_table is io.read_table and cli.read_wtp is io.read_wtp
