"""Markov cohort (state-transition) models at terminal nodes, vectorised over draws.

A tree file declares models under ``markov:``; a terminal node hands its cohort to one
with ``markov: {model: NAME, start: {STATE: quantity, ...}, with: {NAME: quantity}}``
(``start`` defaults to everyone in the first state; ``with`` binds names the model's
formulas use, e.g. a hazard ratio that differs between terminals). A model::

    markov:
      crlm_tail:
        states: [disease_free, recurrence, dead]
        cycle_length: 1/12           # years per cycle (a quantity)
        cycles: 240                  # horizon in cycles
        discount: {cost: 0.035, effect: 0.035}   # annual rates
        correction: half-cycle       # none | start | half-cycle (= trapezoid)
        transitions:                 # from-state -> {to-state: probability per cycle}
          disease_free: {recurrence: "rate_to_prob(lam * hr, cycle_length)",
                         dead: p_bg, disease_free: "#"}
          recurrence:   {dead: "rate_to_prob(lam_rec, cycle_length)", recurrence: "#"}
          dead:         {dead: 1}
        state_cost:   {recurrence: c_chemo_year * cycle_length}   # per cycle
        state_effect: {disease_free: u_df * cycle_length, recurrence: u_rec * cycle_length}
        transition_cost: {recurrence: {dead: c_eol}}              # on the flow, optional
        transition_effect: {}

Semantics (cycles ``t = 1..T``; occupancy ``m_0`` = start, ``m_t = m_{t-1} P_t``):

* Formulas may use every parameter and derived value, the ``with`` bindings, and
  ``t`` (cycle number, 1..T), ``time`` (years elapsed at the start of the cycle,
  ``(t-1)*cycle_length``) and ``cycle_length``. Transitions of cycle ``t`` move the cohort
  from ``m_{t-1}`` to ``m_t``; rewards of cycle ``t`` are evaluated at the same ``t``.
* ``state_cost``/``state_effect`` are per cycle. The occupancy credited to cycle ``t`` is
  ``m_t d_t`` (``correction: none``, end of cycle), ``m_{t-1} d_{t-1}`` (``start``), or
  ``(m_{t-1} d_{t-1} + m_t d_t) / 2`` (``half-cycle``, the trapezoidal rule: for constant
  rewards it equals the classical half-cycle correction), where
  ``d_c = (1 + r)^(-c * cycle_length)`` uses the cost or effect rate.
* ``transition_cost``/``transition_effect`` apply to the cohort moving along a
  transition in cycle ``t``, discounted by ``d_t``.

Draws are processed together (arrays of shape draws × states per cycle), so the work is
vectorised over draws and the Python loop runs over cycles only.

Examples
--------
>>> import numpy as np
>>> spec = {"states": ["alive", "dead"], "cycles": 3, "cycle_length": 1,
...         "transitions": {"alive": {"dead": "q", "alive": "#"}, "dead": {"dead": 1}},
...         "state_effect": {"alive": 1}, "correction": "none"}
>>> model = compile_markov("m", spec)
>>> cost, effect = run_markov(model, {"q": np.array([0.1, 0.5])}, 2)
>>> np.round(effect, 4)   # 0.9 + 0.81 + 0.729 and 0.5 + 0.25 + 0.125
array([2.439, 0.875])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from decisionmodel.exceptions import FormulaError, MarkovError
from decisionmodel.tree.formula import Formula, parse
from decisionmodel.tree.schema import COMPLEMENT

TIME_NAMES = frozenset({"t", "time", "cycle_length"})
CORRECTIONS = {
    "none": "none",
    "end": "none",
    "start": "start",
    "half-cycle": "half",
    "trapezoid": "half",
}
_MODEL_KEYS = (
    "states",
    "cycle_length",
    "cycles",
    "discount",
    "correction",
    "transitions",
    "state_cost",
    "state_effect",
    "transition_cost",
    "transition_effect",
    "description",
    "notes",
)
PROB_TOL = 1e-6
MAX_CYCLES = 100_000


@dataclass(frozen=True)
class MarkovModel:
    """A compiled Markov cohort model (see the module docstring for the file layout)."""

    name: str
    where: str
    states: tuple[str, ...]
    cycle_length: Formula
    cycles: int
    discount_cost: float
    discount_effect: float
    correction: str
    transitions: tuple[tuple[tuple[int, Formula | None], ...], ...]  # per from-state
    state_cost: tuple[Formula | None, ...]
    state_effect: tuple[Formula | None, ...]
    transition_cost: tuple[tuple[int, int, Formula], ...]
    transition_effect: tuple[tuple[int, int, Formula], ...]

    @property
    def names(self) -> frozenset[str]:
        """Free names the model's formulas need (besides t, time, cycle_length)."""
        out: set[str] = set(self.cycle_length.names)
        for row in self.transitions:
            for _, f in row:
                if f is not None:
                    out |= f.names
        for f in (*self.state_cost, *self.state_effect):
            if f is not None:
                out |= f.names
        for *_, f in (*self.transition_cost, *self.transition_effect):
            out |= f.names
        return frozenset(out - TIME_NAMES)

    @property
    def time_dependent(self) -> bool:
        """Whether any transition depends on the cycle."""
        return any(
            f is not None and f.names & {"t", "time"} for row in self.transitions for _, f in row
        )


