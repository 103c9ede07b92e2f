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
        define:                      # per-cycle values, usable in every entry below
          p_bg: "rate_to_prob(exp(gomp_a + gomp_b * (age + time)), cycle_length)"
        state_cost:   {recurrence: c_chemo_year * cycle_length}   # per cycle
        state_effect: {disease_free: u_df * cycle_length, recurrence: u_rec * cycle_length}
        transition_cost: {recurrence: {dead: c_eol}}              # on the flow, optional
        transition_effect: {}

Semantics (cycles ``t = 1..T``; occupancy ``m_0`` = start, ``m_t = m_{t-1} P_t``):

* Formulas may use every parameter and derived value, the ``with`` bindings, the
  model's ``define`` values (evaluated per cycle in dependency order, so a quantity such
  as background mortality at the attained age is written once), and ``t`` (cycle number,
  1..T), ``time`` (years elapsed at the start of the cycle, ``(t-1)*cycle_length``) and
  ``cycle_length``. These three names are reserved. Transitions of cycle ``t`` move the cohort
  from ``m_{t-1}`` to ``m_t``; rewards of cycle ``t`` are evaluated at the same ``t``.
* ``state_cost``/``state_effect`` are per cycle. The occupancy credited to cycle ``t`` is
  ``m_t d_t`` (``correction: none``, end of cycle), ``m_{t-1} d_{t-1}`` (``start``), or
  ``(m_{t-1} d_{t-1} + m_t d_t) / 2`` (``half-cycle``, the trapezoidal rule: for constant
  rewards it equals the classical half-cycle correction), where
  ``d_c = (1 + r)^(-c * cycle_length)`` uses the cost or effect rate.
* ``transition_cost``/``transition_effect`` apply to the cohort moving along a
  transition in cycle ``t``, discounted by ``d_t``.

Draws are processed together (one contiguous array per state, transitions kept sparse),
so the work is vectorised over draws and the Python loop runs over cycles only;
quantities that do not depend on the cycle are evaluated once.

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
    "define",
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
    defines: tuple[tuple[str, Formula], ...] = ()

    def _formulas(self):
        for row in self.transitions:
            for _, f in row:
                if f is not None:
                    yield f
        yield from (f for f in (*self.state_cost, *self.state_effect) if f is not None)
        yield from (f for *_, f in (*self.transition_cost, *self.transition_effect))
        yield from (f for _, f in self.defines)
        yield self.cycle_length

    @property
    def names(self) -> frozenset[str]:
        """Free names the model's formulas need (besides t, time, cycle_length and defines)."""
        out: set[str] = set()
        for f in self._formulas():
            out |= f.names
        return frozenset(out - TIME_NAMES - {n for n, _ in self.defines})

    @property
    def cycle_names(self) -> frozenset[str]:
        """Names whose value changes with the cycle: t, time and defines that use them."""
        dynamic = {"t", "time"}
        for name, f in self.defines:
            if f.names & dynamic:
                dynamic.add(name)
        return frozenset(dynamic)

    @property
    def time_dependent(self) -> bool:
        """Whether any transition depends on the cycle."""
        dyn = self.cycle_names
        return any(f is not None and f.names & dyn for row in self.transitions for _, f in row)


def _err(where: str, name: str, why: str) -> MarkovError:
    return MarkovError(f"{where}: markov model {name!r}: {why}")


def _formula(value: Any, where: str, name: str, what: str) -> Formula:
    try:
        return parse(value)
    except FormulaError as exc:
        raise _err(where, name, f"{what}: {exc}") from None


