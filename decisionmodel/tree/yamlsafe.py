"""Reading YAML input files safely and within bounds (tree files and profile files).

A file is read with :func:`load_yaml`, which

* reads at most :data:`MAX_BYTES` (+1) bytes, so an oversized file, ``/dev/zero`` or a
  pipe cannot exhaust memory;
* decodes UTF-8 strictly;
* scans the YAML events (libyaml when available) before anything is constructed and
  refuses nesting deeper than :data:`MAX_DEPTH`, documents that expand to more than
  :data:`MAX_NODES` nodes when every alias is counted each time it is used ("billion
  laughs", merge-key bombs), aliases that refer to the node containing them (cycles),
  and more than one document;
* constructs the document with a safe loader (``yaml.CSafeLoader`` when libyaml is
  available) that also rejects duplicate keys; no tag outside the YAML core schema is
  accepted, so nothing in a file is ever executed.

Every failure raises the error class the caller passes (e.g.
:class:`~decisionmodel.exceptions.TreeFileError`), with the file name in the message.

Examples
--------
>>> from decisionmodel.exceptions import TreeFileError
>>> loads_yaml("a: 1\\nb: [x, y]\\n", "t.yaml", TreeFileError)
{'a': 1, 'b': ['x', 'y']}
>>> loads_yaml("a: 1\\na: 2\\n", "t.yaml", TreeFileError)
Traceback (most recent call last):
...
decisionmodel.exceptions.TreeFileError: t.yaml: not valid YAML at line 2, column 1: duplicate key 'a'
>>> loads_yaml("a: &x [1, *x]\\n", "t.yaml", TreeFileError)
Traceback (most recent call last):
...
decisionmodel.exceptions.TreeFileError: t.yaml: line 1: alias *x refers to a node that contains it (a cycle)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from decisionmodel.exceptions import DecisionModelError

#: largest input file read, in bytes
MAX_BYTES = 50 * 1024 * 1024
#: deepest nesting of YAML collections (aliases count at the depth they are used)
MAX_DEPTH = 200
#: most YAML nodes in a document, every alias counted with the size of its target
MAX_NODES = 1_000_000

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BaseLoader):
    """The safe loader (libyaml's ``CSafeLoader`` when available) rejecting duplicate keys."""


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys merged in with '<<' may be overridden
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key: construct_mapping reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_text(path: str | os.PathLike, error: type[DecisionModelError], what: str = "file") -> str:
    """The UTF-8 text of a file of at most :data:`MAX_BYTES` bytes.

    Parameters
    ----------
    path : path-like
        The file.
    error : type
        The :class:`~decisionmodel.exceptions.DecisionModelError` subclass to raise.
    what : str
        What the file is, for messages (``"tree file"``, ``"profile file"``).

    Returns
    -------
    str

    Raises
    ------
    error
        Missing, a directory, unreadable, larger than the limit, or not UTF-8.

    See Also
    --------
    load_yaml : the text, parsed.

    Examples
    --------
    >>> from decisionmodel.exceptions import TreeFileError
    >>> read_text("no/such.yaml", TreeFileError, "tree file")
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.TreeFileError: no/such.yaml: no such file (cannot read the tree file)
    """
    p = Path(path)
    limit_mb = MAX_BYTES // (1024 * 1024)
    try:
        with open(p, "rb") as fh:
            info = os.fstat(fh.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise error(f"{p}: is a directory, not a {what}")
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_BYTES:
                raise error(f"{p}: the {what} is larger than {limit_mb} MB")
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise error(f"{p}: no such file (cannot read the {what})") from None
    except IsADirectoryError:
        raise error(f"{p}: is a directory, not a {what}") from None
    except OSError as exc:
        raise error(f"{p}: cannot read the {what} ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise error(f"{p}: the {what} is larger than {limit_mb} MB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{p}: the {what} is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def _yaml_error(exc: yaml.YAMLError, where: str, error: type[DecisionModelError]) -> Exception:
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["error"])[0]
    return error(f"{where}: not valid YAML{at}: {problem}")


def check_bounds(text: str, where: str, error: type[DecisionModelError]) -> None:
    """Refuse deep nesting, alias bombs, alias cycles and several documents, from the events
    alone (nothing is composed or constructed).

    The first step of :func:`loads_yaml`; a reader that constructs the document itself (with
    :class:`StrictLoader`, to word its own messages for duplicate keys) calls it first.

    Parameters
    ----------
    text : str
        The YAML text.
    where : str
        The file name, for messages.
    error : type
        The :class:`~decisionmodel.exceptions.DecisionModelError` subclass to raise.

    Raises
    ------
    error
        Nesting deeper than :data:`MAX_DEPTH`, more than :data:`MAX_NODES` nodes with
        aliases expanded, an alias cycle, several documents, or a YAML syntax error
        (``"not valid YAML at line L, column C: ..."``).

    Examples
    --------
    >>> from decisionmodel.exceptions import TreeFileError
    >>> check_bounds("a: [1, 2]\\n", "t.yaml", TreeFileError)
    >>> check_bounds("a: 1\\n---\\nb: 2\\n", "t.yaml", TreeFileError)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.TreeFileError: t.yaml: line 2: more than one YAML document in the file
    """
    loader = _BaseLoader(text)
    total = 0
    documents = 0
    # per open collection: [anchor, nodes before it, its depth, deepest depth inside]
    stack: list[list[Any]] = []
    size: dict[str, int] = {}  # anchor -> nodes of its target (aliases expanded)
    height: dict[str, int] = {}  # anchor -> levels of its target (0 for a scalar)
    open_anchors: set[str] = set()

    def line(event: Any) -> str:
        mark = getattr(event, "start_mark", None)
        return f"line {mark.line + 1}: " if mark is not None else ""

    try:
        while loader.check_event():
            event = loader.get_event()
            depth = len(stack)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise error(f"{where}: {line(event)}more than one YAML document in the file")
                continue
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                total += 1
                if depth + 1 > MAX_DEPTH:
                    raise error(f"{where}: {line(event)}nested deeper than {MAX_DEPTH} levels")
                stack.append([event.anchor, total, depth + 1, depth + 1])
                if event.anchor is not None:
                    open_anchors.add(event.anchor)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, start, level, deepest = stack.pop()
                if stack:
                    stack[-1][3] = max(stack[-1][3], deepest)
                if anchor is not None:
                    size[anchor] = total - start + 1
                    height[anchor] = deepest - level + 1
                    open_anchors.discard(anchor)
                continue
            elif isinstance(event, yaml.ScalarEvent):
                total += 1
                if event.anchor is not None:
                    size[event.anchor] = 1
                    height[event.anchor] = 0
            elif isinstance(event, yaml.AliasEvent):
                anchor = event.anchor
                assert anchor is not None  # the parser names the anchor of every alias
                if anchor in open_anchors:
                    raise error(
                        f"{where}: {line(event)}alias *{anchor} refers to a node that contains "
                        "it (a cycle)"
                    )
                total += size.get(anchor, 1)
                reach = depth + height.get(anchor, 0)
                if reach > MAX_DEPTH:
                    raise error(
                        f"{where}: {line(event)}alias *{anchor} nests the document deeper than "
                        f"{MAX_DEPTH} levels"
                    )
                if stack:
                    stack[-1][3] = max(stack[-1][3], reach)
            else:
                continue
            if total > MAX_NODES:
                raise error(
                    f"{where}: {line(event)}the document expands to more than {MAX_NODES:,} "
                    "YAML nodes (aliases counted each time they are used)"
                )
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, where, error) from None
    finally:
        loader.dispose()


def loads_yaml(text: str, where: str, error: type[DecisionModelError]) -> Any:
    """Parse YAML text within the bounds of this module (see the module docstring).

    Parameters
    ----------
    text : str
        The YAML text.
    where : str
        The file name, for messages.
    error : type
        The :class:`~decisionmodel.exceptions.DecisionModelError` subclass to raise.

    Returns
    -------
    object
        The document (``None`` for an empty one).

    Raises
    ------
    error
        As :func:`check_bounds`, and a duplicate key, a tag outside the safe schema or
        another YAML error (``"not valid YAML at line L, column C: ..."``).

    See Also
    --------
    load_yaml : the same, from a file.

    Examples
    --------
    >>> from decisionmodel.exceptions import TreeFileError
    >>> loads_yaml("a: [1, 2]\\n", "t.yaml", TreeFileError)
    {'a': [1, 2]}
    >>> loads_yaml("a: 1\\na: 2\\n", "t.yaml", TreeFileError)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.TreeFileError: t.yaml: not valid YAML at line 2, column 1: duplicate key 'a'
    """
    check_bounds(text, where, error)
    try:
        return yaml.load(text, Loader=StrictLoader)  # a safe loader: never constructs objects
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, where, error) from None


def load_yaml(path: str | os.PathLike, error: type[DecisionModelError], what: str = "file") -> Any:
    """Read and parse a YAML file within bounds: :func:`read_text`, then :func:`loads_yaml`.

    Parameters
    ----------
    path : path-like
        The file.
    error : type
        The :class:`~decisionmodel.exceptions.DecisionModelError` subclass to raise.
    what : str
        What the file is, for messages (``"tree file"``, ``"profile file"``).

    Returns
    -------
    object
        The document (``None`` for an empty file).

    Raises
    ------
    error
        As :func:`read_text` and :func:`loads_yaml`; messages name the file.

    See Also
    --------
    read_text, loads_yaml
    """
    return loads_yaml(read_text(path, error, what), str(path), error)