def _err(where: str, name: str, why: str) -> MarkovError:
    return MarkovError(f"{where}: markov model {name!r}: {why}")


def _formula(value: Any, where: str, name: str, what: str) -> Formula:
    try:
        return parse(value)
    except FormulaError as exc:
        raise _err(where, name, f"{what}: {exc}") from None


def compile_markov(name: str, spec: Mapping[str, Any], where: str = "<graph>") -> MarkovModel:
    """Check a model declaration and parse its formulas.

    Parameters
    ----------
    name : str
        The model's name under ``markov:``.
    spec : mapping
        The declaration.
    where : str
        The file, for messages.

    Returns
    -------
    MarkovModel

    Raises
    ------
    MarkovError
        Naming the file, model and state for each problem.
    """
    if not isinstance(spec, Mapping):
        raise _err(where, name, "must be a mapping")
    unknown = [k for k in spec if k not in _MODEL_KEYS]
    if unknown:
        raise _err(where, name, f"unknown key(s) {', '.join(map(str, unknown))}")
    states = spec.get("states")
    if (
        not isinstance(states, list)
        or len(states) < 1
        or not all(isinstance(s, str) for s in states)
    ):
        raise _err(where, name, "'states' must be a non-empty list of names")
    if len(set(states)) != len(states):
        raise _err(where, name, "'states' has duplicates")
    index = {s: i for i, s in enumerate(states)}
    cycles = spec.get("cycles")
    if isinstance(cycles, bool) or not isinstance(cycles, int) or not 1 <= cycles <= MAX_CYCLES:
        raise _err(
            where, name, f"'cycles' must be an integer from 1 to {MAX_CYCLES}, got {cycles!r}"
        )
    cycle_length = _formula(spec.get("cycle_length", 1), where, name, "cycle_length")
    if cycle_length.names & TIME_NAMES:
        raise _err(where, name, "cycle_length cannot depend on t, time or cycle_length")
    if cycle_length.constant is not None and cycle_length.constant <= 0:
        raise _err(where, name, "cycle_length must be positive")
    discount = spec.get("discount", {}) or {}
    if isinstance(discount, (int, float)) and not isinstance(discount, bool):
        discount = {"cost": discount, "effect": discount}
    if not isinstance(discount, Mapping) or set(discount) - {"cost", "effect"}:
        raise _err(where, name, "'discount' must be a rate or {cost: rate, effect: rate}")
    rates = {}
    for key in ("cost", "effect"):
        r = discount.get(key, 0.0)
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 <= r < 1:
            raise _err(
                where, name, f"discount rate for {key} must be a number in [0, 1), got {r!r}"
            )
        rates[key] = float(r)
    correction = spec.get("correction", "half-cycle")
    if correction not in CORRECTIONS:
        raise _err(
            where, name, f"correction {correction!r} unknown (use none, start or half-cycle)"
        )

    trans = spec.get("transitions")
    if not isinstance(trans, Mapping):
        raise _err(where, name, "'transitions' must map each state to {to-state: probability}")
    rows = []
    for s in states:
        row = trans.get(s)
        if not isinstance(row, Mapping) or not row:
            raise _err(
                where, name, f"state {s!r} has no transitions (absorbing states need {{{s}: 1}})"
            )
        parsed = []
        n_comp = 0
        for to, value in row.items():
            if to not in index:
                raise _err(where, name, f"transition {s!r} -> {to!r}: unknown state")
            if value == COMPLEMENT:
                n_comp += 1
                parsed.append((index[to], None))
            else:
                parsed.append(
                    (index[to], _formula(value, where, name, f"transition {s!r} -> {to!r}"))
                )
        if n_comp > 1:
            raise _err(where, name, f"state {s!r}: more than one '#' complement")
        rows.append(tuple(parsed))
    extra = [k for k in trans if k not in index]
    if extra:
        raise _err(where, name, f"transitions from unknown state(s) {', '.join(map(str, extra))}")

    def per_state(key: str) -> tuple[Formula | None, ...]:
        values = spec.get(key, {}) or {}
        if not isinstance(values, Mapping):
            raise _err(where, name, f"'{key}' must map states to quantities")
        bad = [k for k in values if k not in index]
        if bad:
            raise _err(where, name, f"'{key}' names unknown state(s) {', '.join(map(str, bad))}")
        return tuple(
            _formula(values[s], where, name, f"{key} of {s!r}") if s in values else None
            for s in states
        )

    def per_transition(key: str) -> tuple[tuple[int, int, Formula], ...]:
        values = spec.get(key, {}) or {}
        if not isinstance(values, Mapping):
            raise _err(where, name, f"'{key}' must map from-state to {{to-state: quantity}}")
        out = []
        for s, row in values.items():
            if s not in index or not isinstance(row, Mapping):
                raise _err(where, name, f"'{key}': bad entry for {s!r}")
            for to, value in row.items():
                if to not in index:
                    raise _err(where, name, f"'{key}' {s!r} -> {to!r}: unknown state")
                out.append(
                    (index[s], index[to], _formula(value, where, name, f"{key} {s!r} -> {to!r}"))
                )
        return tuple(out)

    return MarkovModel(
        name=name,
        where=where,
        states=tuple(states),
        cycle_length=cycle_length,
        cycles=cycles,
        discount_cost=rates["cost"],
        discount_effect=rates["effect"],
        correction=CORRECTIONS[correction],
        transitions=tuple(rows),
        state_cost=per_state("state_cost"),
        state_effect=per_state("state_effect"),
        transition_cost=per_transition("transition_cost"),
        transition_effect=per_transition("transition_effect"),
    )


