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
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, cast

import networkx as nx
import xarray as xr

from decisionmodel.cea import batch_dims, summary
from decisionmodel.exceptions import CEAInputError
from decisionmodel.rng import as_generator
from decisionmodel.tree.compile import CompiledTree, compile_tree
from decisionmodel.tree.evaluate import evaluate

#: the candidacy rules a tree's ``roles.procedure`` names
Procedure = Literal["hepatectomy", "lung", "crs"]


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
    """The decision-table dict (see the module docstring) from evaluated outcomes: a
    rendering of :func:`decisionmodel.cea.summary`, which computes every number once.

    Parameters
    ----------
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over (``strategy``, ``sample``).
    wtp : sequence of float
        Willingness-to-pay values.
    samples : int, optional
        The number of draws to record (default: the outcomes' sample size).
    seed : int, optional
        The seed to record.

    Returns
    -------
    dict
        The decision-table contract: ``policies`` (name, cost, effect, nmb, icer, status,
        p_cost_effective), ``recommended``, ``evpi``, ``wtp``, ``samples``, ``seed`` and
        the outcomes' unit attributes. Outcomes with batch dimensions
        (:func:`decisionmodel.cea.batch_dims`, e.g. ``scenario``) give ``{"dims": [...],
        "coords": {dim: [labels]}, "results": [...]}``: one decision-table dict per cell,
        in row-major order of the dims (a dim without a coordinate is labelled 0, 1, ...).
        A ``wtp`` batch dimension is refused (per-policy costs would differ by WTP; use
        :func:`decisionmodel.cea.summary`).

    Raises
    ------
    CEAInputError
        Malformed outcomes or WTP, or a ``wtp`` batch dimension.

    See Also
    --------
    decisionmodel.cea.summary : the same numbers as a labelled Dataset.
    format_table : the dict as plain text.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"cost": (("strategy", "sample"), [[100.0, 100.0], [0.0, 0.0]]),
    ...                  "effect": (("strategy", "sample"), [[0.5, 1.5], [0.0, 0.0]])},
    ...                 coords={"strategy": ["new", "old"]})
    >>> r = summarise(ds, [150])
    >>> r["recommended"], r["policies"][0]["icer"], r["evpi"]
    (['new'], 100.0, [12.5])

    Outcomes with batch dimensions (here ``scenario``) give one decision table per cell:

    >>> both = xr.concat([ds, ds * 2], dim="scenario").assign_coords(scenario=["a", "b"])
    >>> r = summarise(both, [150])
    >>> r["dims"], r["coords"], [t["evpi"] for t in r["results"]]
    (['scenario'], {'scenario': ['a', 'b']}, [[12.5], [25.0]])
    """
    if dims := batch_dims(outcomes):
        return _summarise_batches(outcomes, wtp, dims, samples=samples, seed=seed)
    s = summary(outcomes, wtp)
    policies = [
        {
            "name": name,
            "cost": float(s["cost"].values[i]),
            "effect": float(s["effect"].values[i]),
            "nmb": [float(v) for v in s["nmb"].values[:, i]],
            "icer": _num(s["icer"].values[i]),
            "status": str(s["status"].values[i]),
            "p_cost_effective": [float(v) for v in s["p_ce"].values[:, i]],
        }
        for i, name in enumerate(s["strategy"].values.tolist())
    ]
    out: dict[str, Any] = {
        "policies": policies,
        "recommended": [str(r) for r in s["recommended"].values],
        "evpi": [float(v) for v in s["evpi"].values],
        "wtp": [float(x) for x in s["wtp"].values],
        "samples": int(outcomes.sizes["sample"]) if samples is None else int(samples),
        "seed": seed,
    }
    out.update(s.attrs)
    return out


