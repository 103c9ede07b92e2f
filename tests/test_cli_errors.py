"""How the command line ends when something goes wrong: one line, the right exit code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from decisionmodel import cli
from decisionmodel.exceptions import TreeFileError


def _boom(exc):
    def command(args):
        raise exc

    return command


@pytest.mark.parametrize(
    "exc, code, text",
    [
        (
            TreeFileError("t.yaml: node root/a: bad\nsecond line"),
            2,
            "t.yaml: node root/a: bad second line",
        ),
        (
            FileNotFoundError(2, "No such file or directory", "x.csv"),
            2,
            "x.csv: No such file or directory",
        ),
        (IsADirectoryError(21, "Is a directory", "out"), 2, "out: is a directory, not a file"),
        (
            OSError(28, "No space left on device", "big.nc"),
            2,
            "big.nc: no space left on the device",
        ),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), 2, "not UTF-8 text"),
        (RecursionError("maximum recursion depth exceeded"), 2, "nested too deeply"),
        (MemoryError(), 2, "not enough memory"),
        (OverflowError("int too large to convert to float"), 2, "too large"),
        (ZeroDivisionError("division by zero"), 1, "internal error (ZeroDivisionError)"),
    ],
)
def test_errors_become_one_line(monkeypatch, capsys, exc, code, text):
    monkeypatch.setattr(cli.trees, "cmd_validate", _boom(exc))
    assert cli.main(["validate", "crlm"]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("decisionmodel: error: ") and text in err


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setattr(cli.trees, "cmd_validate", _boom(ZeroDivisionError("x")))
    with pytest.raises(ZeroDivisionError):
        cli.main(["validate", "crlm", "--debug"])


def test_interrupt_exits_130(monkeypatch, capsys):
    monkeypatch.setattr(cli.trees, "cmd_validate", _boom(KeyboardInterrupt()))
    assert cli.main(["validate", "crlm"]) == 130
    assert capsys.readouterr().err == "decisionmodel: interrupted\n"


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"decisionmodel {version('decisionmodel')}"


def test_a_closed_pipe_ends_quietly():
    """``decisionmodel models | true``: the reader is gone before the output is written;
    no BrokenPipeError traceback or 'Exception ignored' message, exit 141 (SIGPIPE)."""
    cmd = f"{sys.executable} -m decisionmodel.cli models | true; echo $" + "{PIPESTATUS[0]}"
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "141"
    assert out.stderr == ""


def test_a_broken_pipe_in_a_command_exits_141(monkeypatch, capsys):
    monkeypatch.setattr(cli.trees, "cmd_validate", _boom(BrokenPipeError(32, "Broken pipe")))
    monkeypatch.setattr(cli, "_quiet_broken_pipe", lambda: None)
    assert cli.main(["validate", "crlm"]) == 141
    assert capsys.readouterr().err == ""
