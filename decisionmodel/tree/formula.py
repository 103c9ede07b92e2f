"""Restricted formulas: parsed once, evaluated over all draws at once.

A quantity in a tree file (a probability, a cost, an effect, a Markov transition) is a
number, a parameter name, or a formula such as ``1 - exp(-rate * t)``. Formulas are
parsed with :mod:`ast` and checked against a whitelist; they are never passed to
``eval``. Allowed:

* numbers, names (parameters, derived values, ``t`` and friends inside Markov models);
* ``+ - * / **``, unary ``-``/``+``, comparisons ``< <= > >= == !=`` (giving 0/1);
* calls of the functions in :data:`FUNCTIONS` with positional arguments only.

The functions, the named constants and the reserved names are defined in
:mod:`decisionmodel.vocabulary` (below both this module and :mod:`decisionmodel.params`,
which refuses parameter names that are reserved) and are importable from here too.

Everything else (attribute access, subscripts, lambdas, comprehensions, keyword
arguments, strings, dunder names, unknown functions) is rejected with
:class:`~decisionmodel.exceptions.FormulaError`, and so are absurd sizes: formulas
longer than :data:`MAX_LENGTH` characters or deeper than :data:`MAX_DEPTH`, and
constant powers whose result would overflow (``9**9**9``).

For formulas evaluated many times with only some names changing (the cycles of a
Markov model), :meth:`Formula.bind` computes the parts that do not change once, can
compute the rest in place in arrays of an :class:`ArrayPool`, and shares
sub-expressions common to several formulas through a :class:`Memo`;
:meth:`Formula.compute` is the evaluation without checks for such loops.

Examples
--------
>>> import numpy as np
>>> f = parse("1 - exp(-rate * 2)")
>>> sorted(f.names)
['rate']
>>> np.round(f.evaluate({"rate": np.array([0.1, 0.2])}), 4)
array([0.1813, 0.3297])
>>> parse("().__class__")
Traceback (most recent call last):
...
decisionmodel.exceptions.FormulaError: formula '().__class__': attribute access is not allowed
"""

from __future__ import annotations

import ast
import functools
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from decisionmodel.exceptions import FormulaError
from decisionmodel.vocabulary import CONSTANTS, FUNCTIONS, RESERVED_NAMES

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_CONSTANT",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "RESERVED_NAMES",
    "ArrayPool",
    "Formula",
    "Memo",
    "parse",
    "repeated_subexpressions",
]

MAX_LENGTH = 2000
MAX_DEPTH = 100
MAX_CONSTANT = 1e300


def _ensure_float(x: Any) -> Any:
    return np.asarray(x, dtype=float) if np.ndim(x) else float(x)


#: Functions of :data:`FUNCTIONS` that accept ``out=`` (ufuncs and the like).
_OUT_FUNCTIONS = frozenset(
    f
    for f, *_ in FUNCTIONS.values()
    if isinstance(f, np.ufunc) or f in (np.clip, FUNCTIONS["rate_to_prob"][0])
)

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
_REJECT_REASON: dict[type, str] = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Lambda: "lambdas are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.NamedExpr: "assignment expressions are not allowed",
    ast.IfExp: "conditional expressions are not allowed (use where(cond, a, b))",
    ast.BoolOp: "and/or are not allowed (use where(), minimum() or maximum())",
    ast.Tuple: "tuples are not allowed",
    ast.List: "lists are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}


