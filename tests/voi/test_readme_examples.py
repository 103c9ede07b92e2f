"""Every ``decisionmodel voi`` example of the README runs on the example files in
``examples/voi/`` and gives the right numbers.

The commands are read from the README itself (optional parts in ``[...]`` are run both
without and with them), so the README and the files cannot drift apart. The values are
checked against numbers computed here independently of the package: the exact EVPI from the
net-benefit draws, EVPPI by a least-squares polynomial regression of the incremental net
benefit (numpy only), population values from the closed-form multiplier, and the ENBS
arithmetic.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from decisionmodel.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "voi"


def _readme_commands() -> list[list[str]]:
    """The ``decisionmodel voi ...`` commands of the README's voi example block."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    block = next(b for b in blocks if "decisionmodel voi evpi" in b and "examples/voi" in b)
    joined = block.replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.strip()]


def _variants(cmd: list[str]) -> list[list[str]]:
    """The command without its optional ``[...]`` parts, and with them."""
    text = " ".join(cmd)
    bare = re.sub(r"\s*\[[^\]]*\]", "", text).split()
    full = re.sub(r"\[([^\]]*)\]", r"\1", text).split()
    return [bare] if bare == full else [bare, full]


COMMANDS = [v for c in _readme_commands() for v in _variants(c)]


def _run(argv: list[str], capsys) -> dict:
    assert argv[:2] == ["decisionmodel", "voi"], argv
    capsys.readouterr()
    code = main([*argv[1:], "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def _exact_evpi(nb: pd.DataFrame) -> float:
    v = nb.to_numpy()
    return float(v.max(axis=1).mean() - v.mean(axis=0).max())


def _poly_evppi(inb: np.ndarray, x: np.ndarray, degree: int) -> float:
    """EVPPI of two strategies by a full polynomial regression of the incremental net
    benefit on the (standardised) parameters ``x`` (draws x parameters)."""
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    cols = [np.ones(len(z))]
    if z.shape[1] == 1:
        cols += [z[:, 0] ** k for k in range(1, degree + 1)]
    else:
        a, b = z[:, 0], z[:, 1]
        cols += [a**i * b**j for i in range(degree + 1) for j in range(degree + 1) if 0 < i + j]
    X = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(X, inb, rcond=None)
    fitted = X @ coef
    return float(np.maximum(fitted, 0).mean() - max(fitted.mean(), 0.0))


def test_the_readme_names_the_example_files():
    assert len(_readme_commands()) == 4
    for name in ("chemo_nb", "chemo_pars", "chemo_cea_c", "chemo_cea_e", "chemo_cea_k"):
        assert (EXAMPLES / f"{name}.csv").is_file()
    for cmd in COMMANDS:
        for arg in cmd:
            if arg.endswith(".csv"):
                assert (REPO / arg).is_file(), arg


def test_the_examples_are_what_the_script_writes(tmp_path):
    """examples/voi/make_chemo.py regenerates exactly the committed files."""
    import runpy

    mod = runpy.run_path(str(EXAMPLES / "make_chemo.py"))
    if not np.__version__.startswith(mod["NUMPY_VERSION"] + "."):
        pytest.skip(f"the files were written with NumPy {mod['NUMPY_VERSION']}")
    mod["write"](tmp_path)
    for f in sorted(EXAMPLES.glob("*.csv")):
        assert (tmp_path / f.name).read_bytes() == f.read_bytes(), f.name


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[2:4] + a[-2:]))
def test_readme_example(argv, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    res = _run(argv, capsys)
    pars = pd.read_csv(EXAMPLES / "chemo_pars.csv")
    nb = pd.read_csv(EXAMPLES / "chemo_nb.csv")
    assert res["samples"] == 10_000 and res["strategies"] == ["SoC", "Novel"]
    if "--costs" in argv:
        c = pd.read_csv(EXAMPLES / "chemo_cea_c.csv")
        e = pd.read_csv(EXAMPLES / "chemo_cea_e.csv")
        k = pd.read_csv(EXAMPLES / "chemo_cea_k.csv")["k"].tolist()
        assert res["wtp"] == k
        expected = [_exact_evpi(w * e - c) for w in k]
        assert res["evpi"] == pytest.approx(expected, rel=1e-9)
        assert all(v > 0 for v in res["evpi"])
        return
    assert res["evpi"] == pytest.approx([_exact_evpi(nb)], rel=1e-9)
    inb = (nb["Novel"] - nb["SoC"]).to_numpy()
    if res["quantity"] == "evppi":
        groups = [e["pars"] for e in res["evppi"]]
        assert groups == [["p_side_effects_t2"], ["p_side_effects_t2", "logor_side_effects"]]
        for entry in res["evppi"]:
            x = pars[entry["pars"]].to_numpy()
            independent = _poly_evppi(inb, x, degree=4 if x.shape[1] == 1 else 3)
            assert entry["value"] > 0.2 * res["evpi"][0]  # informative, not zero
            assert entry["value"] <= res["evpi"][0] * 1.02
            assert entry["value"] == pytest.approx(independent, rel=0.1)
        single, group = (e["value"] for e in res["evppi"])
        assert group > single  # the log odds ratio adds information
    if res["quantity"] == "evsi":
        r, horizon, people = 0.035, 10.0, 10_000.0
        multiplier = people / r * (1 - np.exp(-r * horizon))
        assert res["population"]["multiplier"] == pytest.approx(multiplier, rel=1e-12)
        both = _poly_evppi(inb, pars[["p_side_effects_t1", "p_side_effects_t2"]].to_numpy(), 3)
        values = [e["value"] for e in res["evsi"]]
        assert [e["n"] for e in res["evsi"]] == [100, 500, 1000]
        assert all(v > 0 for v in values)
        assert values == sorted(values)  # more information from larger trials
        assert values[-1] <= both * 1.1  # at most the value of knowing both parameters
        assert values[-1] >= both * 0.75  # and close to it with 1000 patients per arm
        for e, row in zip(res["evsi"], res["enbs"], strict=True):
            assert e["pop_value"] == pytest.approx(e["value"] * multiplier, rel=1e-12)
            assert row["cost"] == pytest.approx(200_000 + 2 * row["n"] * 1500)
            assert row["value"] == pytest.approx(row["pop_evsi"] - row["cost"], rel=1e-9)
        (opt,) = res["enbs_optimum"]
        if "--smooth" in argv:
            assert 100 <= opt["n_opt"] <= 1000
        else:
            best = max(res["enbs"], key=lambda row: row["value"])
            assert opt["n_opt"] == best["n"]
