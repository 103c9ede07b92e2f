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
``evidence``
    ``used`` (true when posterior draws replaced linked parameters) and ``models``
    (evidence model -> ``draws``, ``from_cache``, ``cache_key``, ``parameters``: tree
    parameter -> ``MODEL.OUTPUT``).
``profile``, ``candidacy``, ``not_offered`` (only with a patient profile)
    ``profile``: the stated characteristics, ``description`` (one line) and the
    ``covariates`` passed to the survival model; ``candidacy``: ``eligible`` (bool),
    ``reasons`` and ``unknown`` (principles not stated); when the patient is not a
    candidate for curative-intent surgery, the tree's curative policies (``roles.curative``)
    are left out of ``policies``, ``recommended`` and ``evpi`` and listed in
    ``not_offered`` with their expected ``cost`` and ``effect`` (what surgery would have
    yielded) and the ``reason``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import xarray as xr

from decisionmodel.cea import decision_table, expected_loss
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
    evidence: bool = True,
    profile: Any = None,
    posteriors: Mapping[str, xr.DataTree] | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    say: Callable[[str], None] | None = None,
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
    evidence : bool
        Draw the parameters linked to evidence models (``posterior: MODEL.OUTPUT``) from
        their posteriors, fitting the models or reading them from the cache (default);
        ``False`` draws every parameter from its declared prior.
    profile : PatientProfile, optional
        A :class:`decisionmodel.clinical.profile.PatientProfile`: its survival
        covariates go to the evidence models' profile outputs, its values replace the
        parameters declared with ``profile: KEY``, and its candidacy for curative-intent
        surgery decides which policies are offered (see the module docstring).
    posteriors, fit_kwargs
        Passed to :func:`decisionmodel.evidence.tree_draws.tree_draws`.
    say : callable, optional
        Receives one-line progress messages.

    Returns
    -------
    dict
        The decision-table contract of the module docstring.
    """
    from decisionmodel.evidence.tree_draws import tree_draws
    from decisionmodel.roles import strategy_roles

    ct = compile_tree(tree, protocol)
    roles = strategy_roles(ct)
    covariates: dict[str, Any] = {}
    values: dict[str, float] = {}
    cand = None
    if profile is not None:
        from decisionmodel.clinical.candidacy import assess_candidacy
        from decisionmodel.clinical.profile import survival_covariates, tree_values

        covariates = survival_covariates(profile)
        values = tree_values(profile)
        cand = assess_candidacy(profile, roles.procedure, lung_resection=roles.lung_resection)
    params, info = tree_draws(
        tree,
        samples,
        rng=np.random.default_rng(seed),
        evidence=evidence,
        covariates=covariates,
        values=values,
        posteriors=posteriors,
        fit_kwargs=fit_kwargs,
        say=say,
    )
    if say is not None:
        say(f"evaluating {len(ct.policies)} policies on {samples:,} draws")
    outcomes = evaluate(ct, params, progress=progress)
    offered = roles.offered(True if cand is None else bool(cand.eligible))
    out = summarise(outcomes.sel(strategy=offered), wtp, samples=samples, seed=seed)
    out["tree"] = str(tree.graph.get("source_file", ""))
    out["evidence"] = {"used": bool(info["models"]), "models": info["models"]}
    if profile is not None:
        from decisionmodel.clinical.profile import describe

        out["profile"] = {
            "stated": {
                k: (list(v) if isinstance(v, tuple) else v) for k, v in profile.stated().items()
            },
            "description": describe(profile),
            "covariates": covariates,
            "values": info["profile_values"],
        }
        out["candidacy"] = {
            "eligible": bool(cand.eligible),
            "reasons": list(cand.reasons),
            "unknown": list(cand.unknown),
        }
        out["not_offered"] = [
            {
                "name": name,
                "cost": float(outcomes["cost"].sel(strategy=name).mean()),
                "effect": float(outcomes["effect"].sel(strategy=name).mean()),
                "reason": "; ".join(cand.reasons),
            }
            for name in outcomes["strategy"].values.tolist()
            if name not in offered
        ]
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
    if result.get("profile"):
        lines.append(f"Patient: {result['profile']['description']}")
    cand = result.get("candidacy")
    if cand is not None:
        if cand["eligible"]:
            lines.append("Candidate for curative-intent surgery: yes")
        else:
            lines.append(
                "Candidate for curative-intent surgery: NO — " + "; ".join(cand["reasons"])
            )
        if cand.get("unknown"):
            stated = [u.split(":")[0] for u in cand["unknown"]]
            lines.append("  not stated (assumed met): " + "; ".join(stated))
    ev = result.get("evidence")
    if ev and ev.get("used"):
        models = ", ".join(
            f"{m} ({'cache' if r.get('from_cache') else 'fitted'})" for m, r in ev["models"].items()
        )
        lines.append(f"Posterior draws from: {models}")
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
    for p in result.get("not_offered", []):
        lines.append(
            f"Not offered: {p['name']!r} (would yield {_fmt(p['effect'], 2)} {unit} "
            f"at {_fmt(p['cost'])} {cur}): {p['reason']}".replace("  ", " ")
        )
    return "\n".join(lines)