@dataclass(frozen=True)
class Formula:
    """A parsed, checked formula.

    Attributes
    ----------
    source : str
        The text as written.
    names : frozenset of str
        The free names it refers to (function names and constants excluded).
    constant : float or None
        Its value when it depends on no name, else None.
    """

    source: str
    names: frozenset[str]
    constant: float | None
    _code: Callable[[Mapping[str, Any]], Any] = field(repr=False, compare=False)
    _ast: ast.AST | None = field(default=None, repr=False, compare=False)
    _temporary: bool = field(default=False, repr=False, compare=False)

    @property
    def dump(self) -> str:
        """:func:`ast.dump` of the parsed formula: its key in a :class:`Memo` (see
        ``shared`` in :meth:`bind`)."""
        return _dump(self._ast) if self._ast is not None else repr(self.source)

    @property
    def temporary(self) -> bool:
        """Whether :meth:`compute` returns an array of a pool that the caller must give
        back (:meth:`ArrayPool.give`) after its last use (see :meth:`bind`)."""
        return self._temporary

    def bind(
        self,
        env: Mapping[str, Any],
        varying: frozenset[str] | set[str],
        memo: Memo | None = None,
        shared: frozenset[str] | set[str] = frozenset(),
        *,
        pool: ArrayPool | None = None,
    ) -> Formula:
        """A copy in which every sub-expression free of ``varying`` names is computed now.

        Markov transitions are evaluated once per cycle; parts that do not change with
        the cycle (e.g. ``rate_to_prob(lam * hr, cycle_length)`` inside a time-dependent
        formula) are then computed once instead of every cycle.

        Parameters
        ----------
        env : mapping
            Values of the names that do not vary.
        varying : set of str
            Names whose values change between evaluations (given to each evaluation).
        memo : Memo, optional
            With a memo, each varying sub-expression (the whole formula included) whose
            :func:`ast.dump` is in ``shared`` (see :func:`repeated_subexpressions`) is
            looked up in the memo before it is computed: formulas bound to one memo
            compute a common sub-expression once until :meth:`Memo.clear` (e.g. once per
            Markov cycle, for all the cohorts that share the memo) as long as its names
            have the same values.
        shared : set of str
            See ``memo``.
        pool : ArrayPool, optional
            The varying sub-expressions compute their arrays in place: into the array
            of an operand that is a temporary of this formula (``exp(x * 2)``
            exponentiates the array of ``x * 2``), else into an array taken from the
            pool, and give back the arrays of the temporaries they used up. So repeated
            evaluations allocate no memory, make one pass over the draws per operation,
            and reuse arrays still in the processor's cache. If the result is such an
            array (:attr:`temporary`), the caller gives it back after its last use; a
            memoized value goes back to the pool when the memo is cleared.

        Returns
        -------
        Formula
            The formula itself when it uses no ``varying`` name; else a copy whose
            :attr:`names` are the varying names it uses, for :meth:`compute` or
            :meth:`evaluate` with those names.

        Raises
        ------
        FormulaError
            If a name is in neither ``env`` nor ``varying``.

        See Also
        --------
        Memo, ArrayPool, repeated_subexpressions

        Examples
        --------
        >>> f = parse("exp(-a * 2) * t").bind({"a": 0.5}, {"t"})
        >>> round(float(f.evaluate({"t": 3.0})), 6), sorted(f.names)
        (1.103638, ['t'])
        >>> import numpy as np
        >>> pool = ArrayPool()
        >>> g = parse("2 * exp(t)").bind({}, {"t"}, pool=pool)
        >>> a = g.compute({"t": np.zeros(2)})
        >>> g.temporary, a
        (True, array([2., 2.]))
        >>> pool.give(a)
        >>> b = g.compute({"t": np.ones(2)})   # in the array given back
        >>> a is b, np.round(b, 3)
        (True, array([5.437, 5.437]))
        """
        if self._ast is None or not (self.names & set(varying)):
            return self
        missing = [n for n in self.names if n not in env and n not in varying]
        if missing:
            raise FormulaError(
                f"formula {self.source!r}: unknown name(s) {', '.join(sorted(missing))}"
            )
        names: set[str] = set()
        binding = _Binding(env, frozenset(varying), memo, frozenset(shared), pool)
        with np.errstate(all="ignore"):
            code = _compile(self._ast, self.source, names, binding=binding)
        temporary = pool is not None and _owned(self._ast, binding)
        return Formula(self.source, frozenset(names), None, code, self._ast, temporary)

    def compute(self, env: Mapping[str, Any]) -> Any:
        """:meth:`evaluate` without its checks, for hot loops.

        The caller guarantees that every name is in ``env`` (e.g. a formula from
        :meth:`bind` whose varying names the caller provides) and sets the numpy error
        state itself (``np.errstate(all="ignore")``).

        Parameters
        ----------
        env : mapping
            Name -> scalar or array, for every name in :attr:`names`.

        Returns
        -------
        float or numpy.ndarray
            As :meth:`evaluate`; with :attr:`temporary`, an array of the pool of :meth:`bind`.

        See Also
        --------
        evaluate : the same, checked.

        Examples
        --------
        >>> import numpy as np
        >>> f = parse("1 - exp(-h * t)").bind({"h": 0.5}, {"t"})
        >>> with np.errstate(all="ignore"):
        ...     float(f.compute({"t": 2.0})) == float(f.evaluate({"t": 2.0}))
        True
        """
        value = self._code(env)
        if type(value) is np.ndarray and value.dtype == float:
            return value
        return _ensure_float(value)

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Evaluate over the arrays in ``env`` (broadcasting numpy semantics).

        Parameters
        ----------
        env : mapping
            Name → scalar or array. Every name in :attr:`names` must be present.

        Returns
        -------
        float or numpy.ndarray
            A float when every operand is a scalar, else an array.

        Raises
        ------
        FormulaError
            If a name is missing from ``env``.

        Examples
        --------
        >>> parse("a * 2 + b").evaluate({"a": 1.5, "b": 1})
        4.0
        """
        missing = [n for n in self.names if n not in env]
        if missing:
            raise FormulaError(
                f"formula {self.source!r}: unknown name(s) {', '.join(sorted(missing))}"
            )
        with np.errstate(all="ignore"):
            return _ensure_float(self._code(env))

    def __str__(self) -> str:
        return self.source


class ArrayPool:
    """Float arrays for temporaries, taken and given back by shape, the array given back
    last handed out first (so that a temporary reuses memory still in the cache).

    Examples
    --------
    >>> pool = ArrayPool()
    >>> a = pool.take((3,))
    >>> pool.give(a)
    >>> pool.take((3,)) is a, pool.take((3,)) is a
    (True, False)
    """

    __slots__ = ("_free",)

    def __init__(self) -> None:
        self._free: dict[tuple[int, ...], list[np.ndarray]] = {}

    def take(self, shape: tuple[int, ...]) -> np.ndarray:
        """An array of that shape (contents undefined).

        Parameters
        ----------
        shape : tuple of int
            The shape of the array.

        Returns
        -------
        numpy.ndarray
            A float array, the one of that shape given back last if any, else a new one.

        See Also
        --------
        give : the inverse.
        """
        free = self._free.get(shape)
        return free.pop() if free else np.empty(shape)

    def give(self, array: Any) -> None:
        """Give back an array that nothing uses any more (ignores non-float arrays).

        Parameters
        ----------
        array : object
            An array of float of at least one dimension joins the pool; anything else (a
            scalar, an int array) is ignored.

        See Also
        --------
        take : the inverse.
        """
        if type(array) is np.ndarray and array.ndim and array.dtype == float:
            self._free.setdefault(array.shape, []).append(array)


class Memo:
    """Values of formula sub-expressions shared between formulas bound to this memo.

    A value is stored under the sub-expression's :func:`ast.dump` and the identity of
    the values of its names in the environment it was computed in: the ``id`` of an
    array, the value of a scalar. Formulas are pure, so a later evaluation in any
    environment that gives those names the same objects gets the same value. The memo
    keeps the objects of every key alive, so an ``id`` cannot be reused while it is in
    the memo; :meth:`clear` empties it, and must be called before an array that a key
    refers to is modified (a Markov run clears it every cycle). The values are shared:
    callers must not modify them. With a ``pool``, the values of formulas bound with
    that pool are arrays of the pool, given back when the memo is cleared.

    Examples
    --------
    >>> import numpy as np
    >>> fs = [parse("(1 - q) * t"), parse("(1 - q) * t * 2")]
    >>> memo, varying = Memo(), {"q", "t"}
    >>> shared = repeated_subexpressions(fs, varying)
    >>> f, g = (h.bind({}, varying, memo, shared) for h in fs)
    >>> env = {"q": np.array([0.1, 0.2]), "t": 2.0}
    >>> a = f.compute(env)
    >>> b = g.compute(env)   # (1 - q) * t is taken from the memo
    >>> len(memo)   # (1 - q) * t (the value of f) and 1 - q
    2
    >>> np.array_equal(a * 2, b)
    True
    """

    __slots__ = ("_values", "pool")

    def __init__(self, pool: ArrayPool | None = None) -> None:
        self._values: dict[tuple, tuple[Any, tuple, bool]] = {}  # key -> (value, deps, pooled)
        self.pool = pool

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Forget every value (and give the arrays back to the pool, if any)."""
        if self.pool is not None:
            for value, _, pooled in self._values.values():
                if pooled:
                    self.pool.give(value)
        self._values.clear()

    def wrap(
        self,
        tag: str,
        names: tuple[str, ...],
        code: Callable[[Mapping[str, Any]], Any],
        fixed: Mapping[str, Any],
        pooled: bool = False,
    ) -> Callable[[Mapping[str, Any]], Any]:
        """``code`` (env -> value) memoized under ``tag`` and the identity of the values of
        ``names`` in env; the names in ``fixed`` have these values in every env. With
        ``pooled``, the values are arrays of the memo's pool, given back by :meth:`clear`.

        Parameters
        ----------
        tag : str
            The sub-expression's key (its :func:`ast.dump`).
        names : tuple of str
            The free names of the sub-expression.
        code : callable
            Computes the value from an environment (name -> value).
        fixed : mapping
            The names whose values are the same in every environment, with those values
            (kept alive by the returned function).
        pooled : bool
            Whether ``code`` returns arrays of the memo's pool.

        Returns
        -------
        callable
            env -> value: the value stored under the key, else ``code(env)``, stored.

        Examples
        --------
        >>> calls = []
        >>> memo = Memo()
        >>> f = memo.wrap("x + 1", ("x",), lambda env: calls.append(1) or env["x"] + 1, {})
        >>> f({"x": 1.0}), f({"x": 1.0}), f({"x": 2.0}), len(calls)
        (2.0, 2.0, 3.0, 2)
        >>> memo.clear()
        >>> f({"x": 1.0}), len(calls)
        (2.0, 3)
        """
        values = self._values
        constant = tuple(k for k in names if k in fixed)
        varying = tuple(k for k in names if k not in fixed)
        kept = tuple(fixed[k] for k in constant)  # alive as long as the closure
        head = (tag, *[_identity(v) for v in kept])

        def memoized(env: Mapping[str, Any]) -> Any:
            deps = tuple(env[k] for k in varying)
            key = (head, *[id(d) if isinstance(d, np.ndarray) else (d,) for d in deps])
            hit = values.get(key)
            if hit is None:
                hit = values[key] = (code(env), deps, pooled)
            return hit[0]

        return memoized