def _as_column(value: Any, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (n,))


def transition_matrix(
    model: MarkovModel, env: Mapping[str, Any], n: int, context: str = ""
) -> np.ndarray:
    """The transition probabilities of one cycle, shape (n, S, S), checked per draw.

    ``env`` must hold every name the transitions use, including ``t``/``time`` when
    they depend on the cycle.

    Raises
    ------
    MarkovError
        If a probability leaves [0, 1] or a row does not sum to 1 for some draw; the
        message names the model, the state, the cycle and the first failing draw.
    """
    S = len(model.states)
    P = np.zeros((n, S, S))
    t = env.get("t", "")
    for i, row in enumerate(model.transitions):
        comp = None
        for j, f in row:
            if f is None:
                comp = j
            else:
                P[:, i, j] += _as_column(f.evaluate(env), n)
        if comp is not None:
            P[:, i, comp] += 1.0 - P[:, i].sum(axis=1)
        bad = (
            ~np.isfinite(P[:, i]).all(axis=1)
            | (P[:, i] < -PROB_TOL).any(axis=1)
            | (P[:, i] > 1 + PROB_TOL).any(axis=1)
        )
        if bad.any():
            k = int(np.argmax(bad))
            raise MarkovError(
                f"{model.where}: markov model {model.name!r}{context}: transitions from "
                f"{model.states[i]!r} in cycle {t} leave [0, 1] for draw {k}: "
                f"{dict(zip(model.states, np.round(P[k, i], 6), strict=True))}"
            )
        sums = P[:, i].sum(axis=1)
        off = np.abs(sums - 1.0) > PROB_TOL
        if off.any():
            k = int(np.argmax(off))
            raise MarkovError(
                f"{model.where}: markov model {model.name!r}{context}: transitions from "
                f"{model.states[i]!r} in cycle {t} sum to {sums[k]:.6g}, not 1, for draw {k}"
            )
    np.clip(P, 0.0, 1.0, out=P)
    return P


def _rewards(
    formulas: tuple[Formula | None, ...], env: Mapping[str, Any], n: int
) -> np.ndarray | None:
    if all(f is None for f in formulas):
        return None
    R = np.zeros((n, len(formulas)))
    for j, f in enumerate(formulas):
        if f is not None:
            R[:, j] = _as_column(f.evaluate(env), n)
    return R


def _col(d: Any) -> Any:
    return d[:, None] if np.ndim(d) else d


def _depends_on_cycle(formulas) -> bool:
    return any(f is not None and f.names & {"t", "time"} for f in formulas)


