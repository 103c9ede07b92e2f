"""``decisionmodel voi``: CSV layouts of voi/BCEA/SAVI, the JSON contract, R voi's numbers on
its chemotherapy example, and one-line errors with exit code 2 for every kind of bad input.

The reference files are read-only: bad variants are written to ``tmp_path``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from decisionmodel.cli import main

SEED = 11


@pytest.fixture
def chemo(voi_ref):
    return voi_ref / "voi-chemo"


@pytest.fixture
def voi_results(chemo):
    return pd.read_csv(chemo / "voi_results.csv")


def run(capsys, *argv):
    """Run the command in-process; return (exit code, stdout, stderr)."""
    try:
        code = main(["voi", *map(str, argv)])
    except SystemExit as exc:  # argparse errors
        code = exc.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def _cea_args(chemo):
    return [
        "--costs",
        chemo / "chemo_cea_c.csv",
        "--effects",
        chemo / "chemo_cea_e.csv",
        "--wtp",
        chemo / "chemo_cea_k.csv",
    ]


# --------------------------------------------------------------------------- EVPI


def test_evpi_matches_r_voi_on_net_benefit(capsys, chemo, voi_results):
    """voi 1.0.3: evpi(chemo_nb) = 368.605096225918 (voi_results.csv)."""
    ref = voi_results.query("quantity == 'evpi' and data == 'chemo_nb'")["value"].item()
    res = run_json(capsys, "evpi", "--outputs", chemo / "chemo_nb.csv")
    assert res["evpi"] == [pytest.approx(ref, rel=1e-6)]
    assert res["wtp"] is None and res["method"] is None
    assert res["samples"] == 10000 and res["strategies"] == ["SoC", "Novel"]
    assert res["quantity"] == "evpi" and res["seed"] == 20261127
    assert len(res["evpi_se"]) == 1 and 0 < res["evpi_se"][0] < 20
    assert "evppi" not in res and "evsi" not in res and "population" not in res


def test_evpi_per_wtp_from_costs_and_effects(capsys, chemo, voi_results):
    """The cost/effect files with voi's k grid (a one-column CSV with header 'k') give voi's
    per-WTP EVPI; the grid can equally be typed as numbers and comma lists."""
    rows = voi_results.query("quantity == 'evpi' and data == 'chemo_cea'")
    res = run_json(capsys, "evpi", *_cea_args(chemo))
    assert res["wtp"] == rows["wtp"].astype(float).tolist()
    for value, ref in zip(res["evpi"], rows["value"], strict=True):
        assert value == pytest.approx(ref, rel=1e-6)
    typed = run_json(
        capsys,
        "evpi",
        "--costs",
        chemo / "chemo_cea_c.csv",
        "--effects",
        chemo / "chemo_cea_e.csv",
        "--wtp",
        "10000",
        "20000,30000",
        "--wtp",
        "40000",
        "50000",
    )
    assert typed["evpi"] == res["evpi"] and typed["wtp"] == res["wtp"]


def test_text_table(capsys, chemo):
    code, out, err = run(capsys, "evpi", *_cea_args(chemo))
    assert code == 0 and err == ""
    assert "EVPI per person" in out and "WTP" in out
    assert "368.61" in out and "20,000" in out


def test_r_and_savi_layouts(capsys, chemo, tmp_path):
    """R write.csv (quoted header, an unnamed row-name column), a UTF-8 BOM with semicolons
    (spreadsheet export) and tab-separated files all read to the same numbers."""
    nb = pd.read_csv(chemo / "chemo_nb.csv")
    ref = run_json(capsys, "evpi", "--outputs", chemo / "chemo_nb.csv")["evpi"]
    r_style = tmp_path / "r.csv"
    nb.index = np.arange(1, len(nb) + 1)
    nb.to_csv(r_style, index=True, index_label="", quoting=1)  # "","SoC","Novel" / "1",...
    assert r_style.read_text().startswith('"","SoC","Novel"')
    semi = tmp_path / "semi.csv"
    semi.write_bytes(b"\xef\xbb\xbf" + nb.to_csv(sep=";", index=False).encode())
    tab = tmp_path / "tab.tsv"
    nb.to_csv(tab, sep="\t", index=False)
    for path in (r_style, semi, tab):
        assert run_json(capsys, "evpi", "--outputs", path)["evpi"] == pytest.approx(ref, rel=1e-12)


def test_population_values(capsys, voi_ref):
    """--pop-per-year/--horizon/--discount add population values: EVPI × the multiplier
    of truth.json (continuous 84,374.83; discrete 86,076.87)."""
    case = voi_ref / "cases" / "evsi_normal"
    truth = json.loads((case / "truth.json").read_text())["quantities"]
    base = ["evpi", "--outputs", case / "nb.csv", "--pop-per-year", 10000, "--horizon", 10]
    for kind, key in (("continuous", "pop_evpi_cont"), ("discrete", "pop_evpi_disc")):
        res = run_json(capsys, *base, "--discount", 0.035, "--discounting", kind)
        pop = res["population"]
        m = truth[key]["multiplier"]
        assert pop["multiplier"] == pytest.approx(m, rel=1e-12)
        assert pop["evpi"][0] == pytest.approx(res["evpi"][0] * m, rel=1e-12)
        assert pop["evpi_se"][0] == pytest.approx(res["evpi_se"][0] * m, rel=1e-12)
        assert pop["discounting"] == kind
        assert set(pop) == {
            "pop_per_year",
            "horizon",
            "discount",
            "discounting",
            "multiplier",
            "evpi",
            "evpi_se",
        }
    default = run_json(capsys, *base)  # discount defaults to voi's 0.035, continuous
    assert default["population"]["discount"] == 0.035
    assert default["population"]["discounting"] == "continuous"


# --------------------------------------------------------------------------- EVPPI


def test_evppi_contract_and_r_voi(capsys, chemo):
    """Entries {pars, value, se, wtp, method} per group, identical to the Python API; values
    near voi's GAM estimates (within 10%, check.py's EVPPI tolerance). --no-se skips the
    standard errors (reported as null), which keeps this test fast."""
    evppi_mod = pytest.importorskip("decisionmodel.voi.evppi")
    groups = [
        ["p_side_effects_t2"],
        ["logor_side_effects"],
        ["p_side_effects_t2", "logor_side_effects"],
    ]
    res = run_json(
        capsys,
        "evppi",
        "--inputs",
        chemo / "chemo_pars.csv",
        "--outputs",
        chemo / "chemo_nb.csv",
        "--pars",
        "p_side_effects_t2",
        "--pars",
        "logor_side_effects",
        "--pars",
        "p_side_effects_t2, logor_side_effects",
        "--seed",
        SEED,
        "--no-se",
    )
    assert res["quantity"] == "evppi" and res["method"] is not None
    assert [e["pars"] for e in res["evppi"]] == groups
    for e in res["evppi"]:
        assert set(e) == {"pars", "value", "se", "wtp", "method"}
        assert e["wtp"] is None and e["se"] is None
    direct = evppi_mod.evppi(
        pd.read_csv(chemo / "chemo_nb.csv"),
        pd.read_csv(chemo / "chemo_pars.csv"),
        groups,
        rng=np.random.default_rng(SEED),
        se=False,
    )
    np.testing.assert_allclose(
        [e["value"] for e in res["evppi"]], direct["value"].values, rtol=1e-12
    )
    assert [e["method"] for e in res["evppi"]] == [str(m) for m in direct["method"].values]
    refs = {  # voi 1.0.3, method "gam" (voi_results.csv)
        "p_side_effects_t2": 262.110882153544,
        "logor_side_effects": 331.867581325572,
        "p_side_effects_t2,logor_side_effects": 334.427908570614,
    }
    for e in res["evppi"]:
        assert e["value"] == pytest.approx(refs[",".join(e["pars"])], rel=0.10)
        assert e["value"] <= res["evpi"][0] * 1.01


def test_evppi_per_wtp_with_population_and_se(capsys, chemo, tmp_path):
    """Cost/effect input: one entry per (group, WTP), with standard errors and population
    values. The first 2,000 draws of the chemo files keep it fast (the shape is tested)."""
    pytest.importorskip("decisionmodel.voi.evppi")
    paths = {}
    for name in ("chemo_pars", "chemo_cea_c", "chemo_cea_e"):
        paths[name] = tmp_path / f"{name}.csv"
        pd.read_csv(chemo / f"{name}.csv").iloc[:2000].to_csv(paths[name], index=False)
    args = [
        "evppi",
        "--inputs",
        paths["chemo_pars"],
        "--costs",
        paths["chemo_cea_c"],
        "--effects",
        paths["chemo_cea_e"],
        "--wtp",
        chemo / "chemo_cea_k.csv",
        "--pars",
        "p_side_effects_t2",
        "--pop-per-year",
        1000,
        "--horizon",
        5,
    ]
    res = run_json(capsys, *args)
    wtp = [10000.0, 20000.0, 30000.0, 40000.0, 50000.0]
    assert res["samples"] == 2000
    assert [e["wtp"] for e in res["evppi"]] == res["wtp"] == wtp
    m = res["population"]["multiplier"]
    for e in res["evppi"]:
        assert set(e) == {"pars", "value", "se", "wtp", "method", "pop_value", "pop_se"}
        assert e["se"] is not None and e["se"] >= 0
        assert e["pop_value"] == pytest.approx(e["value"] * m, rel=1e-12)
        assert e["pop_se"] == pytest.approx(e["se"] * m, rel=1e-12)
    code, out, _ = run(capsys, *args, "--no-se")
    assert code == 0 and "EVPPI per person" in out and "p_side_effects_t2" in out
    assert "population EVPPI" in out


def test_evppi_default_is_every_parameter(capsys, tmp_path, voi_ref):
    """Without --pars: every non-constant column on its own; constant columns are listed."""
    pytest.importorskip("decisionmodel.voi.evppi")
    case = voi_ref / "cases" / "evsi_normal"
    inputs = pd.read_csv(case / "inputs.csv")
    inputs["fixed"] = 1.0
    path = tmp_path / "inputs.csv"
    inputs.to_csv(path, index=False)
    res = run_json(capsys, "evppi", "--inputs", path, "--outputs", case / "nb.csv", "--no-se")
    assert [e["pars"] for e in res["evppi"]] == [["theta"], ["dc"], ["q0"], ["c0"]]
    assert res["constant"] == ["fixed"]


# --------------------------------------------------------------------------- EVSI / ENBS


def test_evsi_and_enbs_on_the_normal_case(capsys, voi_ref):
    """evsi_normal via the CLI (normal_known, sd = 0.3, as truth.json's r_voi_equivalent):
    identical to the Python API with the same seed; EVSI within check.py's tolerance
    max(15%, 3·mc_sd_N, 1% of EVPI) of the closed form; ENBS within multiplier × that."""
    evsi_mod = pytest.importorskip("decisionmodel.voi.evsi")
    from decisionmodel.voi.studies import get_study

    case = voi_ref / "cases" / "evsi_normal"
    q = json.loads((case / "truth.json").read_text())["quantities"]
    ns = [10, 50, 200, 1000]
    res = run_json(
        capsys,
        "evsi",
        "--inputs",
        case / "inputs.csv",
        "--outputs",
        case / "nb.csv",
        "--study",
        "normal_known:theta,sd=0.3",
        "--n",
        *ns,
        "--seed",
        SEED,
        "--pop-per-year",
        10000,
        "--horizon",
        10,
        "--setup-cost",
        200000,
        "--cost-per-patient",
        1500,
        "--smooth",
    )
    assert res["quantity"] == "evsi"
    assert [e["n"] for e in res["evsi"]] == ns
    for e in res["evsi"]:
        assert set(e) == {"study", "pars", "n", "value", "se", "wtp", "pop_value", "pop_se"}
        assert e["study"] == "normal_known:theta,sd=0.3" and e["pars"] == ["theta"]
    direct = evsi_mod.evsi(
        pd.read_csv(case / "nb.csv"),
        pd.read_csv(case / "inputs.csv"),
        study=get_study("normal_known", ["theta"], sd=0.3),
        n=ns,
        rng=np.random.default_rng(SEED),
    )
    np.testing.assert_allclose(
        [e["value"] for e in res["evsi"]], direct["value"].values, rtol=1e-12
    )
    evpi_truth = q["evpi"]["truth"]
    for e in res["evsi"]:
        t = q[f"evsi:n={e['n']}"]
        tol = max(0.15 * t["truth"], 3 * t["mc_sd_N"], 0.01 * evpi_truth)
        assert abs(e["value"] - t["truth"]) <= tol
    for row in res["enbs"]:
        assert set(row) == {"n", "wtp", "value", "se", "pop_evsi", "cost", "p_positive"}
        qn, t = q[f"enbs:n={row['n']}"], q[f"evsi:n={row['n']}"]
        tol = max(0.15 * t["truth"], 3 * t["mc_sd_N"], 0.01 * evpi_truth)
        assert abs(row["value"] - qn["truth"]) <= qn["multiplier"] * tol
        assert row["cost"] == 200000 + 1500 * row["n"]
    (opt,) = res["enbs_optimum"]
    assert set(opt) >= {
        "wtp",
        "n_opt",
        "enbs_max",
        "se",
        "p_positive",
        "n_lower",
        "n_upper",
        "n_opt_lower",
        "n_opt_upper",
    }
    assert 342 <= opt["n_opt"] <= 1447  # the truth's near-optimal band (optimum 721)
    assert opt["p_positive"] > 0.99
    assert res["study_costs"] == {
        "setup": 200000.0,
        "per_patient": 1500.0,
        "n_arms": 1,
        "smooth": True,
    }


def test_evsi_two_arm_design_on_chemo_per_wtp(capsys, chemo, voi_results):
    """voi's vignette trial (trial_binary on the two side-effect probabilities) from the cost and
    effect files, n = 100 and 1000 per arm: one entry per (n, WTP), near voi's GAM estimates
    at WTP 20,000 (within check.py's 15% EVSI tolerance)."""
    pytest.importorskip("decisionmodel.voi.evsi")
    res = run_json(
        capsys,
        "evsi",
        "--inputs",
        chemo / "chemo_pars.csv",
        *_cea_args(chemo),
        "--study",
        "binary_two_arm:p1=p_side_effects_t1,p2=p_side_effects_t2",
        "--n",
        "100,1000",
        "--seed",
        SEED,
        "--pop-per-year",
        5000,
        "--horizon",
        5,
        "--setup-cost",
        100000,
        "--cost-per-patient",
        "500,1500",
    )
    assert [(e["n"], e["wtp"]) for e in res["evsi"]] == [
        (n, w) for n in (100, 1000) for w in res["wtp"]
    ]
    ref = voi_results[voi_results.data == "A_trial_binary(pi1,pi2):cea"].query("method == 'gam'")
    for e in res["evsi"]:
        if e["wtp"] == 20000.0:
            r = ref[(ref.study_n == e["n"]) & (ref.wtp == 20000)]["value"].item()
            assert e["value"] == pytest.approx(r, rel=0.15)
        assert e["pars"] == ["p_side_effects_t1", "p_side_effects_t2"]
    # a two-arm design recruits n per arm: the study cost counts 2n participants by default
    assert res["study_costs"]["n_arms"] == 2
    assert res["study_costs"]["per_patient"] == [500.0, 1500.0]  # a 95% interval, mean 1000
    for row in res["enbs"]:
        assert row["cost"] == pytest.approx(100000 + 2 * row["n"] * 1000.0)
        assert row["se"] > 0
    assert [o["wtp"] for o in res["enbs_optimum"]] == res["wtp"]


# --------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """Bad copies of the chemo files (the originals are read-only), written once."""
    candidates = [
        str(Path(__file__).resolve().parents[1] / "data" / "voi-reference"),
    ]  # as conftest.py
    for c in candidates:
        if c and (Path(c) / "voi-chemo").is_dir():
            return _variants(Path(c) / "voi-chemo", tmp_path_factory.mktemp("bad"))
    pytest.fail("tests/data/voi-reference/voi-chemo is missing: the checkout is incomplete")


def _variants(chemo, tmp_path):
    nb = pd.read_csv(chemo / "chemo_nb.csv")
    pars = pd.read_csv(chemo / "chemo_pars.csv").iloc[:, :3]
    files = {"nb": tmp_path / "nb.csv", "pars": tmp_path / "pars.csv"}
    nb.to_csv(files["nb"], index=False)
    pars.to_csv(files["pars"], index=False)

    def write(name, text):
        p = tmp_path / name
        p.write_text(text)
        files[name.split(".")[0]] = p

    lines = (chemo / "chemo_nb.csv").read_text().splitlines()
    write("nan.csv", "\n".join([*lines[:5], "NA,1.0", *lines[6:20]]) + "\n")
    write("empty_cell.csv", "\n".join([*lines[:3], "1.0,", *lines[4:20]]) + "\n")
    write("text.csv", "\n".join([*lines[:7], "1.0,abc", *lines[8:20]]) + "\n")
    write("inf.csv", "\n".join([*lines[:2], "inf,1", *lines[3:20]]) + "\n")
    write("one.csv", "SoC\n1\n2\n3\n")
    write("blank.csv", "")
    write("header_only.csv", "SoC,Novel\n")
    write("no_header.csv", "1.5,2.5\n3,4\n")
    write("dupe.csv", "a,a\n1,2\n3,4\n")
    write("bool.csv", "a,b\nTRUE,1\nFALSE,2\n")
    write("ragged.csv", "a,b\n1,2\n3,4,5,6\n")
    write("wtp2.csv", "k,j\n1,2\n")
    short = pars.iloc[:-1]
    short.to_csv(tmp_path / "short.csv", index=False)
    files["short"] = tmp_path / "short.csv"
    const = pars.assign(p_side_effects_t1=0.5)
    const.to_csv(tmp_path / "const.csv", index=False)
    files["const"] = tmp_path / "const.csv"
    c = pd.read_csv(chemo / "chemo_cea_c.csv")
    e = pd.read_csv(chemo / "chemo_cea_e.csv")
    c.to_csv(tmp_path / "c.csv", index=False)
    e.rename(columns={"Novel": "New"}).to_csv(tmp_path / "e_names.csv", index=False)
    e.iloc[:-2].to_csv(tmp_path / "e_short.csv", index=False)
    files.update(
        c=tmp_path / "c.csv", e_names=tmp_path / "e_names.csv", e_short=tmp_path / "e_short.csv"
    )
    files["missing"] = tmp_path / "missing.csv"
    return files


BAD = [
    (["evpi", "--outputs", "{missing}"], "no such file"),
    (["evpi", "--outputs", "{nan}"], "column 'SoC', data row 5 is empty or NA"),
    (["evpi", "--outputs", "{empty_cell}"], "column 'Novel', data row 3 is empty or NA"),
    (["evpi", "--outputs", "{text}"], "column 'Novel', data row 7: 'abc' is not a number"),
    (["evpi", "--outputs", "{inf}"], "data row 2 is infinite"),
    (["evpi", "--outputs", "{one}"], "only one strategy column ('SoC')"),
    (["evpi", "--outputs", "{blank}"], "empty file"),
    (["evpi", "--outputs", "{header_only}"], "no data rows"),
    (["evpi", "--outputs", "{no_header}"], "must name the columns"),
    (["evpi", "--outputs", "{dupe}"], "'a' repeat"),
    (["evpi", "--outputs", "{bool}"], "TRUE/FALSE"),
    (["evpi", "--outputs", "{ragged}"], "cannot be read as CSV"),
    (["evpi", "--outputs", "{nb}", "--inputs", "{short}"], "has 9999 rows but"),
    (["evpi"], "give net benefit with --outputs"),
    (["evpi", "--costs", "{c}"], "--effects is missing"),
    (["evpi", "--outputs", "{nb}", "--costs", "{c}", "--effects", "{c}"], "not both"),
    (["evpi", "--costs", "{c}", "--effects", "{e_names}", "--wtp", "1"], "different strategies"),
    (["evpi", "--costs", "{c}", "--effects", "{e_short}", "--wtp", "1"], "has 10000 rows but"),
    (["evpi", "--costs", "{c}", "--effects", "{c}"], "--wtp is required"),
    (["evpi", "--costs", "{c}", "--effects", "{c}", "--wtp", "abc"], "'abc': not a number"),
    (["evpi", "--costs", "{c}", "--effects", "{c}", "--wtp", "-5"], ">= 0"),
    (["evpi", "--costs", "{c}", "--effects", "{c}", "--wtp", "1,1"], "repeat"),
    (["evpi", "--costs", "{c}", "--effects", "{c}", "--wtp", "{wtp2}"], "one column"),
    (["evpi", "--outputs", "{nb}", "--wtp", "20000"], "--wtp applies to --costs"),
    (["evpi", "--outputs", "{nb}", "--method", "gam"], "does not apply to evpi"),
    (["evpi", "--outputs", "{nb}", "--horizon", "10"], "needs --pop-per-year"),
    (["evpi", "--outputs", "{nb}", "--pop-per-year", "100"], "needs --horizon"),
    (
        [
            "evpi",
            "--outputs",
            "{nb}",
            "--pop-per-year",
            "100",
            "--horizon",
            "10",
            "--discount",
            "3.5",
        ],
        "as a fraction",
    ),
    (
        [
            "evpi",
            "--outputs",
            "{nb}",
            "--pop-per-year",
            "1",
            "--horizon",
            "2.5",
            "--discounting",
            "discrete",
        ],
        "whole number of years",
    ),
    (["evpi", "--outputs", "{nb}", "--pop-per-year", "-1", "--horizon", "10"], "pop_per_year"),
    (["evppi", "--outputs", "{nb}"], "--inputs CSV"),
    (
        ["evppi", "--outputs", "{nb}", "--inputs", "{pars}", "--pars", "nope"],
        "'nope' is not a column of",
    ),
    (["evppi", "--outputs", "{nb}", "--inputs", "{pars}", "--pars", "c_home_care,"], "empty name"),
    (
        ["evppi", "--outputs", "{nb}", "--inputs", "{pars}", "--pars", "c_home_care,c_home_care"],
        "names a parameter twice",
    ),
    (
        ["evppi", "--outputs", "{nb}", "--inputs", "{const}", "--pars", "p_side_effects_t1"],
        "is constant",
    ),
    (["evsi", "--outputs", "{nb}", "--inputs", "{pars}", "--n", "10"], "needs a study design"),
    (
        ["evsi", "--outputs", "{nb}", "--inputs", "{pars}", "--study", "binary:p_side_effects_t1"],
        "needs sample sizes",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{pars}",
            "--study",
            "binary:p_side_effects_t1",
            "--n",
            "0",
        ],
        ">= 1",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{pars}",
            "--study",
            "binary:p_side_effects_t1",
            "--n",
            "ten",
        ],
        "not a number",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{pars}",
            "--study",
            "binary:p_side_effects_t1",
            "--n",
            "5,5",
        ],
        "repeat",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{pars}",
            "--study",
            "warp:p_side_effects_t1",
            "--n",
            "5",
        ],
        "unknown study design",
    ),
    (
        ["evsi", "--outputs", "{nb}", "--inputs", "{pars}", "--study", "binary:p=nope", "--n", "5"],
        "'nope' is not a column",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{pars}",
            "--study",
            "binary:q=p_side_effects_t1",
            "--n",
            "5",
        ],
        "unknown setting",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{const}",
            "--study",
            "binary:p_side_effects_t1",
            "--n",
            "5",
        ],
        "is constant",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{pars}",
            "--study",
            "binary:p_side_effects_t1",
            "--n",
            "5",
            "--setup-cost",
            "10",
        ],
        "go together",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{pars}",
            "--study",
            "binary:p_side_effects_t1",
            "--n",
            "5",
            "--setup-cost",
            "10",
            "--cost-per-patient",
            "1",
        ],
        "needs --pop-per-year",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{pars}",
            "--study",
            "binary:p_side_effects_t1",
            "--n",
            "5",
            "--setup-cost",
            "x",
            "--cost-per-patient",
            "1",
        ],
        "not a number",
    ),
    (
        [
            "evsi",
            "--outputs",
            "{nb}",
            "--inputs",
            "{pars}",
            "--study",
            "binary:p_side_effects_t1",
            "--n",
            "5",
            "--smooth",
        ],
        "--smooth applies",
    ),
    (["frobnicate"], "invalid choice"),
    (["evpi", "--outputs", "{nb}", "--seed", "x"], "invalid int value"),
    (["evpi", "--outputs", "{nb}", "--pars", "a"], "unrecognized arguments"),
]


@pytest.mark.parametrize(
    ("argv", "fragment"), BAD, ids=[f"{i}:{b[1][:24]}" for i, b in enumerate(BAD)]
)
def test_bad_input_one_line_exit_2(argv, fragment, capsys, bad_files):
    argv = [a.format(**bad_files) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in err and out == ""


def test_error_names_the_file(capsys, bad_files):
    _, _, err = run(capsys, "evpi", "--outputs", bad_files["text"])
    assert str(bad_files["text"]) in err and "(--outputs)" in err


def test_console_script_one_line_exit_2(tmp_path, chemo):
    """The installed entry point: exit code 2, one line, no traceback; the read-only
    reference files stay untouched."""
    before = (chemo / "chemo_nb.csv").stat().st_mtime
    bad = tmp_path / "nb.csv"
    shutil.copy(chemo / "chemo_nb.csv", bad)
    with bad.open("a") as fh:
        fh.write("1.0,oops\n")
    proc = subprocess.run(
        [sys.executable, "-m", "decisionmodel.cli", "voi", "evpi", "--outputs", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "data row 10001: 'oops' is not a number" in proc.stderr
    assert (chemo / "chemo_nb.csv").stat().st_mtime == before
