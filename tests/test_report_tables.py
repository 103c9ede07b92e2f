"""Text layouts of the decision table: the plain layout of piped output fits 120 bytes a
line, the terminal layout fits the terminal, and both show every policy and number."""

from __future__ import annotations

import re

import pytest

from decisionmodel.cli import main
from decisionmodel.report import format_table, format_table_rich, plain_table

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG = "Curative hepatectomy [peritoneal disease found: palliative procedure]"


def _result(n_wtp: int = 3) -> dict:
    wtp = [50_000.0 * (i + 1) for i in range(n_wtp)]
    names = [LONG, "Curative hepatectomy [peritoneal disease found: close]", "Systemic therapy"]
    return {
        "policies": [
            {
                "name": n,
                "cost": 173_358.0 + 1000 * i,
                "effect": 4.505 - i,
                "nmb": [51_871.0 - 1e5 * i] * n_wtp,
                "icer": 270_954.0 if i == 0 else None,
                "status": ["frontier", "extendedly dominated", "dominated"][i],
                "p_cost_effective": [0.5 - 0.2 * i] * n_wtp,
            }
            for i, n in enumerate(names)
        ],
        "recommended": [LONG] * n_wtp,
        "evpi": [161.23] * n_wtp,
        "wtp": wtp,
        "samples": 10_000,
        "seed": 20261127,
        "name": "Colorectal liver metastases: curative hepatectomy vs palliative surgery vs "
        "systemic therapy",
        "currency": "USD",
        "effect_unit": "QALY",
    }


@pytest.mark.parametrize("n_wtp", [1, 3, 8])
def test_plain_layout_fits_120_bytes(n_wtp):
    text = format_table(_result(n_wtp))
    assert max(len(line.encode("utf-8")) for line in text.splitlines()) <= 120
    for word in ("palliative procedure]", "Systemic therapy", "270,954", "extendedly dominated"):
        assert word in text
    assert text.count("0.500") == n_wtp  # every P(CE) shown once


def test_plain_layout_keeps_a_small_table_whole():
    r = _result(1)
    r["policies"] = r["policies"][2:]
    lines = format_table(r).splitlines()
    assert sum(1 for line in lines if line.startswith("policy")) == 1


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_rich_layout_fits_the_terminal(width):
    text = ANSI.sub("", format_table_rich(_result(3), width=width))
    assert max(len(line) for line in text.splitlines()) <= width
    flat = " ".join(text.split())
    assert "[peritoneal disease found: palliative procedure]" in flat  # not read as markup
    assert "270,954" in text


def test_plain_table_wraps_names_and_splits_columns():
    lines = plain_table(
        ["name", *[f"c{i}" for i in range(30)]],
        [["a b c d e f g h", *["123456"] * 30]],
        width=60,
        name_width=5,
    )
    assert max(len(x) for x in lines) <= 60
    assert sum(1 for x in lines if x.startswith("name")) > 1  # split into several tables


def test_default_model_piped_output_fits_120_columns(capsys):
    """``decisionmodel run trees/crlm.yaml -q | awk '{print length}'`` <= 120 (priors only)."""
    code = main(["run", "trees/crlm.yaml", "-q", "--priors-only", "--samples", "300"])
    out = capsys.readouterr().out
    assert code == 0
    assert max(len(line.encode("utf-8")) for line in out.splitlines()) <= 120
    assert "recommended" in out and "EVPI" in out


def test_subgroup_piped_output_fits_120_columns(capsys):
    code = main(["subgroups", "trees/crlm.yaml", "-q", "--priors-only", "--samples", "200"])
    out = capsys.readouterr().out
    assert code == 0
    assert max(len(line.encode("utf-8")) for line in out.splitlines()) <= 120
    assert "CH/C = Curative hepatectomy [peritoneal disease found: close]" in out


def test_plain_layout_fits_with_patient_evidence_and_not_offered_lines():
    r = _result(3)
    r["profile"] = {"description": "Fong score 3 (high risk); BRAF mutant; " * 5}
    r["candidacy"] = {
        "eligible": False,
        "reasons": ["performance status ECOG 3: not fit for major surgery"] * 4,
        "unknown": ["staging complete: not stated"] * 6,
    }
    r["evidence"] = {
        "used": True,
        "models": {
            m: {"from_cache": 1}
            for m in ("crlm_survival", "systemic_survival", "surgical_risk", "intraoperative")
        },
    }
    r["not_offered"] = [{"name": LONG, "cost": 168_138.0, "effect": 4.17, "reason": "x " * 80}]
    text = format_table(r)
    assert max(len(line.encode("utf-8")) for line in text.splitlines()) <= 120
    assert "Posterior draws from: crlm_survival (cache)" in text
    assert "Not offered: 'Curative hepatectomy" in text
