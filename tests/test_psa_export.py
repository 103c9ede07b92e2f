"""``decisionmodel run --export DIR`` and :mod:`decisionmodel.psa_export`: the PSA as CSV files
for BCEA, voi and SAVI, read back exactly and by ``decisionmodel voi``."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import xarray as xr

from decisionmodel.cli import main
from decisionmodel.exceptions import DecisionModelError
from decisionmodel.psa_export import check_export_dir, read_psa, write_psa

STRATEGIES = ["Soc, usual", 'Novel "A"', "Novel [B]"]


def _synthetic(n: int = 25, seed: int = 3) -> tuple[xr.Dataset, xr.Dataset]:
    rng = np.random.default_rng(seed)
    params = xr.Dataset(
        {
            "p": ("sample", rng.beta(2, 5, n)),
            "lam": ("sample", rng.gamma(2.0, 1 / 3, n) * 1e-7),
            "k": ("sample", rng.integers(0, 5, n)),
            "const": ((), 0.1 + 0.2),
            "hr": (("sample", "arm"), rng.lognormal(0, 1, (n, 2))),
        }
    )
    outcomes = xr.Dataset(
        {
            "cost": (("strategy", "sample"), rng.gamma(4.0, 5000.0, (3, n))),
            "effect": (("strategy", "sample"), rng.normal(5.0, 1.0, (3, n)) / 3),
        },
        coords={"strategy": STRATEGIES},
    )
    return params, outcomes


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=float)


def test_round_trip_is_exact(tmp_path):
    params, outcomes = _synthetic()
    params["grid"] = (("sample", "row", "col"), np.arange(25 * 6.0).reshape(25, 2, 3) / 7)
    params["flag"] = ("sample", np.arange(25) % 2 == 0)
    write_psa(tmp_path / "psa", params, outcomes, [20000.0, 0.5], meta={"name": "x"})
    p, o, w = read_psa(tmp_path / "psa")
    assert w == [20000.0, 0.5]
    assert o["strategy"].values.tolist() == STRATEGIES
    for v in ("cost", "effect"):
        assert o[v].dims == ("strategy", "sample")
        assert np.array_equal(o[v].values, outcomes[v].values)  # bitwise
        assert o[v].values.tobytes() == outcomes[v].values.tobytes()
    header = (tmp_path / "psa" / "parameters.csv").read_text().splitlines()[0]
    assert '"grid[0][0]","grid[0][1]"' in header and '"grid[1][2]"' in header
    assert set(p.data_vars) == set(params.data_vars)
    for v in params.data_vars:
        assert p[v].dims == params[v].dims, v
        assert p[v].dtype == params[v].dtype, v
        assert p[v].values.tobytes() == params[v].values.tobytes(), v


def test_layouts(tmp_path):
    params, outcomes = _synthetic(n=7)
    wtp = [30000.0, 25000.5]
    d = write_psa(tmp_path / "out", params, outcomes, wtp, meta={"samples": 7})
    names = sorted(f.name for f in d.iterdir())
    assert names == sorted(
        [
            "parameters.csv",
            "costs.csv",
            "effects.csv",
            "nb_wtp30000.csv",
            "nb_wtp25000.5.csv",
            "wtp.csv",
            "psa.json",
        ]
    )
    header, pars = _read(d / "parameters.csv")
    assert header == ["p", "lam", "k", "const", "hr[0]", "hr[1]"]
    assert pars.shape == (7, 6)
    assert (pars[:, 3] == 0.1 + 0.2).all()
    assert np.array_equal(pars[:, 5], params["hr"].values[:, 1])
    # header names are quoted in the file
    first = (d / "parameters.csv").read_text().splitlines()[0]
    assert first == '"p","lam","k","const","hr[0]","hr[1]"'
    hc, c = _read(d / "costs.csv")
    he, e = _read(d / "effects.csv")
    assert hc == he == STRATEGIES
    assert c.shape == e.shape == (7, 3)
    assert np.array_equal(c, outcomes["cost"].values.T)
    assert np.array_equal(e, outcomes["effect"].values.T)
    for w, name in zip(wtp, ["nb_wtp30000.csv", "nb_wtp25000.5.csv"], strict=True):
        hn, nb = _read(d / name)
        assert hn == STRATEGIES
        expected = np.array(
            [[w * e[i, j] - c[i, j] for j in range(3)] for i in range(7)], dtype=float
        )
        assert np.array_equal(nb, expected)
    hk, k = _read(d / "wtp.csv")
    assert hk == ["k"] and k[:, 0].tolist() == wtp
    man = json.loads((d / "psa.json").read_text())
    assert man["strategies"] == STRATEGIES
    assert man["parameters"] == header
    assert man["wtp"] == wtp and man["samples"] == 7 and man["meta"] == {"samples": 7}
    assert man["files"]["costs.csv"]["rows"] == 7 and man["files"]["wtp.csv"]["rows"] == 2
    assert set(man["files"]) == set(names) - {"psa.json"}
    assert not [f for f in d.iterdir() if f.name.startswith(".")]  # no temporary files left


def test_one_wtp_writes_nb_csv_and_rewrite_replaces_the_old_export(tmp_path):
    params, outcomes = _synthetic(n=5)
    d = tmp_path / "x"
    write_psa(d, params, outcomes, [1000.0, 2000.0])
    assert (d / "nb_wtp1000.csv").is_file()
    write_psa(d, params, outcomes, [50000.0])  # a previous export: accepted, replaced
    names = sorted(f.name for f in d.iterdir())
    assert "nb.csv" in names and not [n for n in names if n.startswith("nb_wtp")]
    _, nb = _read(d / "nb.csv")
    assert np.array_equal(nb, 50000.0 * outcomes["effect"].values.T - outcomes["cost"].values.T)
    assert read_psa(d)[2] == [50000.0]


def test_corrupted_or_missing_file_is_detected(tmp_path):
    params, outcomes = _synthetic(n=5)
    d = write_psa(tmp_path / "x", params, outcomes, [100.0])
    text = (d / "effects.csv").read_text().splitlines()
    text[2] = text[2].replace(text[2][-1], "9" if text[2][-1] != "9" else "8")
    (d / "effects.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DecisionModelError, match=r"effects\.csv: its sha256 differs"):
        read_psa(d)
    (d / "effects.csv").unlink()
    with pytest.raises(DecisionModelError, match=r"effects\.csv: missing"):
        read_psa(d)
    (d / "psa.json").unlink()
    with pytest.raises(DecisionModelError, match=r"psa\.json: missing"):
        read_psa(d)


def test_batch_dimensions_are_refused(tmp_path):
    params, outcomes = _synthetic(n=5)
    batched = outcomes.expand_dims(scenario=["a", "b"])
    with pytest.raises(DecisionModelError, match=r"one batch cell at a time"):
        write_psa(tmp_path / "b", params, batched, [1.0])
    assert not (tmp_path / "b").exists()  # refused before anything is written


def test_check_export_dir_refusals(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(DecisionModelError, match="is a file, not a directory"):
        check_export_dir(tmp_path / "f.txt", "--export")
    with pytest.raises(DecisionModelError, match=r"f\.txt is a file"):
        check_export_dir(tmp_path / "f.txt" / "below")
    with pytest.raises(DecisionModelError, match=r"not a previous PSA export \(it holds f\.txt\)"):
        check_export_dir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert check_export_dir(tmp_path / "empty") == tmp_path / "empty"
    # a directory with a foreign manifest is not ours
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "psa.json").write_text('{"files": {}}')
    with pytest.raises(DecisionModelError, match="not a previous PSA export"):
        check_export_dir(tmp_path / "other")


# --------------------------------------------------------------------------------------
# through the command line
# --------------------------------------------------------------------------------------

RUN = ["run", "crlm", "--priors-only", "--samples", "200", "--seed", "11", "--json"]


def test_run_export_writes_all_files(tmp_path, capsys):
    d = tmp_path / "psa"
    assert main([*RUN, "--export", str(d)]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert f"wrote {d}" in captured.err
    wtp = result["wtp"]
    expected = {"parameters.csv", "costs.csv", "effects.csv", "wtp.csv", "psa.json"}
    expected |= {"nb.csv"} if len(wtp) == 1 else {f"nb_wtp{int(w)}.csv" for w in wtp}
    assert {f.name for f in d.iterdir()} == expected
    man = json.loads((d / "psa.json").read_text())
    names = [p["name"] for p in result["policies"]]
    assert man["strategies"] == names and man["samples"] == 200 and man["wtp"] == wtp
    assert man["meta"]["seed"] == 11 and man["meta"]["policies"] == result["policies"]
    header, c = _read(d / "costs.csv")
    assert header == names and c.shape == (200, len(names))
    for j, pol in enumerate(result["policies"]):
        assert math.isclose(c[:, j].mean(), pol["cost"], rel_tol=1e-12)
    _, e = _read(d / "effects.csv")
    for j, pol in enumerate(result["policies"]):
        assert math.isclose(e[:, j].mean(), pol["effect"], rel_tol=1e-12)
    params, _, w = read_psa(d)
    assert w == wtp and params.sizes["sample"] == 200

    # voi evpi on the exported files: the EVPI of the run at every WTP
    wtp_arg = str(d / "wtp.csv")
    argv = ["voi", "evpi", "--costs", str(d / "costs.csv"), "--effects", str(d / "effects.csv")]
    assert main([*argv, "--inputs", str(d / "parameters.csv"), "--wtp", wtp_arg, "--json"]) == 0
    voi = json.loads(capsys.readouterr().out)
    assert voi["strategies"] == names and voi["wtp"] == wtp
    for a, b in zip(voi["evpi"], result["evpi"], strict=True):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    # and on the net benefit at one WTP (--outputs)
    nb = d / ("nb.csv" if len(wtp) == 1 else f"nb_wtp{int(wtp[-1])}.csv")
    assert main(["voi", "evpi", "--outputs", str(nb), "--json"]) == 0
    voi_nb = json.loads(capsys.readouterr().out)
    assert math.isclose(voi_nb["evpi"][0], result["evpi"][-1], rel_tol=1e-12, abs_tol=1e-9)


def test_run_export_quiet_prints_nothing_on_stderr(tmp_path, capsys):
    d = tmp_path / "q"
    assert main([*RUN, "--samples", "20", "--export", str(d), "-q"]) == 0
    assert "wrote" not in capsys.readouterr().err
    assert (d / "psa.json").is_file()


@pytest.mark.parametrize("case", ["file", "foreign_dir"])
def test_run_export_refuses_before_the_analysis(case, tmp_path, capsys):
    target = tmp_path / "target"
    if case == "file":
        target.write_text("keep me\n")
        foreign = target
    else:
        target.mkdir()
        foreign = target / "results.csv"
        foreign.write_text("keep me\n")
    code = main([*RUN, "--export", str(target)])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "--export" in lines[0] and str(target) in lines[0]
    assert "Traceback" not in captured.err
    assert captured.out == ""  # refused before the analysis
    assert foreign.read_text() == "keep me\n"
    if case == "foreign_dir":
        assert [f.name for f in target.iterdir()] == ["results.csv"]
