"""Option limits and output-path checks shared by the commands (decisionmodel.cliopts)."""

from __future__ import annotations

import networkx as nx
import pytest

from decisionmodel.cli import main
from decisionmodel.cliopts import (
    bytes_per_draw,
    check_draws_fit,
    check_output_path,
    check_seed,
    memory_budget_bytes,
)
from decisionmodel.exceptions import DecisionModelError
from decisionmodel.tree.io import load_tree


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_seeds_in_range(seed):
    assert check_seed(seed) == seed


@pytest.mark.parametrize("seed", [-1, 2**32, 2**64, True])
def test_seeds_out_of_range(seed):
    with pytest.raises(DecisionModelError, match="--seed"):
        check_seed(seed)


def test_output_path_checks(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "d.png").mkdir()
    assert check_output_path(tmp_path / "new" / "deep" / "x.png", "-o").name == "x.png"
    existing = tmp_path / "old.png"
    existing.write_bytes(b"keep")
    check_output_path(existing, "-o")
    assert existing.read_bytes() == b"keep"  # checked, not truncated
    for bad, why in [
        (tmp_path / "d.png", "is a directory"),
        (f"{tmp_path}/n.png/", "is a directory"),
        (tmp_path / "file.txt" / "x.png", "is a file, not a directory"),
        ("/proc/x.png", "does not accept new files"),
        ("/dev/zero", "not a regular file"),
    ]:
        with pytest.raises(DecisionModelError, match=why):
            check_output_path(bad, "-o")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png", "file.txt", "old.png"]


def test_memory_budget(monkeypatch):
    monkeypatch.delenv("DECISIONMODEL_MEMORY_MB", raising=False)
    assert memory_budget_bytes() == 4096 * 2**20
    monkeypatch.setenv("DECISIONMODEL_MEMORY_MB", "10")
    assert memory_budget_bytes() == 10 * 2**20
    tree = load_tree("trees/crlm.yaml")
    per = bytes_per_draw(tree)
    assert 800 <= per <= 10_000  # measured: about 800 bytes per draw of the default tree
    assert check_draws_fit(tree, (10 * 2**20) // per, "--samples")
    with pytest.raises(DecisionModelError, match="over the memory budget of 10 MB"):
        check_draws_fit(tree, (10 * 2**20) // per + 1, "--samples")
    assert isinstance(tree, nx.DiGraph)


def test_output_checked_before_drawing(tmp_path, capsys, monkeypatch):
    """A bad -o is reported before the figure is drawn (nothing is computed first)."""
    import decisionmodel.plots

    def fail(*args, **kwargs):
        raise AssertionError("drawn before the output path was checked")

    monkeypatch.setattr(decisionmodel.plots, "draw_tree", fail)
    (tmp_path / "file.txt").write_text("x")
    code = main(["draw", "trees/crlm.yaml", "-o", str(tmp_path / "file.txt/t.png")])
    assert code == 2
    assert "is a file, not a directory" in capsys.readouterr().err
