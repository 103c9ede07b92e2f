"""The decision table of a probabilistic analysis, as plain data and as text.

:func:`analyse` runs sample → evaluate → cost-effectiveness for a tree and returns one
JSON-serialisable dict — the documented contract that ``decisionmodel run --json``
prints (see the README):

``policies``
    list, one entry per policy in tree order, each with ``name``, ``cost``, ``effect``
    (expected values), ``nmb`` (list, expected net monetary benefit at each WTP),
    ``icer`` (number or null), ``status`` (``frontier``, ``dominated`` or
    ``extendedly dominated``), ``p_cost_effective`` (list, one per WTP).
``recommended``
    list of policy names, one per WTP (highest expected net monetary benefit).
``evpi``
    list, expected value of perfect information per person at each WTP.
``wtp``, ``samples``, ``seed``
    the willingness-to-pay values, the number of draws and the seed.
``tree``, ``name``, ``currency``, ``effect_unit``
    where the tree came from and its units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import xarray as xr

from decisionmodel.cea import decision_table, expected_loss
from decisionmodel.params import sample_parameters
from decisionmodel.tree.compile import compile_tree
from decisionmodel.tree.evaluate import evaluate


def _num(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def summarise(
    outcomes: xr.Dataset,
    wtp: Sequence[float],
    *,
    samples: int | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """The decision-table dict (see the module docstring) from evaluated outcomes.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"cost": (("strategy", "sample"), [[100.0, 100.0], [0.0, 0.0]]),
    ...                  "effect": (("strategy", "sample"), [[0.5, 1.5], [0.0, 0.0]])},
    ...                 coords={"strategy": ["new", "old"]})
    >>> r = summarise(ds, [150])
    >>> r["recommended"], r["policies"][0]["icer"], r["evpi"]
    (['new'], 100.0, [12.5])
    """
    w = [float(x) for x in np.atleast_1d(np.asarray(wtp, dtype=float))]
    table = decision_table(outcomes, w)
    loss = expected_loss(outcomes, w)
    labels = [c.split("@", 1)[1] for c in table.columns if c.startswith("nmb@")]
    policies = []
    for _, row in table.iterrows():
        policies.append(
            {
                "name": str(row["strategy"]),
                "cost": float(row["cost"]),
                "effect": float(row["effect"]),
                "nmb": [float(row[f"nmb@{lab}"]) for lab in labels],
                "icer": _num(row["icer"]),
                "status": str(row["status"]),
                "p_cost_effective": [float(row[f"p_ce@{lab}"]) for lab in labels],
            }
        )
    rec = table.attrs["recommended"]
    out: dict[str, Any] = {
        "policies": policies,
        "recommended": [rec[x] for x in w],
        "evpi": [float(v) for v in loss.min("strategy").values],
        "wtp": w,
        "samples": int(outcomes.sizes["sample"]) if samples is None else int(samples),
        "seed": seed,
    }
    for key in ("name", "currency", "effect_unit"):
        if key in outcomes.attrs:
            out[key] = outcomes.attrs[key]
    return out


def analyse(
    tree: nx.DiGraph,
    *,
    samples: int,
    seed: int,
    wtp: Sequence[float],
    protocol: Mapping[str, str] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Probabilistic analysis of a tree: draw parameters, evaluate every policy, summarise.

    Parameters
    ----------
    tree : networkx.DiGraph
    samples : int
        Number of parameter draws.
    seed : int
        Seed of ``numpy.random.default_rng``.
    wtp : sequence of float
        Willingness-to-pay values (always explicit).
    protocol : mapping, optional
        Decisions fixed by protocol (node id or label → action).
    progress : bool
        Show a progress bar while evaluating.

    Returns
    -------
    dict
        The decision-table contract of the module docstring.
    """
    ct = compile_tree(tree, protocol)
    params = sample_parameters(tree, samples, np.random.default_rng(seed))
    outcomes = evaluate(ct, params, progress=progress)
    out = summarise(outcomes, wtp, samples=samples, seed=seed)
    out["tree"] = str(tree.graph.get("source_file", ""))
    return out


def _fmt(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def _digits(values, significant: int = 4) -> int:
    """Decimals that show ``significant`` digits of the largest magnitude in a column."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    if not finite:
        return 0
    return int(min(8, max(0, significant - 1 - math.floor(math.log10(max(finite))))))


def format_table(result: Mapping[str, Any]) -> str:
    """Plain-text rendering of the decision table.

    Examples
    --------
    >>> r = {"policies": [{"name": "a", "cost": 1.0, "effect": 2.0, "nmb": [3.0], "icer": None,
    ...       "status": "frontier", "p_cost_effective": [1.0]}], "recommended": ["a"],
    ...      "evpi": [0.0], "wtp": [100.0], "samples": 10, "seed": 1}
    >>> print(format_table(r).splitlines()[0])
    Decision table — 10 draws, seed 1
    """
    cur = result.get("currency", "")
    unit = result.get("effect_unit", "QALY")
    wtp = result["wtp"]
    lines = []
    title = f"Decision table — {result['samples']} draws, seed {result['seed']}"
    if result.get("name"):
        title += f" — {result['name']}"
    lines.append(title)
    headers = [
        "policy",
        f"cost {cur}".strip(),
        unit,
        *[f"NMB @{_fmt(w)}" for w in wtp],
        f"ICER {cur}/{unit}".strip(),
        "status",
        *[f"P(CE) @{_fmt(w)}" for w in wtp],
    ]
    pols = result["policies"]
    dc = _digits([p["cost"] for p in pols])
    de = _digits([p["effect"] for p in pols])
    dn = _digits([v for p in pols for v in p["nmb"]])
    di = _digits([p["icer"] for p in pols])
    rows = []
    for p in pols:
        rows.append(
            [
                p["name"],
                _fmt(p["cost"], dc),
                _fmt(p["effect"], de),
                *[_fmt(v, dn) for v in p["nmb"]],
                _fmt(p["icer"], di),
                p["status"],
                *[f"{v:.3f}" for v in p["p_cost_effective"]],
            ]
        )
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        return "  ".join(
            str(c).ljust(widths[i])
            if i in (0, len(headers) - len(wtp) - 1)
            else str(c).rjust(widths[i])
            for i, c in enumerate(cells)
        ).rstrip()

    lines.append(line(headers))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(line(r) for r in rows)
    lines.append("")
    for w, rec, evpi in zip(wtp, result["recommended"], result["evpi"], strict=True):
        lines.append(
            f"At {_fmt(w)} {cur}/{unit}: recommended {rec!r}; EVPI {_fmt(evpi, 2)} {cur} per person".replace(
                "  ", " "
            )
        )
    return "\n".join(lines)