def run_markov(
    model: MarkovModel,
    env: Mapping[str, Any],
    n: int,
    start: Mapping[str, Any] | None = None,
    *,
    trace: bool = False,
    context: str = "",
):
    """Run the cohort for all draws at once; return discounted expected cost and effect.

    Parameters
    ----------
    model : MarkovModel
    env : mapping
        Parameter values: name → scalar or array of shape (n,).
    n : int
        Number of draws.
    start : mapping, optional
        State → share of the cohort at cycle 0 (scalar or (n,) array); default: all in
        the first state. Shares must sum to 1 for every draw.
    trace : bool
        Also return the occupancy trace, shape (n, cycles + 1, S).
    context : str
        Extra text for error messages (e.g. the terminal node's path).

    Returns
    -------
    cost, effect : numpy.ndarray
        Shape (n,), per member of the cohort.
    trace : numpy.ndarray
        Only when ``trace=True``.

    Examples
    --------
    >>> spec = {"states": ["a", "b"], "cycles": 2, "discount": {"cost": 0.5},
    ...         "correction": "none",
    ...         "transitions": {"a": {"a": 1}, "b": {"b": 1}}, "state_cost": {"a": 100}}
    >>> cost, _ = run_markov(compile_markov("m", spec), {}, 1)
    >>> round(float(cost[0]), 4)   # 100/1.5 + 100/1.5**2
    111.1111
    """
    S = len(model.states)
    T = model.cycles
    base = dict(env)
    L = _as_column(model.cycle_length.evaluate(base), n)
    if np.any(~np.isfinite(L)) or np.any(L <= 0):
        raise MarkovError(
            f"{model.where}: markov model {model.name!r}{context}: cycle_length must be positive"
        )
    base["cycle_length"] = L if L.min() != L.max() else float(L[0])
    m = np.zeros((n, S))
    if start is None:
        m[:, 0] = 1.0
    else:
        for s, share in start.items():
            m[:, model.states.index(s)] = _as_column(share, n)
        total = m.sum(axis=1)
        if np.any(np.abs(total - 1) > PROB_TOL) or np.any(m < -PROB_TOL):
            k = int(np.argmax(np.abs(total - 1) > PROB_TOL))
            raise MarkovError(
                f"{model.where}: markov model {model.name!r}{context}: start shares sum to "
                f"{total[k]:.6g}, not 1, for draw {k}"
            )

    # discount factor at cycle boundary c (scalar when the cycle length is fixed)
    L_used = base["cycle_length"]

    def dc(c: int) -> Any:
        return (1.0 + model.discount_cost) ** (-c * L_used)

    def de(c: int) -> Any:
        return (1.0 + model.discount_effect) ** (-c * L_used)

    def at(t: int) -> dict[str, Any]:
        e = dict(base)
        e["t"] = float(t)
        e["time"] = (t - 1) * base["cycle_length"]
        return e

    trans_dyn = model.time_dependent
    cost_dyn = _depends_on_cycle(model.state_cost) or any(
        f.names & {"t", "time"} for *_, f in model.transition_cost
    )
    eff_dyn = _depends_on_cycle(model.state_effect) or any(
        f.names & {"t", "time"} for *_, f in model.transition_effect
    )
    env1 = at(1)
    P = None if trans_dyn else transition_matrix(model, env1, n, context)
    Rc = None if cost_dyn else _rewards(model.state_cost, env1, n)
    Re = None if eff_dyn else _rewards(model.state_effect, env1, n)

    def flows_payoff(items, e):
        return [(i, j, _as_column(f.evaluate(e), n)) for i, j, f in items]

    Tc = None if cost_dyn else flows_payoff(model.transition_cost, env1)
    Te = None if eff_dyn else flows_payoff(model.transition_effect, env1)

    cost = np.zeros(n)
    effect = np.zeros(n)
    out_trace = np.empty((n, T + 1, S)) if trace else None
    if trace:
        out_trace[:, 0] = m
    for t in range(1, T + 1):
        e = at(t) if (trans_dyn or cost_dyn or eff_dyn) else env1
        Pt = transition_matrix(model, e, n, context) if trans_dyn else P
        m_next = np.einsum("ns,nsk->nk", m, Pt)
        Rc_t = _rewards(model.state_cost, e, n) if cost_dyn else Rc
        Re_t = _rewards(model.state_effect, e, n) if eff_dyn else Re
        for R, d, acc in ((Rc_t, dc, cost), (Re_t, de, effect)):
            if R is None:
                continue
            if model.correction == "none":
                occ = m_next * _col(d(t))
            elif model.correction == "start":
                occ = m * _col(d(t - 1))
            else:
                occ = 0.5 * (m * _col(d(t - 1)) + m_next * _col(d(t)))
            acc += np.einsum("ns,ns->n", occ, R)
        Tc_t = flows_payoff(model.transition_cost, e) if cost_dyn else Tc
        Te_t = flows_payoff(model.transition_effect, e) if eff_dyn else Te
        for items, d, acc in ((Tc_t, dc, cost), (Te_t, de, effect)):
            for i, j, v in items:
                acc += m[:, i] * Pt[:, i, j] * v * d(t)
        m = m_next
        if trace:
            out_trace[:, t] = m
    if trace:
        return cost, effect, out_trace
    return cost, effect
