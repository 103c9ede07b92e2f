"""``decisionmodel validate|draw|export|models``: checking, drawing and exporting tree files,
and listing the shipped models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from decisionmodel.exceptions import DecisionModelError


def check_link_models(path: str, params: dict) -> dict[str, str]:
    """Parameter -> evidence model of every ``posterior:`` link; an unknown model is an
    error (the registry is read only when the tree has links: it imports PyMC).

    Parameters
    ----------
    path : str
        The tree file, for messages.
    params : dict
        The tree's ``parameters:`` section (name -> declaration).

    Returns
    -------
    dict of str to str
        Parameter name -> the evidence model of its ``posterior: MODEL.OUTPUT`` link, for the
        parameters that have one.

    Raises
    ------
    DecisionModelError
        A link names a model that is not in the registry
        (:data:`decisionmodel.evidence.registry.MODELS`).

    Examples
    --------
    >>> check_link_models("t.yaml", {"p": {"dist": "beta"}, "q": 0.5})
    {}
    """
    links = {
        n: s["posterior"].split(".")[0]
        for n, s in params.items()
        if isinstance(s, dict) and s.get("posterior")
    }
    if links:
        from decisionmodel.evidence.registry import MODELS

        for name, model in links.items():
            if model not in MODELS:
                raise DecisionModelError(
                    f"{path}: parameter {name!r}: unknown evidence model {model!r} "
                    f"(known: {', '.join(sorted(MODELS))})"
                )
    return links


def cmd_validate(args: argparse.Namespace) -> int:
    """``decisionmodel validate``: check a tree file against every rule and summarise it.

    Parameters
    ----------
    args : argparse.Namespace
        ``tree`` (the file), ``draws`` (prior draws on which the per-draw rules are checked;
        0: none) and ``seed`` (of those draws).

    Returns
    -------
    int
        0: the tree is valid (a summary is printed on stdout, and a warning for parameters
        without a ``source``).

    Raises
    ------
    DecisionModelError
        A negative ``--draws`` or a bad ``--seed``, a tree that breaks a rule (the error
        names the file, node and rule), too many draws for the memory budget, or a link to
        an unknown evidence model.

    See Also
    --------
    decisionmodel.tree.io.load_compiled : the rules that need no draws.
    decisionmodel.tree.validate.check_on_draws : the rules checked on draws.
    """
    from decisionmodel.cliopts import check_draws_fit, check_seed
    from decisionmodel.tree.io import load_compiled
    from decisionmodel.tree.validate import check_on_draws

    if args.draws < 0:
        raise DecisionModelError(f"--draws {args.draws}: must be at least 0")
    check_seed(args.seed)
    ct = load_compiled(args.tree, require_declared=True)  # the rules that need no draws
    tree = ct.graph
    if args.draws > 0:
        check_draws_fit(ct, args.draws, "--draws")  # memory budget, from the tree's size
        check_on_draws(ct, args.draws, args.seed)  # the per-draw rules, on the compiled tree
    params = tree.graph.get("parameters") or {}
    links = check_link_models(args.tree, params)
    unsourced = sorted(
        n for n, s in params.items() if not (isinstance(s, dict) and s.get("source"))
    )
    print(
        f"{args.tree}: valid — {tree.number_of_nodes()} nodes, {len(ct.terminals)} terminals, "
        f"{len(ct.policies)} policies, {len(params)} parameters, {len(ct.markov_models)} markov models"
    )
    if links:
        print(
            f"posterior links: {len(links)} to {', '.join(sorted(set(links.values())))} "
            "(their outputs are checked when the models are fitted)"
        )
    if unsourced:
        print(f"warning: parameters without a source: {', '.join(unsourced)}")
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    """``decisionmodel draw``: the tree as a figure.

    Parameters
    ----------
    args : argparse.Namespace
        ``tree`` (the file) and ``output`` (the figure's path; its directory is created).

    Returns
    -------
    int
        0 (``wrote PATH`` is printed on stdout).

    Raises
    ------
    DecisionModelError
        An output that is not ``.png``, ``.svg`` or ``.pdf`` or cannot be written (see
        :func:`decisionmodel.cliopts.check_output_path`), or an invalid tree.

    See Also
    --------
    cmd_export : the tree as a file rather than a figure.
    """
    from decisionmodel.cliopts import check_output_path
    from decisionmodel.plots import draw_tree
    from decisionmodel.tree.io import load_tree

    out = Path(args.output)
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise DecisionModelError(f"{out}: the figure must be .png, .svg or .pdf")
    check_output_path(args.output, "-o")
    tree = load_tree(args.tree, require_declared=True)
    fig = draw_tree(tree)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight", dpi=150)
    print(f"wrote {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``decisionmodel export``: the tree as GraphML, DOT or YAML.

    Parameters
    ----------
    args : argparse.Namespace
        ``tree`` (the file) and ``output``, whose suffix gives the format: ``.graphml``,
        ``.dot`` or ``.gv``, ``.yaml`` or ``.yml``.

    Returns
    -------
    int
        0 (``wrote PATH`` is printed on stdout).

    Raises
    ------
    DecisionModelError
        Another suffix, an output that cannot be written (see
        :func:`decisionmodel.cliopts.check_output_path`), or an invalid tree.

    See Also
    --------
    cmd_draw : the tree as a figure.
    """
    from decisionmodel.cliopts import check_output_path
    from decisionmodel.tree.io import load_tree, to_dot, to_graphml, write_tree

    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in (".graphml", ".dot", ".gv", ".yaml", ".yml"):
        raise DecisionModelError(f"{out}: export to .graphml, .dot or .yaml")
    check_output_path(args.output, "-o")
    tree = load_tree(args.tree, require_declared=True)
    if suffix == ".graphml":
        to_graphml(tree, out)
    elif suffix in (".dot", ".gv"):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_dot(tree), encoding="utf-8")
    elif suffix in (".yaml", ".yml"):
        write_tree(tree, out)
    else:
        raise DecisionModelError(f"{out}: export to .graphml, .dot or .yaml")
    print(f"wrote {out}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """``decisionmodel models``: the shipped models, as text or JSON.

    Parameters
    ----------
    args : argparse.Namespace
        ``json``: print a JSON list of ``{"name", "file", "description"}`` rather than a
        table.

    Returns
    -------
    int
        0.

    See Also
    --------
    decisionmodel.resources.describe_models : the list.
    """
    from decisionmodel.resources import describe_models, trees_dir

    infos = describe_models()
    if args.json:
        rows = [{"name": m.name, "file": str(m.path), "description": m.description} for m in infos]
        print(json.dumps(rows, indent=2))
        return 0
    root = trees_dir()
    files = [m.path.relative_to(root).as_posix() for m in infos]
    wn = max(len(m.name) for m in infos)
    wf = max(len(f) for f in files)
    print(f"shipped models (tree files in {root}):")
    for m, f in zip(infos, files, strict=True):
        print(f"  {m.name:<{wn}}  {f:<{wf}}  {m.description}")
    return 0
