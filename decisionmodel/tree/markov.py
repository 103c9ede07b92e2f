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
quantities that do not depend on the cycle are evaluated once. The cycle loop is
written for speed, since it dominates the evaluation of a tree (see :class:`_Run`): it
allocates no arrays (values are computed in arrays reused from cycle to cycle), makes
one pass over the draws per arithmetic operation, computes a sub-expression that
several formulas repeat once per cycle, and :func:`run_cohorts` runs the cohorts of
one model (terminals with different ``with`` bindings) as one stacked run and shares
per-cycle values such as background mortality between models. Probabilities are still
checked for every draw and every cycle.

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

import functools
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from decisionmodel.exceptions import FormulaError, MarkovError
from decisionmodel.tree.formula import (
    ArrayPool,
    Formula,
    Memo,
    parse,
    repeated_subexpressions,
)
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
#: most states of one model (the cohort works on states x states per draw)
MAX_STATES = 200
#: longest cycle, in years
MAX_CYCLE_LENGTH = 1_000.0


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
        if (
            not isinstance(key, str)
            or not key.isidentifier()
            or key.startswith("_")
            or unicodedata.normalize("NFKC", key) != key
        ):
            raise _err(
                where,
                name,
                f"define {key!r}: names must be identifiers in NFKC normal form not starting "
                "with '_'",
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
    if len(states) > MAX_STATES:
        raise _err(where, name, f"more than {MAX_STATES} states")
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
    if cycle_length.constant is not None and not 0 < cycle_length.constant <= MAX_CYCLE_LENGTH:
        raise _err(
            where,
            name,
            f"cycle_length must be positive and at most {MAX_CYCLE_LENGTH:g} years, "
            f"got {cycle_length.constant:g}",
        )
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
        parsed: list[tuple[int, Formula | None]] = []
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
    """Evaluates a model's quantities for one set of draws; cycle-free ones only once.

    ``n`` is the number of draws, or a shape (k, n) for k cohorts of one model stacked
    (:func:`run_cohorts`); the values in ``env`` broadcast to it.

    Formulas that change with the cycle are bound once (:meth:`Formula.bind`: their
    cycle-free parts are computed now) to ``memo``, a :class:`Memo` that the caller
    clears every cycle. Through it a ``define`` value (such as background mortality) and
    a sub-expression that several formulas of the model repeat are computed once per
    cycle, for all the formulas and all the cohorts sharing the memo in which their names
    have the same values.

    With a ``scratch`` (:class:`_Scratch`), the per-cycle values of the formulas are
    computed in place in arrays of its pool (see ``pool`` in :meth:`Formula.bind`), and a
    row's complement in a scratch array, so that the cycle loop allocates nothing.
    (Allocating and freeing hundreds of large temporaries per cycle costs more than the
    arithmetic: the allocator returns the memory to the system and gets it back, page by
    page, cycle after cycle.) The minimum of an array that several rows use is computed
    once per cycle for the probability checks.
    """

    def __init__(
        self,
        model: MarkovModel,
        env: Mapping[str, Any],
        n: int | tuple[int, ...],
        context: str,
        memo: Memo | None = None,
        scratch: _Scratch | None = None,
        first_draw: int = 0,
    ):
        self.model = model
        self.shape = shape = (n,) if isinstance(n, int) else tuple(n)
        self.n = shape[-1]
        self.first_draw = first_draw  # the draws' numbers in messages start here
        self.context = context
        self.memo = Memo() if memo is None else memo
        self.scratch = scratch
        reserved = TIME_NAMES & set(env)
        if reserved:
            raise MarkovError(
                f"{model.where}: markov model {model.name!r}{context}: the names "
                f"{', '.join(sorted(reserved))} are reserved inside markov models"
            )
        base = dict(env)
        L = np.broadcast_to(np.asarray(model.cycle_length.evaluate(base), dtype=float), shape)
        if not (L.min() > 0) or not np.isfinite(L).all():
            raise MarkovError(
                f"{model.where}: markov model {model.name!r}{context}: cycle_length must be positive"
            )
        base["cycle_length"] = float(L.flat[0]) if L.min() == L.max() else np.array(L)
        self.L = base["cycle_length"]
        self.dynamic_names = dynamic = model.cycle_names
        for name, f in model.defines:
            if not f.names & dynamic:
                base[name] = f.evaluate(base)
        self.base = base
        formulas = [f for f in model._formulas() if f.names & dynamic]
        # memoized: sub-expressions that several formulas repeat, and the define values
        # (which other models may share, e.g. background mortality)
        shared = repeated_subexpressions(formulas, dynamic) | {f.dump for _, f in model.defines}
        pool = scratch.pool if scratch is not None else None
        self._bound = {id(f): f.bind(base, dynamic, self.memo, shared, pool=pool) for f in formulas}
        self.dyn_defines = [
            (k, self._bound[id(f)].compute) for k, f in model.defines if id(f) in self._bound
        ]
        self._static: dict[int, Any] = {}
        self._mins: dict[int, Any] = {}  # id of a value of the current cycle -> its minimum
        # per state, its row: (to-state, formula, the bound formula if it changes with the
        # cycle); formula None for the complement '#'
        self._rows = [
            [(j, f, None if f is None else self._bound.get(id(f))) for j, f in row]
            for row in model.transitions
        ]

    def is_dynamic(self, f: Formula | None) -> bool:
        return f is not None and bool(f.names & self.dynamic_names)

    def env_at(self, t: int) -> dict[str, Any]:
        """The names of cycle t: the cycle-free ones, t, time and the ``define`` values."""
        self._mins = {}  # id of a value of cycle t -> its minimum
        if not self._bound:
            return self.base
        e = dict(self.base)
        e["t"] = float(t)
        e["time"] = (t - 1) * self.L
        for name, compute in self.dyn_defines:
            e[name] = compute(e)
        return e

    def value(self, f: Formula, e: Mapping[str, Any]) -> Any:
        """A scalar or an array of the cohort's shape; static formulas are cached, and the
        static parts of cycle-dependent formulas are computed once (call under
        ``np.errstate``; give a temporary back with :meth:`give_back`)."""
        bound = self._bound.get(id(f))
        if bound is not None:
            return bound.compute(e)
        key = id(f)
        if key not in self._static:
            self._static[key] = f.evaluate(self.base)
        return self._static[key]

    def give_back(self, f: Formula, value: Any) -> None:
        """Give the value of a formula back to the pool if it is a temporary (after its
        last use)."""
        bound = self._bound.get(id(f))
        if bound is not None and bound.temporary:
            # a temporary is an array of the scratch's pool: bound with one
            assert self.scratch is not None
            self.scratch.pool.give(value)

    def _flat(self, v: Any) -> np.ndarray:
        """A value over all the draws, flattened (draw k is at k modulo n)."""
        return np.broadcast_to(np.asarray(v, dtype=float), self.shape).reshape(-1)

    def _range_error(self, i: int, j: int, v: Any, t: int) -> MarkovError:
        model = self.model
        arr = self._flat(v)
        k = _first_bad(~np.isfinite(arr) | (arr < -PROB_TOL) | (arr > 1 + PROB_TOL))
        return MarkovError(
            f"{model.where}: markov model {model.name!r}{self.context}: transition "
            f"{model.states[i]!r} -> {model.states[j]!r} = {arr[k]:.6g} in cycle {t} "
            f"is outside [0, 1] (draw {self.first_draw + k % self.n})"
        )

    def row(
        self, i: int, e: Mapping[str, Any], t: int, temporaries: list | None = None
    ) -> list[tuple[int, Any]]:
        """Checked transition probabilities out of state i in cycle t.

        Every entry must be >= 0 and the row must sum to 1 (the complement must be
        >= 0), which together imply every entry <= 1: only minima are computed on
        the hot path (of an array that several rows use, once per cycle); the slower
        search for the offending draw runs on failure.

        With a list ``temporaries`` (and a cohort with a scratch), the complement is
        written into an array that the next call overwrites, and the values that are
        arrays of the pool (see :attr:`Formula.temporary`) are appended to the list, for
        the caller to give back once it has used them.
        """
        model = self.model
        out: list[tuple[int, Any]] = []
        values: list[Any] = []
        comp = None
        mins = self._mins
        for j, f, bound in self._rows[i]:
            if f is None:
                comp = len(out)
                out.append((j, 0.0))
                continue
            if bound is None:
                v = self.value(f, e)
            else:
                v = bound.compute(e)
                if bound.temporary and temporaries is not None:
                    temporaries.append(v)
            if type(v) is not np.ndarray:
                lo = np.min(v)
            elif bound is not None and bound.temporary:
                lo = v.min()
            else:
                lo = mins.get(id(v))
                if lo is None:
                    lo = mins[id(v)] = v.min()
            if not lo >= -PROB_TOL:
                raise self._range_error(i, j, v, t)
            out.append((j, v))
            values.append(v)
        if comp is not None:
            rest = self._complement(values, temporaries is not None)
            lo = rest.min() if type(rest) is np.ndarray else rest
            if not lo >= -PROB_TOL:
                for j, v in out:
                    if not np.max(v) <= 1 + PROB_TOL:
                        raise self._range_error(i, j, v, t)
                k = _first_bad(self._flat(rest) < -PROB_TOL)
                total = self._flat(_sum(values))
                raise MarkovError(
                    f"{model.where}: markov model {model.name!r}{self.context}: transitions from "
                    f"{model.states[i]!r} in cycle {t} sum to {float(total[k]):.6g} > 1 "
                    f"before the complement '#' (draw {self.first_draw + k % self.n})"
                )
            if lo < 0:
                rest = np.maximum(rest, 0.0)
            out[comp] = (out[comp][0], rest)
        else:
            total = _sum(values)
            dev = np.abs(np.asarray(total, dtype=float) - 1.0)
            if not dev.max() <= PROB_TOL:
                k = _first_bad(~(self._flat(dev) <= PROB_TOL))
                shown = float(self._flat(total)[k])
                raise MarkovError(
                    f"{model.where}: markov model {model.name!r}{self.context}: transitions from "
                    f"{model.states[i]!r} in cycle {t} sum to {shown:.6g}, not 1 (draw {self.first_draw + k % self.n})"
                )
        return out

    def _complement(self, values: list[Any], reuse: bool) -> Any:
        """1 - (v1 + v2 + ...), added from the left; with ``reuse``, in a scratch array
        that the next call overwrites."""
        shapes = [v.shape for v in values if type(v) is np.ndarray]
        if not reuse or self.scratch is None or not shapes:
            return 1.0 - _sum(values)
        shape = shapes[0]
        for other in shapes[1:]:
            if other != shape:
                shape = _broadcast(shape, other)
        out = self.scratch.get("rest", shape)
        if len(values) > 1:
            np.add(values[0], values[1], out=out)
            for v in values[2:]:
                np.add(out, v, out=out)
            values = [out]
        return np.subtract(1.0, values[0], out=out)

    def discount(self, rate: float, c: int) -> Any:
        return (1.0 + rate) ** (-c * self.L)


@functools.cache
def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return np.broadcast_shapes(a, b)


def _sum(values: list[Any]) -> Any:
    """The sum of the values, added from the left (as 0.0 + v1 + v2 + ...)."""
    total: Any = 0.0
    for k, v in enumerate(values):
        total = v if k == 0 and np.ndim(v) else total + v
    return total


def transition_matrix(
    model: MarkovModel, env: Mapping[str, Any], n: int, context: str = ""
) -> np.ndarray:
    """The transition probabilities of one cycle as a dense array (n, S, S), checked per draw.

    ``env`` holds the parameter values and may give ``t`` (default 1); ``time`` and the
    model's ``define`` values are computed from it.

    Parameters
    ----------
    model : MarkovModel
        As :func:`compile_markov` returns it.
    env : mapping
        Parameter values: name -> scalar or array of shape (n,); ``t``, the cycle (an
        integer from 1); a ``time`` or ``cycle_length`` given is ignored.
    n : int
        Number of draws.
    context : str
        Extra text for error messages (e.g. the terminal node's path).

    Returns
    -------
    numpy.ndarray
        Shape (n, S, S): ``P[k, i, j]`` is the probability of going from state i to state j
        (in the order of ``model.states``) in cycle t, for draw k; the complement ``'#'``
        computed.

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
    S = len(model.states)
    P = np.zeros((n, S, S))
    with np.errstate(all="ignore"):
        e = cohort.env_at(t)
        for i in range(S):
            for j, v in cohort.row(i, e, t):
                P[:, i, j] += v
    return P


class _Scratch:
    """Memory for the temporaries of the cohorts run together, reused so that it stays in
    the processor's cache: one array per purpose and shape for values used up at once
    (a row's complement, a flow, a discounted increment), and an :class:`ArrayPool` for
    the values of the formulas."""

    def __init__(self) -> None:
        self._arrays: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}
        self.pool = ArrayPool()

    def get(self, purpose: str, shape: tuple[int, ...]) -> np.ndarray:
        out = self._arrays.get((purpose, shape))
        if out is None:
            out = self._arrays[(purpose, shape)] = np.empty(shape)
        return out


class _Run:
    """One cohort run over the cycles: the state of :func:`run_markov` between cycles.

    ``step(t)`` advances the occupancy from ``m_{t-1}`` to ``m_t`` and accumulates the
    rewards of cycle t; ``result()`` returns the discounted cost and effect. Several runs
    can advance together, cycle by cycle, sharing one memo (:func:`run_cohorts`).

    ``n`` is the number of draws or a shape (k, n) of stacked cohorts (see
    :class:`_Cohort`). The cycle loop allocates no arrays and makes one pass over the
    draws per arithmetic operation. The occupancy of each state is an array: ``m_t[j]``
    is taken from the pool of the :class:`_Scratch` at the first inflow of ``j`` (the
    flow ``m_{t-1,i} P_ij`` is computed straight into it) and ``m_{t-1}[j]`` goes back to
    the pool at the end of the cycle; the values of the formulas are computed in arrays
    of the pool too (see :class:`_Cohort`), and other temporaries go to the scratch
    arrays, so that the arrays of a cycle reuse memory still in the cache. Flows into a state whose occupancy is not needed (an absorbing state
    without rewards or payoffs, typically ``dead``) are skipped unless a payoff needs
    them. Rewards that do not change with the cycle are applied once, at the end, to
    discounted occupancies and flows accumulated per discount rate; states whose
    cycle-free rewards are the same (in cost and effect) share one occupancy accumulator.
    """

    def __init__(
        self,
        model: MarkovModel,
        env: Mapping[str, Any],
        n: int | tuple[int, ...],
        start: Mapping[str, Any] | None,
        *,
        trace: bool,
        context: str,
        memo: Memo | None = None,
        scratch: _Scratch | None = None,
        first_draw: int = 0,
    ):
        S = len(model.states)
        self.model = model
        self.T = T = model.cycles
        self.scratch = scratch = _Scratch() if scratch is None else scratch
        self.cohort = cohort = _Cohort(model, env, n, context, memo, scratch, first_draw)
        self.shape = shape = cohort.shape
        m = np.zeros((S, *shape))
        if start is None:
            m[0] = 1.0
        else:
            for state, share in start.items():
                m[model.states.index(state)] = np.broadcast_to(
                    np.asarray(share, dtype=float), shape
                )
            total = m.sum(axis=0)
            bad = (
                (np.abs(total - 1) > PROB_TOL)
                | (m < -PROB_TOL).any(axis=0)
                | ~np.isfinite(m).all(axis=0)
            )
            if bad.any():
                k = _first_bad(bad.reshape(-1))
                shares = m.reshape(S, -1)[:, k]
                raise MarkovError(
                    f"{model.where}: markov model {model.name!r}{context}: start shares "
                    f"{dict(zip(model.states, np.round(shares, 6).tolist(), strict=True))} for "
                    f"draw {cohort.first_draw + k % cohort.n} must lie in [0, 1] and sum to 1"
                )
        self.m = [np.array(row) for row in m]  # per state: an array of its occupancy
        self.flow_buf = scratch.get("flow", shape)
        self.tmp = scratch.get("tmp", shape)
        self.corr = model.correction
        self.cost = np.zeros(shape)
        self.effect = np.zeros(shape)
        self.trace: np.ndarray | None = None
        if trace:
            self.trace = np.empty((*shape, T + 1, S))
            self.trace[..., 0, :] = np.moveaxis(m, 0, -1)
        # static rows are checked once
        self.static_rows = {
            i: cohort.row(i, cohort.base, 1)
            for i in range(S)
            if not any(cohort.is_dynamic(f) for _, f in model.transitions[i])
        }
        # Rewards that do not change with the cycle are applied once, at the end, to the
        # discounted occupancy accumulated per state (one accumulator per discount rate);
        # rewards and transition payoffs that change with the cycle are applied per cycle.
        self.plans = []  # (acc, rate, static state rewards, dynamic ones, static flows, dynamic)
        for state_f, trans_f, rate, acc in (
            (model.state_cost, model.transition_cost, model.discount_cost, self.cost),
            (model.state_effect, model.transition_effect, model.discount_effect, self.effect),
        ):
            dyn = cohort.is_dynamic
            self.plans.append(
                (
                    acc,
                    rate,
                    {s: f for s, f in enumerate(state_f) if f is not None and not dyn(f)},
                    [(s, f) for s, f in enumerate(state_f) if f is not None and dyn(f)],
                    [(i, j, f) for i, j, f in trans_f if not dyn(f)],
                    [(i, j, f) for i, j, f in trans_f if dyn(f)],
                )
            )
        self.rates = sorted({rate for _, rate, *_ in self.plans})
        # (rate, states) -> discounted occupancy of the states together: per rate, the states
        # with the same cycle-free rewards in the plans of that rate (by formula text)
        self.occupancy: dict[tuple[float, tuple[int, ...]], np.ndarray] = {}
        for rate in self.rates:
            groups: dict[tuple, list[int]] = {}
            for s in range(S):
                key = tuple(
                    None if s not in static_s else static_s[s].source
                    for _, r, static_s, *_ in self.plans
                    if r == rate
                )
                if any(k is not None for k in key):
                    groups.setdefault(key, []).append(s)
            for states in groups.values():
                self.occupancy[(rate, tuple(states))] = m[states].sum(axis=0) * self.weight(rate, 0)
        # (rate, i, j) -> discounted flow
        self.flows: dict[tuple[float, int, int], np.ndarray] = {}
        self.flow_rates: dict[tuple[int, int], list[float]] = {}  # (i, j) -> rates of flows
        for _, rate, _, _, static_t, _ in self.plans:
            for i, j, _ in static_t:
                if (rate, i, j) not in self.flows:
                    self.flows[(rate, i, j)] = np.zeros(shape)
                    self.flow_rates.setdefault((i, j), []).append(rate)
        self.dynamic_flows = {(i, j) for *_, dt in self.plans for i, j, _ in dt}
        self.flow_now = {pair: np.empty(shape) for pair in self.dynamic_flows}
        needed_flows = self.dynamic_flows | set(self.flow_rates)
        # An absorbing state that carries no reward, is the source of no payoff and is not
        # traced (typically 'dead') does not need its occupancy: flows into it are skipped
        # (unless a payoff needs the flow).
        ignorable = set()
        if not trace:
            for s_ in range(S):
                row_f = model.transitions[s_]
                absorbing = (
                    len(row_f) == 1
                    and row_f[0][0] == s_
                    and (row_f[0][1] is None or row_f[0][1].constant == 1.0)
                )
                rewarded = model.state_cost[s_] is not None or model.state_effect[s_] is not None
                if absorbing and not rewarded and not any(i == s_ for i, _ in needed_flows):
                    ignorable.add(s_)
        self.tracked = [s_ for s_ in range(S) if s_ not in ignorable]
        # the cycle loop's plan: per tracked state, per entry of its row, None for a flow
        # that nothing needs, else (whether m_t keeps the flow, [(accumulator of the
        # discounted flow, its rate)], the array that keeps the flow for per-cycle payoffs)
        self.plan = [
            (
                i,
                [
                    None
                    if j in ignorable and (i, j) not in needed_flows
                    else (
                        j not in ignorable,
                        [(self.flows[(r, i, j)], r) for r in self.flow_rates.get((i, j), ())],
                        self.flow_now.get((i, j)),
                    )
                    for j, _ in model.transitions[i]
                ],
            )
            for i in self.tracked
        ]
        self.flowed: set[tuple[int, int]] = set()  # pairs of flow_now computed this cycle
        self.has_dynamic_rewards = any(ds or dt for *_, ds, _, dt in self.plans)

    def weight(self, rate: float, c: int, d: Any = None) -> Any:
        """Weight of the occupancy at boundary c in the discounted sum of per-cycle rewards
        (``d``: the discount factor d_c if already known)."""
        corr, T = self.corr, self.T
        if (corr == "none" and c == 0) or (corr == "start" and c == T):
            return 0.0
        d = self.cohort.discount(rate, c) if d is None else d
        return 0.5 * d if corr == "half" and c in (0, T) else d

    def step(self, t: int) -> None:
        """Cycle t: m_t = m_{t-1} P_t, and the rewards of the cycle (call under np.errstate)."""
        cohort, flow_buf, tmp, pool = self.cohort, self.flow_buf, self.tmp, self.scratch.pool
        e = cohort.env_at(t)
        m = self.m
        m_next: list[Any] = [None] * len(m)  # m_t[j], from the pool at the first inflow of j
        disc = {rate: cohort.discount(rate, t) for rate in self.rates}  # d_t
        self.flowed.clear()
        temporaries: list[np.ndarray] = []
        for i, entries in self.plan:
            row = self.static_rows.get(i)
            if row is None:
                row = cohort.row(i, e, t, temporaries)
            mi = m[i]
            for (j, v), entry in zip(row, entries, strict=True):
                if entry is None:  # a flow that nothing needs
                    continue
                if type(v) is not np.ndarray:
                    if v == 0.0:
                        continue
                    one = v == 1.0
                else:
                    one = False
                kept, accumulators, keep_flow = entry
                if keep_flow is not None:  # kept until the per-cycle payoffs
                    flow = np.multiply(mi, v, out=keep_flow)
                    self.flowed.add((i, j))
                elif kept and m_next[j] is None:
                    # first inflow of j: the flow is computed straight into m_t[j] and its
                    # discounted sum is accumulated before later inflows add to it
                    flow = m_next[j] = pool.take(self.shape)
                    if one:
                        np.copyto(flow, mi)
                    else:
                        np.multiply(mi, v, out=flow)
                    kept = False
                elif one:
                    flow = mi
                else:
                    flow = np.multiply(mi, v, out=flow_buf)
                for acc, rate in accumulators:
                    np.add(acc, np.multiply(flow, disc[rate], out=tmp), out=acc)
                if kept:
                    if m_next[j] is not None:
                        np.add(m_next[j], flow, out=m_next[j])
                    else:
                        m_next[j] = pool.take(self.shape)
                        np.copyto(m_next[j], flow)
            while temporaries:
                pool.give(temporaries.pop())
        for j in self.tracked:
            if m_next[j] is None:  # no inflow this cycle
                m_next[j] = pool.take(self.shape)
                m_next[j].fill(0.0)
        weights = {rate: self.weight(rate, t, d) for rate, d in disc.items()}
        for (rate, states), acc in self.occupancy.items():
            w = weights[rate]
            if type(w) is not np.ndarray and w == 0.0:
                continue
            x = m_next[states[0]]
            if len(states) > 1:
                x = np.add(x, m_next[states[1]], out=flow_buf)
                for s in states[2:]:
                    np.add(x, m_next[s], out=x)
            np.add(acc, np.multiply(x, w, out=tmp), out=acc)
        if self.has_dynamic_rewards:
            self._dynamic_rewards(t, e, disc, m_next)
        for j in self.tracked:  # m_{t-1} is used up
            pool.give(m[j])
            m[j] = m_next[j]
        if self.trace is not None:
            for s, occupancy in enumerate(m):
                self.trace[..., t, s] = occupancy

    def _dynamic_rewards(
        self, t: int, e: Mapping[str, Any], disc: Mapping[float, Any], m_next: list[Any]
    ) -> None:
        """The rewards and transition payoffs of cycle t that change with the cycle."""
        cohort, corr, m = self.cohort, self.corr, self.m
        for acc, rate, _, dynamic_s, _, dynamic_t in self.plans:
            if dynamic_s:
                d0 = cohort.discount(rate, t - 1)
                d1 = disc[rate]
                for s, f in dynamic_s:
                    r = cohort.value(f, e)
                    if corr == "none":
                        occ = m_next[s] * d1
                    elif corr == "start":
                        occ = m[s] * d0
                    else:
                        occ = 0.5 * (m[s] * d0 + m_next[s] * d1)
                    acc += occ * r
                    cohort.give_back(f, r)
            if dynamic_t:
                d1 = disc[rate]
                for i, j, f in dynamic_t:
                    if (i, j) in self.flowed:
                        r = cohort.value(f, e)
                        acc += self.flow_now[(i, j)] * (r * d1)
                        cohort.give_back(f, r)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Discounted expected cost and effect, shape (n,) each (after the last cycle)."""
        cohort = self.cohort
        for acc, rate, static_s, _, static_t, _ in self.plans:
            for (r, states), occ in self.occupancy.items():
                if r == rate and states[0] in static_s:
                    acc += occ * cohort.value(static_s[states[0]], cohort.base)
            for i, j, f in static_t:
                acc += self.flows[(rate, i, j)] * cohort.value(f, cohort.base)
        return self.cost, self.effect


def run_markov(
    model: MarkovModel,
    env: Mapping[str, Any],
    n: int,
    start: Mapping[str, Any] | None = None,
    *,
    trace: bool = False,
    context: str = "",
    first_draw: int = 0,
):
    """Run the cohort for all draws at once; return discounted expected cost and effect.

    Parameters
    ----------
    model : MarkovModel
        As :func:`compile_markov` returns it.
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
    first_draw : int
        The number of the first draw in error messages (the offset of a chunk of draws
        in the whole sample).

    Returns
    -------
    cost, effect : numpy.ndarray
        Shape (n,), per member of the cohort.
    trace : numpy.ndarray
        Only when ``trace=True``.

    Raises
    ------
    MarkovError
        The names ``t``, ``time`` or ``cycle_length`` in ``env``, a cycle length that is
        not positive, start shares outside [0, 1] or not summing to 1, or transition
        probabilities outside [0, 1] or not summing to 1 for some draw (the message names
        the cycle and the first failing draw).

    See Also
    --------
    run_cohorts : several cohorts at once, number for number the same.
    transition_matrix : the checked transition probabilities of one cycle.

    Examples
    --------
    >>> spec = {"states": ["a", "b"], "cycles": 2, "discount": {"cost": 0.5},
    ...         "correction": "none",
    ...         "transitions": {"a": {"a": 1}, "b": {"b": 1}}, "state_cost": {"a": 100}}
    >>> cost, _ = run_markov(compile_markov("m", spec), {}, 1)
    >>> round(float(cost[0]), 4)   # 100/1.5 + 100/1.5**2
    111.1111
    """
    scratch = _Scratch()
    memo = Memo(scratch.pool)
    run = _Run(
        model,
        env,
        n,
        start,
        trace=trace,
        context=context,
        memo=memo,
        scratch=scratch,
        first_draw=first_draw,
    )
    with np.errstate(all="ignore"):
        for t in range(1, model.cycles + 1):
            memo.clear()
            run.step(t)
    memo.clear()
    cost, effect = run.result()
    if trace:
        return cost, effect, run.trace
    return cost, effect


def run_cohorts(
    cohorts: Sequence[tuple[MarkovModel, Mapping[str, Any], Mapping[str, Any] | None, str]],
    n: int,
    *,
    first_draw: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Run several cohorts over the same n draws together; their results, in order.

    Each cohort is ``(model, env, start, context)`` as for :func:`run_markov`, and its
    result is the same, number for number. Two things make many cohorts cheaper than
    one :func:`run_markov` each:

    * The cohorts of one model (terminals that bind different ``with`` values or start
      shares) are stacked into one run over arrays of shape (cohorts, n): the names in
      which they differ get one row per cohort and every other name broadcasts, so the
      per-cycle work of the loop is done once for all of them, and a per-cycle value that
      does not use those names (background mortality) is computed once, over n draws.
    * The runs of the different models advance in lockstep and share one memo, cleared
      every cycle, so that a per-cycle value that several models compute from the same
      values (e.g. background mortality at the attained age) is computed once per cycle
      (see :class:`_Cohort`).

    If a check fails, the cohorts are run again one by one, in order, so that the error is
    the one that :func:`run_markov` on each cohort in turn raises first.

    Parameters
    ----------
    cohorts : sequence of tuple
        ``(model, env, start, context)`` per cohort: the arguments of :func:`run_markov`.
    n : int
        Number of draws (of every cohort).
    first_draw : int
        The number of the first draw in error messages (as for :func:`run_markov`).

    Returns
    -------
    list of tuple of numpy.ndarray
        ``(cost, effect)`` per cohort, in order, each of shape (n,).

    Raises
    ------
    MarkovError
        As :func:`run_markov`: the error of the first cohort that fails.

    See Also
    --------
    run_markov : one cohort.

    Examples
    --------
    >>> spec = {"states": ["alive", "dead"], "cycles": 3, "cycle_length": 1,
    ...         "define": {"q": "1 - exp(-h * (1 + t / 10))"},
    ...         "transitions": {"alive": {"dead": "q * hr", "alive": "#"}, "dead": {"dead": 1}},
    ...         "state_effect": {"alive": 1}}
    >>> model = compile_markov("m", spec)
    >>> env = {"h": np.array([0.1, 0.2])}
    >>> together = run_cohorts([(model, dict(env, hr=1.0), None, ""),
    ...                         (model, dict(env, hr=2.0), None, "")], 2)
    >>> one_by_one = [run_markov(model, dict(env, hr=hr), 2) for hr in (1.0, 2.0)]
    >>> all(np.array_equal(a, b) for x, y in zip(together, one_by_one) for a, b in zip(x, y))
    True
    >>> run_cohorts([(model, dict(env, hr=1.0), None, " at A"),
    ...              (model, dict(env, hr=6.0), None, " at B")], 2)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.MarkovError: <graph>: markov model 'm' at B: transition 'alive' -> 'dead' = 1.18489 in cycle 1 is outside [0, 1] (draw 1)
    """
    groups: dict[tuple, list[int]] = {}  # (model, names) -> indices of its cohorts
    for k, (model, env, _, _) in enumerate(cohorts):
        groups.setdefault((id(model), frozenset(env)), []).append(k)
    results: list[Any] = [None] * len(cohorts)
    try:
        stacked = [_stack([cohorts[k] for k in ks], n) for ks in groups.values()]
        for ks, (cost, effect) in zip(groups.values(), _lockstep(stacked), strict=True):
            for row, k in enumerate(ks):
                results[k] = (cost, effect) if len(ks) == 1 else (cost[row], effect[row])
    except MarkovError:
        for model, env, start, context in cohorts:  # raises the error of the first failing
            run_markov(model, env, n, start, context=context, first_draw=first_draw)
        raise
    return results


def _stack(
    cohorts: Sequence[tuple[MarkovModel, Mapping[str, Any], Mapping[str, Any] | None, str]],
    n: int,
) -> tuple[MarkovModel, dict[str, Any], Mapping[str, Any] | None, str, int | tuple[int, int]]:
    """Cohorts of one model (with the same names) as one (model, env, start, context,
    shape) over (k, n) draws.

    A name whose value is not the same object in every cohort gets one row per cohort;
    the others keep their value (so values computed from them alone are computed once).
    """
    model, env, start, context = cohorts[0]
    k = len(cohorts)
    if k == 1:
        return model, dict(env), start, context, n

    def rows(values: list[Any]) -> Any:
        first = values[0]
        if all(v is first or (np.ndim(v) == 0 == np.ndim(first) and v == first) for v in values):
            return first
        return np.stack([np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in values])

    stacked_env = {name: rows([e[name] for _, e, _, _ in cohorts]) for name in env}
    stacked_start = None
    if any(s is not None for _, _, s, _ in cohorts):
        shares = [{model.states[0]: 1.0} if s is None else s for _, _, s, _ in cohorts]
        states = {state for s in shares for state in s}
        stacked_start = {
            state: rows([s.get(state, 0.0) for s in shares])
            for state in model.states
            if state in states
        }
    return model, stacked_env, stacked_start, context, (k, n)


def _lockstep(
    runs: Sequence[tuple[MarkovModel, Mapping[str, Any], Mapping[str, Any] | None, str, Any]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Runs ``(model, env, start, context, n or shape)`` advanced together, cycle by cycle,
    sharing a memo and scratch arrays."""
    scratch = _Scratch()
    memo = Memo(scratch.pool)
    started = [
        _Run(model, env, shape, start, trace=False, context=context, memo=memo, scratch=scratch)
        for model, env, start, context, shape in runs
    ]
    with np.errstate(all="ignore"):
        for t in range(1, max((run.T for run in started), default=0) + 1):
            memo.clear()
            for run in started:
                if t <= run.T:
                    run.step(t)
    memo.clear()
    return [run.result() for run in started]
