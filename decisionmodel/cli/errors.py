"""How an error that reaches the top of a command is said: one line, and the exit code."""

from __future__ import annotations

import sys

from decisionmodel.exceptions import DecisionModelError


def one_line(exc: BaseException) -> str:
    """A message of one line for an error that reached the top of a command.

    Parameters
    ----------
    exc : BaseException
        The error. An input error (:class:`~decisionmodel.exceptions.DecisionModelError`)
        is said as it is; an ``OSError`` as ``FILE: what went wrong``; text that is not
        UTF-8, nesting too deep, memory, overflow and anything else (an internal error)
        each with a fixed lead.

    Returns
    -------
    str
        The message, its whitespace (newlines included) collapsed to single spaces.

    Examples
    --------
    >>> from decisionmodel.exceptions import DecisionModelError
    >>> one_line(DecisionModelError("t.yaml: bad\\n  node"))
    't.yaml: bad node'
    >>> one_line(FileNotFoundError(2, "No such file or directory", "t.yaml"))
    't.yaml: No such file or directory'
    >>> one_line(IsADirectoryError(21, "Is a directory", "trees"))
    'trees: is a directory, not a file'
    >>> one_line(KeyError("x"))
    "internal error (KeyError): 'x'"
    """
    if isinstance(exc, DecisionModelError):
        return " ".join(str(exc).split())
    if isinstance(exc, OSError):
        what = exc.strerror or type(exc).__name__
        name = exc.filename if exc.filename is not None else ""
        if isinstance(exc, IsADirectoryError):
            what = "is a directory, not a file"
        elif isinstance(exc, NotADirectoryError):
            what = "a part of the path is a file, not a directory"
        elif getattr(exc, "errno", None) == 28:
            what = "no space left on the device"
        text = f"{name}: {what}" if name else what
        if exc.filename2:
            text += f" ({exc.filename2})"
        return " ".join(text.split())
    if isinstance(exc, UnicodeError):
        return "input is not UTF-8 text: " + " ".join(str(exc).split())
    if isinstance(exc, RecursionError):
        return "input nested too deeply to be read (recursion limit reached)"
    if isinstance(exc, MemoryError):
        return "not enough memory for this input; use fewer samples or a smaller file"
    if isinstance(exc, OverflowError):
        return "a number is too large to be handled: " + " ".join(str(exc).split())
    return f"internal error ({type(exc).__name__}): " + " ".join(str(exc).split())


def quiet_broken_pipe() -> None:
    """The reader of stdout went away (``decisionmodel run ... | head``): stop quietly."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout already closed
        pass