def _identity(value: Any) -> Any:
    """A value's part of a memo key: the id of an array, else the value (in a tuple)."""
    return id(value) if isinstance(value, np.ndarray) else (value,)


def repeated_subexpressions(
    formulas: Iterable[Formula], varying: frozenset[str] | set[str]
) -> frozenset[str]:
    """:func:`ast.dump` of the compound sub-expressions that use ``varying`` names and
    occur more than once in ``formulas`` (counting repeats within one formula).

    Parameters
    ----------
    formulas : iterable of Formula
        The formulas that will be bound to one :class:`Memo`.
    varying : set of str
        The names that change between evaluations (see :meth:`Formula.bind`).

    Returns
    -------
    frozenset of str
        The ``shared`` argument of :meth:`Formula.bind`.

    Examples
    --------
    >>> fs = [parse("(1 - p) * a"), parse("(1 - p) * b"), parse("p * 2")]
    >>> shared = repeated_subexpressions(fs, {"p"})   # 1 - p
    >>> shared == {ast.dump(ast.parse("1 - p", mode="eval").body)}
    True
    """
    seen: dict[str, int] = {}
    for f in formulas:
        if f._ast is None:
            continue
        for node in ast.walk(f._ast):
            if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call, ast.Compare)):
                if _free_names(node) & set(varying):
                    key = _dump(node)
                    seen[key] = seen.get(key, 0) + 1
    return frozenset(k for k, c in seen.items() if c > 1)


