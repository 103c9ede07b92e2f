"""Subgroup analysis: the decision table over Fong score x RAS/BRAF status x M1a/M1b.

:func:`subgroup_table` runs the probabilistic analysis of a tree once per subgroup, with
the evidence models fitted (or read from the cache) once and the **same** parameter draws
in every subgroup (common random numbers: the same seed, the same resampling of the
posteriors; only the profile's hazard multipliers change), and tabulates for each subgroup
and willingness to pay:

``recommended``
    the policy with the highest expected net monetary benefit;
``p_ce``
    the probability that it is the most cost-effective;
``p_curative``
    the probability that one of the curative policies (the tree's ``roles.curative``) is the
    most cost-effective;
``inc_effect``, ``inc_cost``
    expected incremental QALYs and costs of the best curative policy (highest expected NMB
    among them) over the tree's reference strategy (``roles.reference``);
``curative_effect``
    expected QALYs of that curative policy;
``evpi``
    the expected value of perfect information per patient.

:func:`decisionmodel.plots.subgroup_heatmap` draws the table as a figure.

Examples
--------
>>> [(g["fong"], g["molecular"], g["m1"]) for g in default_subgroups()][:3]
[(0, 'RAS/BRAF wild-type', 'M1a'), (0, 'RAS/BRAF wild-type', 'M1b'), (0, 'RAS mutant', 'M1a')]
>>> len(default_subgroups())
36
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import networkx as nx
import pandas as pd

from decisionmodel.exceptions import DecisionModelError
from decisionmodel.rng import as_generator
from decisionmodel.tree.compile import CompiledTree, compile_tree

__all__ = ["MOLECULAR", "default_subgroups", "short_label", "subgroup_table"]

#: molecular groups: label -> (RAS, BRAF)
MOLECULAR: dict[str, tuple[str, str]] = {
    "RAS/BRAF wild-type": ("wild", "wild"),
    "RAS mutant": ("mutant", "wild"),
    "BRAF V600E": ("wild", "mutant"),
}
#: M1 category -> extrahepatic disease (M1a: liver only; M1b: liver and another organ)
M1_EXTRAHEPATIC: dict[str, bool] = {"M1a": False, "M1b": True}


def default_subgroups() -> list[dict[str, Any]]:
    """Fong score 0-5 x the three molecular groups x M1a/M1b (36 subgroups).

    Each subgroup is a dict with ``fong``, ``molecular``, ``m1``, ``covariates`` (the
    keys of the survival model's profile: ``fong``, ``ras``, ``braf``, ``extrahepatic``)
    and ``values`` (profile values of fixed parameters: ``extrahepatic`` 0/1).

    Returns
    -------
    list of dict
        In the order Fong score, molecular group (:data:`MOLECULAR`), M1 category.

    See Also
    --------
    subgroup_table : the decision in each of them.

    Examples
    --------
    >>> groups = default_subgroups()
    >>> len(groups), groups[1]["m1"], groups[1]["covariates"]
    (36, 'M1b', {'fong': 0, 'ras': 'wild', 'braf': 'wild', 'extrahepatic': True})
    """
    out = []
    for fong in range(6):
        for label, (ras, braf) in MOLECULAR.items():
            for m1, extra in M1_EXTRAHEPATIC.items():
                out.append(
                    {
                        "fong": fong,
                        "molecular": label,
                        "m1": m1,
                        "covariates": {
                            "fong": fong,
                            "ras": ras,
                            "braf": braf,
                            "extrahepatic": extra,
                        },
                        "values": {"extrahepatic": float(extra)},
                    }
                )
    return out


def subgroup_table(
    tree: nx.DiGraph | CompiledTree,
    *,
    samples: int,
    seed: int,
    wtp: Sequence[float],
    subgroups: Sequence[Mapping[str, Any]] | None = None,
    evidence: bool = True,
    posteriors: Mapping[str, Any] | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    values: Mapping[str, float] | None = None,
    say: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The decision in each subgroup (see the module docstring for the columns).

    Parameters
    ----------
    tree : networkx.DiGraph or CompiledTree
        A tree (or a tree compiled once, :func:`decisionmodel.tree.io.load_compiled`,
        evaluated as it is) with ``roles.curative`` and ``roles.reference`` and profile parameters
        linked to an evidence model's profile outputs (e.g. ``trees/crlm.yaml``).
    samples, seed, wtp
        As for :func:`decisionmodel.report.analyse`.
    subgroups : sequence of mapping, optional
        Default :func:`default_subgroups`.
    evidence : bool
        Use the evidence posteriors (default); ``False`` uses the priors, on which the
        profile parameters stay at their pooled value, so every subgroup is the same.
    posteriors, fit_kwargs
        Passed to :func:`decisionmodel.evidence.tree_draws.tree_draws`.
    values : mapping, optional
        Profile values for fixed parameters (e.g. ``{"age": 70}``), the same in every
        subgroup.
    say : callable, optional
        Receives progress messages.

    Returns
    -------
    pandas.DataFrame
        One row per subgroup and WTP.

    Raises
    ------
    DecisionModelError
        The tree declares no curative strategy or no reference.

    See Also
    --------
    default_subgroups : the subgroups used by default.
    format_subgroup_table : the table as text.
    """
    from decisionmodel.evidence.tree_draws import linked_fits, tree_draws
    from decisionmodel.report import summarise
    from decisionmodel.roles import strategy_roles
    from decisionmodel.tree.evaluate import evaluate

    if isinstance(tree, CompiledTree):
        ct, tree = tree, tree.graph
    else:
        ct = compile_tree(tree)
    roles = strategy_roles(ct)
    if not roles.curative or roles.reference is None:
        raise DecisionModelError(
            f"{ct.where}: subgroups need 'roles:' with 'curative' and 'reference' strategies"
        )
    groups = list(subgroups) if subgroups is not None else default_subgroups()
    # fitted (or read) once for all subgroups
    fits = (
        linked_fits(tree, posteriors=posteriors, fit_kwargs=fit_kwargs, say=say) if evidence else {}
    )
    rows: list[dict[str, Any]] = []
    for i, g in enumerate(groups, 1):
        params, _ = tree_draws(
            tree,
            samples,
            rng=as_generator(seed, what="seed"),
            evidence=evidence,
            covariates=g.get("covariates", {}),
            values={**dict(values or {}), **dict(g.get("values", {}))},
            posteriors=fits,
        )
        result = summarise(evaluate(ct, params), wtp)
        pols = {p["name"]: p for p in result["policies"]}
        ref = pols[roles.reference]
        curative = [p for name, p in pols.items() if name in roles.curative]
        for j, lam in enumerate(result["wtp"]):
            rec = result["recommended"][j]
            best_cur = max(curative, key=lambda p: p["nmb"][j])
            rows.append(
                {
                    **{k: v for k, v in g.items() if k not in ("covariates", "values")},
                    "wtp": lam,
                    "recommended": rec,
                    "p_ce": pols[rec]["p_cost_effective"][j],
                    "p_curative": float(sum(p["p_cost_effective"][j] for p in curative)),
                    "curative_policy": best_cur["name"],
                    "curative_effect": best_cur["effect"],
                    "inc_effect": best_cur["effect"] - ref["effect"],
                    "inc_cost": best_cur["cost"] - ref["cost"],
                    "evpi": result["evpi"][j],
                }
            )
        if say is not None and (i % 6 == 0 or i == len(groups)):
            say(f"subgroups: {i}/{len(groups)} evaluated")
    return pd.DataFrame(rows)


def short_label(name: str) -> str:
    """A short label for a policy name in a heatmap cell: the initials of the strategy and,
    for a policy of embedded decisions, of each action taken.

    Parameters
    ----------
    name : str
        A policy name, ``STRATEGY`` or ``STRATEGY [node: action; node: action]``.

    Returns
    -------
    str
        The initials (of the words that start with a letter or digit, upper case), joined
        with ``/``.

    Examples
    --------
    >>> short_label("Curative hepatectomy [peritoneal disease found: palliative procedure]")
    'CH/PP'
    >>> short_label("Systemic therapy")
    'ST'
    """

    def initials(text: str) -> str:
        return "".join(w[0].upper() for w in text.split() if w[0].isalnum())

    root, _, rest = name.partition(" [")
    actions = [part.rpartition(":")[2] for part in rest.rstrip("]").split(";") if part.strip()]
    return "/".join([initials(root), *(initials(a) for a in actions)])


#: columns of the subgroup table as printed, with their headers
_PRINTED = {
    "fong": "Fong",
    "molecular": "molecular",
    "m1": "M1",
    "wtp": "WTP",
    "recommended": "recommended",
    "p_ce": "p_ce",
    "p_curative": "p_curative",
    "inc_effect": "inc_effect",
    "inc_cost": "inc_cost",
    "evpi": "evpi",
}


def _subgroup_cells(table: pd.DataFrame) -> tuple[list[str], list[list[str]], list[str]]:
    """Headers, text rows and the key of the short policy labels."""
    headers = list(_PRINTED.values())
    rows = []
    for _, r in table.iterrows():
        rows.append(
            [
                str(r["fong"]),
                str(r["molecular"]),
                str(r["m1"]),
                f"{float(r['wtp']):,.0f}",
                short_label(str(r["recommended"])),
                *(f"{float(r[c]):,.3f}" for c in ("p_ce", "p_curative", "inc_effect")),
                *(f"{float(r[c]):,.0f}" for c in ("inc_cost", "evpi")),
            ]
        )
    names = sorted(set(table["recommended"].astype(str)))
    key = [f"{short_label(n)} = {n}" for n in names]
    return headers, rows, key


def format_subgroup_table(table: pd.DataFrame, *, width: int = 120, rich: bool = False) -> str:
    """The subgroup table as text: one row per subgroup and WTP, the recommended policy
    as its short label (keyed under the table, as on the heatmap).

    Plain (``rich=False``, for piped output) no line is longer than ``width`` bytes; with
    ``rich=True`` the table is drawn with :mod:`rich` for a terminal ``width`` wide.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`subgroup_table` returns it (the columns ``fong``, ``molecular``, ``m1``,
        ``wtp``, ``recommended``, ``p_ce``, ``p_curative``, ``inc_effect``, ``inc_cost``
        and ``evpi`` are printed).
    width : int
        The longest line (plain) or the terminal's width (rich).
    rich : bool
        Draw the table with :mod:`rich` (for a terminal) rather than as plain text.

    Returns
    -------
    str
        The table, a blank line and the key ``LABEL = policy name`` of the short labels
        (:func:`short_label`).

    See Also
    --------
    subgroup_table : the table.

    Examples
    --------
    >>> t = pd.DataFrame({"fong": [0], "molecular": ["RAS mutant"], "m1": ["M1a"],
    ...     "wtp": [1e5], "recommended": ["Systemic therapy"], "p_ce": [0.9],
    ...     "p_curative": [0.1], "inc_effect": [0.5], "inc_cost": [1000.0], "evpi": [12.0]})
    >>> print(format_subgroup_table(t))
    Fong  molecular   M1       WTP  recommended   p_ce  p_curative  inc_effect  inc_cost  evpi
    ----  ----------  ---  -------  -----------  -----  ----------  ----------  --------  ----
    0     RAS mutant  M1a  100,000  ST           0.900       0.100       0.500     1,000    12
    <BLANKLINE>
    ST = Systemic therapy
    """
    from decisionmodel.report import _wrap, plain_table, render_rich

    headers, rows, key = _subgroup_cells(table)
    if rich:
        return render_rich([], [(None, headers, rows, {0, 1, 2, 4})], key, width=width)
    lines = plain_table(headers, rows, left=(0, 1, 2, 4), width=width)
    lines.append("")
    lines.extend(x for k in key for x in _wrap(k, width, "    "))
    return "\n".join(lines)
