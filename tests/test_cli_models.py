"""The command line with shipped models: TREE as a model name, ``models``, ``--priors DIR``.

No MCMC here: the evidence fits are stopped before sampling (a missing directory or area)
or replaced by a recording stand-in.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import decisionmodel.evidence.tree_draws as tree_draws_module
from decisionmodel.cli import main
from decisionmodel.exceptions import DecisionModelError
from decisionmodel.resources import models, priors_dir, trees_dir

NAMES = list(models())


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_models_lists_name_file_and_description(capsys):
    code, out, err = run_cli(capsys, "models")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"shipped models (tree files in {trees_dir()}):"
    assert len(lines) == 1 + len(NAMES)
    for line, name in zip(lines[1:], NAMES, strict=True):
        cells = line.split()
        assert cells[0] == name and cells[1] == f"{name}.yaml"
        declared = yaml.safe_load(models()[name].read_text(encoding="utf-8"))["name"]
        assert line.endswith(" ".join(declared.split()))
    assert lines[1].split()[:2] == ["crlm", "crlm.yaml"]


def test_models_json(capsys):
    code, out, _ = run_cli(capsys, "models", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [r["name"] for r in rows] == NAMES
    assert rows[0]["file"] == str(trees_dir() / "crlm.yaml")
    assert rows[-1]["description"] == "Sumatriptan vs caffeine/ergotamine for migraine (Evans 1997)"


def test_validate_a_model_by_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the repository: no trees/ here
    code, out, _ = run_cli(capsys, "validate", "crlm", "--draws", "50")
    assert code == 0
    assert out.startswith(f"{trees_dir() / 'crlm.yaml'}: valid — ")
    assert "4 policies" in out and "2 markov models" in out


def test_run_by_name_equals_run_by_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = ["--samples", "300", "--json", "-q"]
    code, out, _ = run_cli(capsys, "run", "examples/sumatriptan", *common)
    assert code == 0
    by_name = json.loads(out)
    code, out, _ = run_cli(capsys, "run", str(models()["examples/sumatriptan"]), *common)
    by_file = json.loads(out)
    assert by_name["tree"] == str(trees_dir() / "examples" / "sumatriptan.yaml")
    assert by_name["policies"] == by_file["policies"]
    assert by_name["recommended"] == ["Sumatriptan"]


def test_export_and_draw_by_name(capsys, tmp_path):
    out_yaml = tmp_path / "crlm.yaml"
    code, out, _ = run_cli(capsys, "export", "crlm", "-o", str(out_yaml))
    assert code == 0 and out == f"wrote {out_yaml}\n"
    exported = yaml.safe_load(out_yaml.read_text(encoding="utf-8"))
    assert exported["name"].startswith("Colorectal liver metastases")
    png = tmp_path / "s.png"
    code, out, _ = run_cli(capsys, "draw", "examples/sumatriptan", "-o", str(png))
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_file_in_the_working_directory_wins(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("crlm").write_text(
        "name: local\nwtp: [1]\ntree:\n  kind: decision\n  branches:\n"
        "    - {action: a, kind: terminal, effect: 1}\n"
        "    - {action: b, kind: terminal, effect: 0}\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(capsys, "validate", "crlm")
    assert code == 0
    assert out.startswith("crlm: valid — 3 nodes, 2 terminals, 2 policies")


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "nope"],
        ["subgroups", "nope"],
        ["validate", "nope"],
        ["draw", "nope", "-o", "x.png"],
        ["export", "nope", "-o", "x.yaml"],
    ],
)
def test_unknown_model_is_one_line_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err == (
        "decisionmodel: error: nope: no such file, and not a shipped model "
        f"(models: {', '.join(NAMES)}; see `decisionmodel models`)\n"
    )
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.yaml").exists()


# ----------------------------------------------------------------------------- --priors DIR


class Stop(DecisionModelError):
    """Raised by the stand-in fit_all once it has seen its arguments."""


@pytest.fixture
def recorded_fits(monkeypatch):
    """Replace the evidence fits of run/subgroups by a recorder that stops the command."""
    calls: list[tuple[list[str], dict]] = []

    def fake_fit_all(names, *args, **kwargs):
        calls.append((list(names), {**kwargs, **dict(enumerate(args))}))
        raise Stop("stopped before fitting")

    monkeypatch.setattr(tree_draws_module, "fit_all", fake_fit_all)
    return calls


@pytest.mark.parametrize("command", ["run", "subgroups"])
def test_priors_dir_is_passed_to_the_fits(command, recorded_fits, capsys, tmp_path):
    evidence = tmp_path / "my_priors"
    code, _, err = run_cli(
        capsys, command, "crlm", "--priors", str(evidence), "--jobs", "1", "--samples", "10", "-q"
    )
    assert code == 2 and err == "decisionmodel: error: stopped before fitting\n"
    (names, kwargs), *_ = recorded_fits
    assert names == ["crlm_survival", "intraoperative", "surgical_risk", "systemic_survival"]
    assert kwargs["evidence"] == str(evidence) and kwargs["jobs"] == 1


def test_without_priors_the_fits_get_the_default(recorded_fits, capsys):
    code, _, _ = run_cli(capsys, "run", "crlm", "--jobs", "1", "--samples", "10")
    assert code == 2
    (_, kwargs), *_ = recorded_fits
    assert "evidence" not in kwargs  # fit_all's default: the packaged evidence files


def test_priors_dir_that_does_not_exist(capsys, tmp_path):
    absent = tmp_path / "absent"
    code, out, err = run_cli(
        capsys,
        "run",
        "crlm",
        "--priors",
        str(absent),
        "--jobs",
        "1",
        "--cache-dir",
        str(tmp_path),
        "-q",
    )
    assert code == 2 and out == ""
    assert err == f"decisionmodel: error: {absent}: no such directory\n"


def test_priors_dir_missing_an_area(capsys, tmp_path):
    """A directory with the surgical-risk file only: the first model needing another area
    is refused before anything is sampled, naming what the directory supplied."""
    evidence = tmp_path / "partial"
    evidence.mkdir()
    (evidence / "surgical_risk.yaml").write_bytes(
        (priors_dir() / "surgical_risk.yaml").read_bytes()
    )
    code, _, err = run_cli(
        capsys,
        "run",
        "crlm",
        "--priors",
        str(evidence),
        "--jobs",
        "1",
        "--cache-dir",
        str(tmp_path / "cache"),
        "-q",
    )
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("decisionmodel: error: evidence model 'crlm_survival' reads area(s) ")
    assert "not among the evidence files supplied (surgical_risk)" in err
    assert not (tmp_path / "cache").exists()  # nothing was fitted or written


def test_priors_with_priors_only_is_refused(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", "crlm", "--priors-only", "--priors", str(tmp_path))
    assert code == 2
    assert err == (
        f"decisionmodel: error: --priors {tmp_path}: no evidence is fitted with --priors-only; "
        "pass one of the two\n"
    )


@pytest.mark.parametrize("command", ["fit", "summary", "check"])
def test_evidence_commands_read_priors_dir(command, capsys, tmp_path):
    absent = tmp_path / "absent"
    code, _, err = run_cli(
        capsys,
        "evidence",
        command,
        "--model",
        "surgical_risk",
        "--priors",
        str(absent),
        "--jobs",
        "1",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert code == 2
    assert err == f"decisionmodel: error: {absent}: no such directory\n"