def _fail(source: str, why: str) -> FormulaError:
    return FormulaError(f"formula {source!r}: {why}")


@functools.lru_cache(maxsize=8192)
def _free_names(node: ast.AST) -> frozenset[str]:
    return frozenset(
        n.id
        for n in ast.walk(node)
        if isinstance(n, ast.Name) and n.id not in FUNCTIONS and n.id not in CONSTANTS
    )


@functools.lru_cache(maxsize=8192)
def _dump(node: ast.AST) -> str:
    """:func:`ast.dump` of a parsed (sub-)formula, remembered (bind uses it per node)."""
    return ast.dump(node)


@dataclass(frozen=True)
class _Binding:
    """How :meth:`Formula.bind` compiles: see its parameters."""

    env: Mapping[str, Any]
    varying: frozenset[str]
    memo: Memo | None
    shared: frozenset[str]
    pool: ArrayPool | None


@functools.cache
def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return np.broadcast_shapes(a, b)


def _pooled(
    func: Callable[..., Any], owned: tuple[int, ...], pool: ArrayPool
) -> Callable[..., Any]:
    """``func`` (which accepts ``out=``) computed in place (see ``pool`` in
    :meth:`Formula.bind`).

    The value goes into the first operand at a position in ``owned`` (the array of an
    operand sub-expression that nothing else uses: see :func:`_owned`) of the shape of
    the result, else into an array from the pool; the other owned operands are given
    back to the pool.
    """

    def call(*args: Any) -> Any:
        shape = None
        for a in args:
            if type(a) is np.ndarray:
                shape = a.shape if shape is None or shape == a.shape else _broadcast(shape, a.shape)
        if not shape:  # scalars
            return func(*args)
        out = None
        for p in owned:
            a = args[p]
            if type(a) is np.ndarray and a.shape == shape and a.dtype == float:
                out = a
                break
        value = func(*args, out=pool.take(shape) if out is None else out)
        for p in owned:
            if args[p] is not out:
                pool.give(args[p])
        return value

    return call