def _order_defines(
    raw: Any, where: str, name: str, states: list[str]
) -> tuple[tuple[str, Formula], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise _err(where, name, "'define' must map names to formulas")
    parsed: dict[str, Formula] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_"):
            raise _err(
                where, name, f"define {key!r}: names must be identifiers not starting with '_'"
            )
        if key in TIME_NAMES:
            raise _err(where, name, f"define {key!r}: t, time and cycle_length are reserved")
        parsed[key] = _formula(value, where, name, f"define {key!r}")
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(key: str, trail: list[str]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            raise _err(
                where,
                name,
                f"define values refer to each other in a cycle: {' -> '.join([*trail, key])}",
            )
        state[key] = 1
        for dep in sorted(parsed[key].names & parsed.keys()):
            visit(dep, [*trail, key])
        state[key] = 2
        order.append(key)

    for key in parsed:
        visit(key, [])
    return tuple((k, parsed[k]) for k in order)


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

    Examples
    --------
    >>> m = compile_markov("m", {"states": ["a", "b"], "cycles": 2,
    ...     "define": {"q": "0.1 * t"}, "transitions": {"a": {"b": "q", "a": "#"}, "b": {"b": 1}}})
    >>> m.time_dependent, sorted(m.names)
    (True, [])
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
    defines = _order_defines(spec.get("define"), where, name, states)
    if cycle_length.names & {n for n, _ in defines}:
        raise _err(where, name, "cycle_length cannot use define values")

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
        defines=defines,
    )


def _first_bad(mask: np.ndarray) -> int:
    return int(np.argmax(np.atleast_1d(mask)))


class _Cohort:
    """Evaluates a model's quantities for one set of draws; cycle-free ones only once."""

    def __init__(self, model: MarkovModel, env: Mapping[str, Any], n: int, context: str):
        self.model = model
        self.n = n
        self.context = context
        reserved = TIME_NAMES & set(env)
        if reserved:
            raise MarkovError(
                f"{model.where}: markov model {model.name!r}{context}: the names "
                f"{', '.join(sorted(reserved))} are reserved inside markov models"
            )
        base = dict(env)
        L = np.broadcast_to(np.asarray(model.cycle_length.evaluate(base), dtype=float), (n,))
        if not (L.min() > 0) or not np.isfinite(L).all():
            raise MarkovError(
                f"{model.where}: markov model {model.name!r}{context}: cycle_length must be positive"
            )
        base["cycle_length"] = float(L[0]) if L.min() == L.max() else np.array(L)
        self.L = base["cycle_length"]
        self.dynamic_names = model.cycle_names
        for name, f in model.defines:
            if not f.names & self.dynamic_names:
                base[name] = f.evaluate(base)
        self.base = base
        self.dyn_defines = [(k, f) for k, f in model.defines if f.names & self.dynamic_names]
        self._static: dict[int, Any] = {}
        self._bound: dict[int, Formula] = {}

    def is_dynamic(self, f: Formula | None) -> bool:
        return f is not None and bool(f.names & self.dynamic_names)

    def env_at(self, t: int) -> dict[str, Any]:
        if not self.dyn_defines and not ({"t", "time"} & self.dynamic_names and self._uses_time()):
            return self.base
        e = dict(self.base)
        e["t"] = float(t)
        e["time"] = (t - 1) * self.L
        for name, f in self.dyn_defines:
            e[name] = self.value(f, e)
        return e

    def _uses_time(self) -> bool:
        return any(self.is_dynamic(f) for f in self.model._formulas())

    def value(self, f: Formula, e: Mapping[str, Any]) -> Any:
        """Scalar or (n,) array; static formulas are cached, and the static parts of
        cycle-dependent formulas are computed once."""
        if self.is_dynamic(f):
            key = id(f)
            bound = self._bound.get(key)
            if bound is None:
                bound = self._bound[key] = f.bind(self.base, self.dynamic_names)
            return bound.evaluate(e)
        key = id(f)
        if key not in self._static:
            self._static[key] = f.evaluate(self.base)
        return self._static[key]

    def row(self, i: int, e: Mapping[str, Any], t: int) -> list[tuple[int, Any]]:
        """Checked transition probabilities out of state i in cycle t."""
        model = self.model
        out: list[tuple[int, Any]] = []
        comp = None
        total: Any = 0.0
        for j, f in model.transitions[i]:
            if f is None:
                comp = len(out)
                out.append((j, 0.0))
                continue
            v = self.value(f, e)
            lo, hi = (v.min(), v.max()) if np.ndim(v) else (v, v)
            if not (lo >= -PROB_TOL and hi <= 1 + PROB_TOL):
                arr = np.broadcast_to(np.asarray(v, dtype=float), (self.n,))
                k = _first_bad(~np.isfinite(arr) | (arr < -PROB_TOL) | (arr > 1 + PROB_TOL))
                raise MarkovError(
                    f"{model.where}: markov model {model.name!r}{self.context}: transition "
                    f"{model.states[i]!r} -> {model.states[j]!r} = {arr[k]:.6g} in cycle {t} "
                    f"is outside [0, 1] (draw {k})"
                )
            out.append((j, v))
            total = total + v
        if comp is not None:
            rest = 1.0 - total
            if np.ndim(rest):
                if not rest.min() >= -PROB_TOL:
                    k = _first_bad(rest < -PROB_TOL)
                    raise MarkovError(
                        f"{model.where}: markov model {model.name!r}{self.context}: transitions from "
                        f"{model.states[i]!r} in cycle {t} sum to {float(total[k]):.6g} > 1 before the "
                        f"complement '#' (draw {k})"
                    )
                rest = np.clip(rest, 0.0, 1.0)
            else:
                if not rest >= -PROB_TOL:
                    raise MarkovError(
                        f"{model.where}: markov model {model.name!r}{self.context}: transitions from "
                        f"{model.states[i]!r} in cycle {t} sum to {float(total):.6g} > 1 before the complement '#'"
                    )
                rest = min(max(float(rest), 0.0), 1.0)
            out[comp] = (out[comp][0], rest)
        else:
            dev = np.abs(np.asarray(total, dtype=float) - 1.0)
            if not dev.max() <= PROB_TOL:
                k = _first_bad(~(dev <= PROB_TOL))
                shown = float(np.atleast_1d(total)[k])
                raise MarkovError(
                    f"{model.where}: markov model {model.name!r}{self.context}: transitions from "
                    f"{model.states[i]!r} in cycle {t} sum to {shown:.6g}, not 1 (draw {k})"
                )
        return out

    def discount(self, rate: float, c: int) -> Any:
        return (1.0 + rate) ** (-c * self.L)


def transition_matrix(
    model: MarkovModel, env: Mapping[str, Any], n: int, context: str = ""
) -> np.ndarray:
    """The transition probabilities of one cycle as a dense array (n, S, S), checked per draw.

    ``env`` holds the parameter values and may give ``t`` (default 1); ``time`` and the
    model's ``define`` values are computed from it.

    Raises
    ------
    MarkovError
        If a probability leaves [0, 1] or a row does not sum to 1 for some draw; the
        message names the model, the states, the cycle and the first failing draw.

    Examples
    --------
    >>> m = compile_markov("m", {"states": ["a", "b"], "cycles": 1,
    ...     "transitions": {"a": {"b": "q", "a": "#"}, "b": {"b": 1}}})
    >>> transition_matrix(m, {"q": 0.25}, 1)[0]
    array([[0.75, 0.25],
           [0.  , 1.  ]])
    """
    env = dict(env)
    t = int(env.pop("t", 1))
    env.pop("time", None)
    env.pop("cycle_length", None)
    cohort = _Cohort(model, env, n, context)
    e = cohort.env_at(t)
    S = len(model.states)
    P = np.zeros((n, S, S))
    for i in range(S):
        for j, v in cohort.row(i, e, t):
            P[:, i, j] += v
    return P


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
        the first state. Shares must lie in [0, 1] and sum to 1 for every draw.
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
    cohort = _Cohort(model, env, n, context)
    m = np.zeros((S, n))
    if start is None:
        m[0] = 1.0
    else:
        for s, share in start.items():
            m[model.states.index(s)] = np.broadcast_to(np.asarray(share, dtype=float), (n,))
        total = m.sum(axis=0)
        bad = (
            (np.abs(total - 1) > PROB_TOL)
            | (m < -PROB_TOL).any(axis=0)
            | ~np.isfinite(m).all(axis=0)
        )
        if bad.any():
            k = _first_bad(bad)
            raise MarkovError(
                f"{model.where}: markov model {model.name!r}{context}: start shares "
                f"{dict(zip(model.states, np.round(m[:, k], 6).tolist(), strict=True))} for draw {k} "
                "must lie in [0, 1] and sum to 1"
            )

    corr = model.correction
    cost = np.zeros(n)
    effect = np.zeros(n)
    out_trace = np.empty((n, T + 1, S)) if trace else None
    if trace:
        out_trace[:, 0] = m.T
    # static rows are checked once
    static_rows = {
        i: cohort.row(i, cohort.base, 1)
        for i in range(S)
        if not any(cohort.is_dynamic(f) for _, f in model.transitions[i])
    }

    def weight(rate: float, c: int) -> Any:
        """Weight of the occupancy at boundary c in the discounted sum of per-cycle rewards."""
        if (corr == "none" and c == 0) or (corr == "start" and c == T):
            return 0.0
        d = cohort.discount(rate, c)
        return 0.5 * d if corr == "half" and c in (0, T) else d

    # Rewards that do not change with the cycle are applied once, at the end, to the
    # discounted occupancy accumulated per state (one accumulator per discount rate);
    # rewards and transition payoffs that change with the cycle are applied per cycle.
    plans = []  # (acc, rate, static state rewards, dynamic state rewards, static flows, dynamic flows)
    for state_f, trans_f, rate, acc in (
        (model.state_cost, model.transition_cost, model.discount_cost, cost),
        (model.state_effect, model.transition_effect, model.discount_effect, effect),
    ):
        static_s = [
            (s, f) for s, f in enumerate(state_f) if f is not None and not cohort.is_dynamic(f)
        ]
        dynamic_s = [
            (s, f) for s, f in enumerate(state_f) if f is not None and cohort.is_dynamic(f)
        ]
        static_t = [(i, j, f) for i, j, f in trans_f if not cohort.is_dynamic(f)]
        dynamic_t = [(i, j, f) for i, j, f in trans_f if cohort.is_dynamic(f)]
        plans.append((acc, rate, static_s, dynamic_s, static_t, dynamic_t))
    occupancy: dict[tuple[float, int], np.ndarray] = {}  # (rate, state) -> discounted occupancy
    flows: dict[tuple[float, int, int], np.ndarray] = {}  # (rate, i, j) -> discounted flow
    for _, rate, static_s, _, static_t, _ in plans:
        for s, _ in static_s:
            if (rate, s) not in occupancy:
                occupancy[(rate, s)] = m[s] * weight(rate, 0)
        for i, j, _ in static_t:
            flows.setdefault((rate, i, j), np.zeros(n))
    occ_rates = sorted({rate for rate, _ in occupancy})
    occ_states = {rate: [s for r, s in occupancy if r == rate] for rate in occ_rates}

    for t in range(1, T + 1):
        e = cohort.env_at(t)
        m_next = np.zeros((S, n))
        rows = []
        for i in range(S):
            row = static_rows[i] if i in static_rows else cohort.row(i, e, t)
            rows.append(row)
            mi = m[i]
            for j, v in row:
                if np.ndim(v) == 0:
                    if v == 0.0:
                        continue
                    if v == 1.0:
                        m_next[j] += mi
                        continue
                m_next[j] += mi * v
        for rate in occ_rates:
            w = weight(rate, t)
            for s in occ_states[rate]:
                occupancy[(rate, s)] += m_next[s] * w
        for (rate, i, j), acc_flow in flows.items():
            p_ij = sum((v for jj, v in rows[i] if jj == j), 0.0)
            acc_flow += m[i] * p_ij * cohort.discount(rate, t)
        for acc, rate, _, dynamic_s, _, dynamic_t in plans:
            if dynamic_s:
                d0 = cohort.discount(rate, t - 1)
                d1 = cohort.discount(rate, t)
                for s, f in dynamic_s:
                    r = cohort.value(f, e)
                    if corr == "none":
                        occ = m_next[s] * d1
                    elif corr == "start":
                        occ = m[s] * d0
                    else:
                        occ = 0.5 * (m[s] * d0 + m_next[s] * d1)
                    acc += occ * r
            if dynamic_t:
                d1 = cohort.discount(rate, t)
                for i, j, f in dynamic_t:
                    p_ij = sum((v for jj, v in rows[i] if jj == j), 0.0)
                    acc += m[i] * p_ij * cohort.value(f, e) * d1
        m = m_next
        if trace:
            out_trace[:, t] = m.T
    for acc, rate, static_s, _, static_t, _ in plans:
        for s, f in static_s:
            acc += occupancy[(rate, s)] * cohort.value(f, cohort.base)
        for i, j, f in static_t:
            acc += flows[(rate, i, j)] * cohort.value(f, cohort.base)
    if trace:
        return cost, effect, out_trace
    return cost, effect