def _summarise_batches(
    outcomes: xr.Dataset,
    wtp: Sequence[float],
    dims: Sequence[str],
    *,
    samples: int | None,
    seed: int | None,
) -> dict[str, Any]:
    """:func:`summarise` per cell of the batch ``dims``, in row-major order."""
    import itertools

    if "wtp" in dims:
        raise CEAInputError(
            "summarise: outcomes with a 'wtp' dimension have WTP-dependent costs and "
            "effects; use decisionmodel.cea.summary"
        )
    coords = {
        d: (
            [v.item() if hasattr(v, "item") else v for v in outcomes[d].values]
            if d in outcomes.coords
            else list(range(outcomes.sizes[d]))
        )
        for d in dims
    }
    results = []
    for cell in itertools.product(*(range(outcomes.sizes[d]) for d in dims)):
        sub = outcomes[["cost", "effect"]].isel(dict(zip(dims, cell, strict=True)), drop=True)
        sub.attrs = dict(outcomes.attrs)
        results.append(summarise(sub, wtp, samples=samples, seed=seed))
    return {"dims": list(dims), "coords": coords, "results": results}


def analyse(
    tree: nx.DiGraph | CompiledTree,
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
    export: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Probabilistic analysis of a tree: draw parameters, evaluate every policy, summarise.

    Parameters
    ----------
    tree : networkx.DiGraph or CompiledTree
        A tree, or a tree compiled once (:func:`decisionmodel.tree.io.load_compiled`),
        which is evaluated as it is (compiled with ``protocol`` when one is given).
    samples : int
        Number of parameter draws.
    seed : int
        The seed (a non-negative int, recorded in the result; see :mod:`decisionmodel.rng`).
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
    export : path, optional
        A directory to write the probabilistic sensitivity analysis to (the parameter
        draws and the costs, effects and net benefits of the offered policies, as CSV
        files in the layouts of BCEA, voi and SAVI; see
        :func:`decisionmodel.psa_export.write_psa`).

    Returns
    -------
    dict
        The decision-table contract of the module docstring.
    """
    from decisionmodel.evidence.tree_draws import tree_draws
    from decisionmodel.roles import strategy_roles

    if isinstance(tree, CompiledTree):
        ct = compile_tree(tree.graph, protocol) if protocol else tree
        tree = tree.graph
    else:
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
        cand = assess_candidacy(
            profile, cast(Procedure, roles.procedure), lung_resection=roles.lung_resection
        )
    params, info = tree_draws(
        tree,
        samples,
        rng=as_generator(seed, what="seed"),
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
    if export is not None:
        from decisionmodel.psa_export import write_psa

        write_psa(export, params, outcomes.sel(strategy=offered), wtp, meta=out)
    if profile is not None and cand is not None:
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


#: width of the plain layout (piped or redirected output)
PLAIN_WIDTH = 120
#: longest line of a policy name in a table; longer names wrap at word boundaries
NAME_WIDTH = 40


def _blen(text: str) -> int:
    """Length in bytes (UTF-8), which ``awk '{print length}'`` measures in a C locale."""
    return len(text.encode("utf-8"))


def _wrap(text: str, width: int, indent: str = "  ") -> list[str]:
    """``text`` wrapped to ``width`` bytes at spaces (never inside a word)."""
    import textwrap

    w = width
    while True:
        lines = textwrap.wrap(
            text,
            width=w,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
        if w <= 20 or all(_blen(x) <= width for x in lines):
            return lines
        w -= 2


def _column_groups(key: int, widths: Sequence[int], width: int, gap: int = 2) -> list[list[int]]:
    """Split columns (their ``widths``) into groups that fit ``width`` beside a key column
    of width ``key``; each group keeps at least one column.

    Examples
    --------
    >>> _column_groups(10, [5, 5, 5], 30)
    [[0, 1], [2]]
    """
    groups: list[list[int]] = [[]]
    used = key
    for j, w in enumerate(widths):
        if groups[-1] and used + gap + w > width:
            groups.append([])
            used = key
        groups[-1].append(j)
        used += gap + w
    return groups


def plain_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    left: Sequence[int] = (0,),
    width: int = PLAIN_WIDTH,
    name_width: int = NAME_WIDTH,
    indent: str = "",
) -> list[str]:
    r"""Lines of a plain-text table no longer than ``width`` bytes.

    Column 0 is the key (a name): it wraps at word boundaries to at most ``name_width``
    characters. Headers may hold line breaks (``"NMB\n@50,000"``; bottom-aligned). When
    the other columns do not fit beside the key they are split into several tables, each
    repeating the key column. Columns in ``left`` are left-aligned, the others (numbers)
    right-aligned.

    Parameters
    ----------
    headers : sequence of str
        Column headers (may contain line breaks).
    rows : sequence of sequence of str
        The cells, already formatted.
    left : sequence of int
        Columns aligned left (default the key column only).
    width : int
        Largest line length in bytes.
    name_width : int
        Largest width of the key column before it wraps.
    indent : str
        Prefix of every line.

    Returns
    -------
    list of str
        The lines, tables separated by an empty line.

    Examples
    --------
    >>> print("\n".join(plain_table(["policy", "cost\nUSD"], [["a long name", "1"]],
    ...                             name_width=6)))
            cost
    policy   USD
    ------  ----
    a long     1
      name
    """
    wrapped = [_wrap(str(r[0]), name_width) for r in rows]
    head = [h.split("\n") for h in headers]
    depth = max(len(h) for h in head)
    head = [[""] * (depth - len(h)) + h for h in head]
    cells = [[names[0], *map(str, r[1:])] for r, names in zip(rows, wrapped, strict=True)]
    key = max([*(len(x) for x in head[0]), *(len(x) for w in wrapped for x in w)])
    widths = [
        max([*(len(x) for x in head[j]), *(len(c[j]) for c in cells)]) for j in range(len(headers))
    ]
    extra = [
        max([*(_blen(x) - len(x) for x in head[j]), *(_blen(c[j]) - len(c[j]) for c in cells)])
        for j in range(len(headers))
    ]
    budget = [w + e for w, e in zip(widths, extra, strict=True)]
    groups = _column_groups(_blen(indent) + key + extra[0], budget[1:], width)
    out: list[str] = []
    for gi, group in enumerate(groups):
        cols = [0, *(j + 1 for j in group)]

        def line(parts_in: Sequence[str], cols: Sequence[int] = cols) -> str:
            parts = []
            for c, j in zip(parts_in, cols, strict=True):
                w = key if j == 0 else widths[j]
                parts.append(c.ljust(w) if j in left else c.rjust(w))
            return (indent + "  ".join(parts)).rstrip()

        if gi:
            out.append("")
        for d in range(depth):
            out.append(line([head[j][d] for j in cols]))
        out.append(indent + "  ".join("-" * (key if j == 0 else widths[j]) for j in cols))
        for c, names in zip(cells, wrapped, strict=True):
            out.append(line([c[j] for j in cols]))
            out.extend(line([more, *([""] * (len(cols) - 1))]) for more in names[1:])
    return out


def _cells(result: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Headers and text cells of the decision table (one row per policy)."""
    cur = result.get("currency", "")
    unit = result.get("effect_unit", "QALY")
    wtp = result["wtp"]
    headers = [
        "policy",
        f"cost\n{cur}".strip(),
        unit,
        *[f"NMB\n@{_fmt(w)}" for w in wtp],
        f"ICER\n{cur}/{unit}".strip(),
        "status",
        *[f"P(CE)\n@{_fmt(w)}" for w in wtp],
    ]
    pols = result["policies"]
    dc = _digits([p["cost"] for p in pols])
    de = _digits([p["effect"] for p in pols])
    dn = _digits([v for p in pols for v in p["nmb"]])
    di = _digits([p["icer"] for p in pols])
    rows = [
        [
            p["name"],
            _fmt(p["cost"], dc),
            _fmt(p["effect"], de),
            *[_fmt(v, dn) for v in p["nmb"]],
            _fmt(p["icer"], di),
            p["status"],
            *[f"{v:.3f}" for v in p["p_cost_effective"]],
        ]
        for p in pols
    ]
    return headers, rows


def _split_layout(
    headers: list[str], rows: list[list[str]], n_wtp: int
) -> tuple[tuple[list[str], list[list[str]]], tuple[list[str], list[list[str]]]]:
    """The decision table as two tables: costs, effects, ICER and status; then net
    monetary benefit and P(CE) side by side for each WTP."""
    k = n_wtp
    first = [0, 1, 2, 3 + k, 4 + k]
    second = [0, *(j for i in range(k) for j in (3 + i, 5 + k + i))]
    return (
        ([headers[j] for j in first], [[r[j] for j in first] for r in rows]),
        ([headers[j] for j in second], [[r[j] for j in second] for r in rows]),
    )


def _text_lines(result: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The lines above the table (title, patient, candidacy, evidence) and below it
    (recommendations, EVPI, policies not offered), unwrapped."""
    cur = result.get("currency", "")
    unit = result.get("effect_unit", "QALY")
    head = []
    title = f"Decision table — {result['samples']} draws, seed {result['seed']}"
    if result.get("name"):
        if _blen(title) + _blen(result["name"]) + 5 <= PLAIN_WIDTH:
            title += f" — {result['name']}"
        else:
            head.append(title)
            title = str(result["name"])
    head.append(title)
    if result.get("profile"):
        head.append(f"Patient: {result['profile']['description']}")
    cand = result.get("candidacy")
    if cand is not None:
        if cand["eligible"]:
            head.append("Candidate for curative-intent surgery: yes")
        else:
            head.append("Candidate for curative-intent surgery: NO — " + "; ".join(cand["reasons"]))
        if cand.get("unknown"):
            stated = [u.split(":")[0] for u in cand["unknown"]]
            head.append("  not stated (assumed met): " + "; ".join(stated))
    ev = result.get("evidence")
    if ev and ev.get("used"):
        models = ", ".join(
            f"{m} ({'cache' if r.get('from_cache') else 'fitted'})" for m, r in ev["models"].items()
        )
        head.append(f"Posterior draws from: {models}")
    tail = []
    for w, rec, evpi in zip(result["wtp"], result["recommended"], result["evpi"], strict=True):
        tail.append(
            f"At {_fmt(w)} {cur}/{unit}: recommended {rec!r}; EVPI {_fmt(evpi, 2)} {cur} per person".replace(
                "  ", " "
            )
        )
    for p in result.get("not_offered", []):
        tail.append(
            f"Not offered: {p['name']!r} (would yield {_fmt(p['effect'], 2)} {unit} "
            f"at {_fmt(p['cost'])} {cur}): {p['reason']}".replace("  ", " ")
        )
    return head, tail


def format_table(result: Mapping[str, Any], *, width: int = PLAIN_WIDTH) -> str:
    """Plain-text rendering of the decision table, no line wider than ``width``.

    The whole table when it fits; else two tables (costs, effects, ICER and status; then
    the net monetary benefit and the probability of being cost-effective at each WTP,
    split further if need be). Long policy names wrap at word boundaries. This is what
    ``decisionmodel run`` prints when its output is piped or redirected; on a terminal
    :func:`format_table_rich` fits the terminal instead.

    Parameters
    ----------
    result : mapping
        A decision table (:func:`analyse` or :func:`summarise`).
    width : int
        Largest line width.

    Returns
    -------
    str
        The table, ending without a newline.

    See Also
    --------
    format_table_rich : the same for a terminal.

    Examples
    --------
    >>> r = {"policies": [{"name": "a", "cost": 1.0, "effect": 2.0, "nmb": [3.0], "icer": None,
    ...       "status": "frontier", "p_cost_effective": [1.0]}], "recommended": ["a"],
    ...      "evpi": [0.0], "wtp": [100.0], "samples": 10, "seed": 1}
    >>> print(format_table(r).splitlines()[0])
    Decision table — 10 draws, seed 1
    """
    head, tail = _text_lines(result)
    lines = [x for text in head for x in _wrap(text, width, "    ")]
    headers, rows = _cells(result)
    n_wtp = len(result["wtp"])
    status_col = len(headers) - n_wtp - 1
    whole = plain_table(headers, rows, left=(0, status_col), width=width)
    if "" not in whole:  # one table: it fits
        lines.extend(whole)
    else:
        (h1, r1), (h2, r2) = _split_layout(headers, rows, n_wtp)
        lines.extend(plain_table(h1, r1, left=(0, 4), width=width))
        lines.append("")
        cur = result.get("currency", "")
        unit = result.get("effect_unit", "QALY")
        lines.extend(
            _wrap(
                f"Net monetary benefit ({cur}) and probability of being cost-effective (P(CE)) "
                f"at each willingness to pay ({cur}/{unit})".replace(" ()", ""),
                width,
            )
        )
        lines.extend(plain_table(h2, r2, width=width))
    lines.append("")
    lines.extend(x for text in tail for x in _wrap(text, width, "    "))
    return "\n".join(lines)


def format_table_rich(result: Mapping[str, Any], *, width: int) -> str:
    """The decision table for a terminal ``width`` columns wide, drawn with :mod:`rich`
    (ANSI styles included): policy names wrap, headers break over two lines, and when the
    columns do not fit the WTP columns move to a second table.

    Parameters
    ----------
    result : mapping
        A decision table (:func:`analyse` or :func:`summarise`).
    width : int
        The terminal's width in columns.

    Returns
    -------
    str
        The text with ANSI styles.

    See Also
    --------
    format_table : the plain layout, for pipes and files.

    Examples
    --------
    >>> r = {"policies": [{"name": "a", "cost": 1.0, "effect": 2.0, "nmb": [3.0], "icer": None,
    ...       "status": "frontier", "p_cost_effective": [1.0]}], "recommended": ["a"],
    ...      "evpi": [0.0], "wtp": [100.0], "samples": 10, "seed": 1}
    >>> text = format_table_rich(r, width=60)
    >>> "Decision table" in text and "frontier" in text
    True
    """
    head, tail = _text_lines(result)
    headers, rows = _cells(result)
    n_wtp = len(result["wtp"])
    status_col = len(headers) - n_wtp - 1
    tables: list[tuple[str | None, list[str], list[list[str]], set[int]]] = []
    # each column needs its longest cell or half its header (headers break at spaces)
    need = sum(
        max(max((len(r[j]) for r in rows), default=0), (len(headers[j]) + 1) // 2) + 3
        for j in range(1, len(headers))
    )
    if need + 16 <= width:
        tables.append((None, headers, rows, {0, status_col}))
    else:
        (h1, r1), (h2, r2) = _split_layout(headers, rows, n_wtp)
        tables.append((None, h1, r1, {0, 4}))
        tables.append(("Net monetary benefit and P(cost-effective) by WTP", h2, r2, {0}))
    return render_rich(head, tables, tail, width=width)


def render_rich(
    head: Sequence[str],
    tables: Sequence[tuple[str | None, Sequence[str], Sequence[Sequence[str]], set[int]]],
    tail: Sequence[str],
    *,
    width: int,
) -> str:
    """Text lines and tables (title, headers, rows, left-aligned columns) rendered by
    :mod:`rich` for a terminal ``width`` wide; returns the text with ANSI styles.

    Parameters
    ----------
    head : sequence of str
        Lines before the tables.
    tables : sequence of tuple
        Per table: its title (or None), headers, rows of cells and the set of columns
        aligned left.
    tail : sequence of str
        Lines after the tables.
    width : int
        The terminal's width in columns.

    Returns
    -------
    str
        The rendered text with ANSI styles.
    """
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=max(width, 20),
        force_terminal=True,
        color_system="standard",
        highlight=False,
    )
    for i, text in enumerate(head):
        console.print(text, style="bold" if i == 0 else None, markup=False)
    for ti, (title, headers, rows, left) in enumerate(tables):
        if ti:
            console.print()
        table = Table(
            title=Text(title) if title else None,
            title_justify="left",
            header_style="bold",
            box=None,
        )
        for j, h in enumerate(headers):
            table.add_column(
                Text(h),
                justify="left" if j in left else "right",
                overflow="fold",
                no_wrap=j not in left and j != 0,
                ratio=2 if j == 0 else None,
                min_width=10 if j == 0 else None,
            )
        for r in rows:
            table.add_row(*(Text(str(c)) for c in r))  # no markup
        console.print(table)
    if tail:
        console.print()
    for text in tail:
        console.print(text, markup=False)
    return buf.getvalue().rstrip("\n")