def _computed(node: ast.AST, b: _Binding) -> bool:
    """Whether, compiled with ``b`` and not memoized, the node's value is an array that
    it computes per evaluation (not folded, not a name): a temporary."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return False
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
        return _computed(node.operand, b)
    return bool(_free_names(node) & b.varying)


def _owned(node: ast.AST, b: _Binding) -> bool:
    """Whether, compiled with ``b``, the node's value is a temporary that its parent (or
    the caller, at the root) may overwrite and must give back to the pool: computed per
    evaluation and not memoized."""
    if not _computed(node, b):
        return False
    return b.memo is None or _dump(node) not in b.shared


def _compile(
    node: ast.AST,
    source: str,
    names: set[str],
    depth: int = 0,
    binding: _Binding | None = None,
    memoize: bool = True,
):
    """Return a closure env -> value for a whitelisted node; raise otherwise.

    With a ``binding`` (from :meth:`Formula.bind`), sub-expressions that use no varying
    name are evaluated once and become constants, the others are memoized (``memoize``
    is false only for the node being memoized itself) and computed in place as the
    binding says.
    """
    if depth > MAX_DEPTH:
        raise _fail(source, f"nested deeper than {MAX_DEPTH} levels")
    b = binding
    if b is not None and not isinstance(node, (ast.Constant, ast.Name)):
        free = _free_names(node)
        if free and not free & b.varying:
            value = _compile(node, source, set(), depth)(b.env)
            return lambda env: value
        if memoize and b.memo is not None and (dump := _dump(node)) in b.shared:
            code = _compile(node, source, names, depth, b, memoize=False)
            fixed = {k: b.env[k] for k in free if k not in b.varying}
            pooled = b.pool is not None and _computed(node, b)
            return b.memo.wrap(dump, tuple(sorted(free)), code, fixed, pooled)

    def rec(child, source, names, depth):
        return _compile(child, source, names, depth, binding)

    def fn(func, *operands):  # func, or func computing in place (see Formula.bind)
        if b is None or b.pool is None:
            return func
        return _pooled(func, tuple(k for k, x in enumerate(operands) if _owned(x, b)), b.pool)

    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(source, f"constant {value!r} is not a number")
        if not math.isfinite(float(value)) or abs(float(value)) > MAX_CONSTANT:
            raise _fail(source, f"constant {value!r} is too large")
        v = float(value)
        return lambda env: v
    if isinstance(node, ast.Name):
        ident = node.id
        if ident.startswith("_"):
            raise _fail(source, f"name {ident!r} is not allowed (names may not start with '_')")
        if ident in FUNCTIONS:
            raise _fail(source, f"function {ident!r} used without calling it")
        if ident in CONSTANTS:
            c = CONSTANTS[ident]
            return lambda env: c
        names.add(ident)
        return lambda env: env[ident]
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise _fail(source, f"operator {type(node.op).__name__} is not allowed")
        left = rec(node.left, source, names, depth + 1)
        right = rec(node.right, source, names, depth + 1)
        op = fn(op, node.left, node.right)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            inner = rec(node.operand, source, names, depth + 1)
            negative = fn(np.negative, node.operand)
            return lambda env: negative(inner(env))
        if isinstance(node.op, ast.UAdd):
            return rec(node.operand, source, names, depth + 1)
        raise _fail(source, f"operator {type(node.op).__name__} is not allowed")
    if isinstance(node, ast.Compare):
        parts = [rec(node.left, source, names, depth + 1)]
        ops = []
        for op_node, comp in zip(node.ops, node.comparators, strict=True):
            op = _CMPOPS.get(type(op_node))
            if op is None:
                raise _fail(source, f"comparison {type(op_node).__name__} is not allowed")
            ops.append(op)
            parts.append(rec(comp, source, names, depth + 1))

        def compare(env: Mapping[str, Any]) -> Any:
            values = [p(env) for p in parts]
            out = np.ones(np.broadcast(*values).shape, dtype=bool)
            for op, a, b in zip(ops, values[:-1], values[1:], strict=True):
                out = out & op(a, b)
            return out.astype(float)

        return compare
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise _fail(source, "only calls of whitelisted functions by name are allowed")
        fname = node.func.id
        if fname not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise _fail(source, f"unknown function {fname!r} (allowed: {allowed})")
        if node.keywords:
            raise _fail(source, f"keyword arguments are not allowed in {fname}()")
        func, lo, hi = FUNCTIONS[fname]
        if not lo <= len(node.args) <= hi:
            n = f"{lo}" if lo == hi else f"{lo} to {hi}"
            raise _fail(source, f"{fname}() takes {n} argument(s), got {len(node.args)}")
        args = [rec(a, source, names, depth + 1) for a in node.args]
        if func in _OUT_FUNCTIONS:
            func = fn(func, *node.args)
        return lambda env: func(*(a(env) for a in args))
    reason = _REJECT_REASON.get(type(node))
    if reason is None:
        reason = f"{type(node).__name__} is not allowed"
    raise _fail(source, reason)


def _check_constant_powers(tree: ast.AST, source: str) -> None:
    """Reject powers of constants whose value would overflow (e.g. ``9**9**9``)."""

    def const_value(node: ast.AST) -> float | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = const_value(node.operand)
            if v is None:
                return None
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base, exp = const_value(node.left), const_value(node.right)
            if base is None or exp is None:
                return None
            if base != 0 and abs(exp) * math.log10(abs(base)) > 300:
                raise _fail(source, "a constant power is too large")
            try:
                value = float(base) ** float(exp)
            except (OverflowError, ZeroDivisionError, ValueError):
                raise _fail(source, "a constant power cannot be computed") from None
            if not isinstance(value, float):
                raise _fail(source, f"constant power {base!r} ** {exp!r} is not a real number")
            return value
        return None

    try:
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
                const_value(node)
    except RecursionError:
        raise _fail(source, "nested too deeply") from None


def parse(source: str | float | int) -> Formula:
    """Parse a quantity (number, parameter name or formula) into a :class:`Formula`.

    Parameters
    ----------
    source : str or number
        The quantity as written in a tree file.

    Returns
    -------
    Formula

    Raises
    ------
    FormulaError
        If the text is not a valid formula of the restricted grammar.

    Examples
    --------
    >>> parse(0.25).constant
    0.25
    >>> parse("where(age > 70, p_old, p_young)").names == {"age", "p_old", "p_young"}
    True
    >>> parse("__import__('os').system('x')")
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.FormulaError: formula "__import__('os').system('x')": attribute access is not allowed
    """
    if isinstance(source, bool):
        raise FormulaError(f"formula {source!r}: booleans are not quantities")
    if isinstance(source, (int, float)):
        try:
            v = float(source)
        except OverflowError:
            raise FormulaError(
                f"formula {str(source)[:20]}...: a number too large (an integer of "
                f"{len(str(source))} digits)"
            ) from None
        if not math.isfinite(v) or abs(v) > MAX_CONSTANT:
            raise FormulaError(f"formula {source!r}: not a finite number (or too large)")
        return Formula(str(source), frozenset(), v, lambda env: v)
    if not isinstance(source, str):
        raise FormulaError(f"formula {source!r}: expected a number or a string")
    text = source.strip()
    if not text:
        raise FormulaError("formula '': empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula {text[:40]!r}...: longer than {MAX_LENGTH} characters")
    if not text.isascii():
        normal = unicodedata.normalize("NFKC", text)
        if normal != text:  # Python reads identifiers NFKC-normalised: 'ﬁ' is 'fi'
            raise FormulaError(
                f"formula {text!r}: not in NFKC normal form (it would be read as "
                f"{normal!r}); write the names in normal form"
            )
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        msg = getattr(exc, "msg", None) or type(exc).__name__
        raise FormulaError(f"formula {text!r}: syntax error ({msg})") from None
    for sub in ast.walk(tree.body):
        reason = _REJECT_REASON.get(type(sub))
        if reason is not None:
            raise FormulaError(f"formula {text!r}: {reason}")
    _check_constant_powers(tree.body, text)
    names: set[str] = set()
    try:
        code = _compile(tree.body, text, names)
    except RecursionError:
        raise FormulaError(f"formula {text!r}: nested too deeply") from None
    constant = None
    if not names:
        with np.errstate(all="ignore"):
            value = code({})
        value = float(np.asarray(value))
        if not math.isfinite(value):
            raise FormulaError(f"formula {text!r}: evaluates to {value}")
        constant = value
        code = lambda env, _v=value: _v  # noqa: E731
    return Formula(text, frozenset(names), constant, code, tree.body)
