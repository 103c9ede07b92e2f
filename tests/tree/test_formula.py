"""The restricted formula grammar: values against numpy references, hostile inputs rejected.

The rejections are two tables, every case with an explicit id: ``HOSTILE``, text that must
be refused quickly without running anything and with the formula shown in the message, and
``PARSE_ERRORS``, values ``parse`` refuses (wrong arity, unknown functions, values that
are not quantities, names not in NFKC form, constant powers that are not real, the depth
and length limits) with exactly a ``FormulaError`` and the given message fragments. The
accepted side of each limit has its own test.

The random-expression property builds expression trees with hypothesis, evaluates them
recursively with numpy in this file and renders them to text for ``parse``; Python's
``eval`` is never used as the reference.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decisionmodel.exceptions import FormulaError
from decisionmodel.tree import formula as formula_module
from decisionmodel.tree.formula import parse

A = np.array([0.1, 0.5, 0.9, 2.0, -1.5])
B = np.array([0.3, 0.5, 0.2, 1.0, 4.0])
ENV = {"a": A, "b": B, "s": 0.25}

# name -> (formula text, numpy reference written here)
P = np.array([0.05, 0.2, 0.5, 0.8, 0.95])
FUNCTION_CASES = {
    "exp": ("exp(a)", np.exp(A)),
    "log": ("log(b)", np.log(B)),
    "log1p": ("log1p(b)", np.log(1 + B)),
    "expm1": ("expm1(a)", np.exp(A) - 1),
    "log10": ("log10(b)", np.log(B) / np.log(10)),
    "log2": ("log2(b)", np.log(B) / np.log(2)),
    "sqrt": ("sqrt(b)", B**0.5),
    "abs": ("abs(a)", np.where(A < 0, -A, A)),
    "floor": ("floor(a * 3)", np.array([0.0, 1.0, 2.0, 6.0, -5.0])),
    "ceil": ("ceil(a * 3)", np.array([1.0, 2.0, 3.0, 6.0, -4.0])),
    "minimum": ("minimum(a, b)", np.where(A < B, A, B)),
    "maximum": ("maximum(a, b)", np.where(A > B, A, B)),
    "min": ("min(a, s)", np.where(A < 0.25, A, 0.25)),
    "max": ("max(s, b)", np.where(B > 0.25, B, 0.25)),
    "clip": ("clip(a, 0, 1)", np.array([0.1, 0.5, 0.9, 1.0, 0.0])),
    "where": ("where(a > b, a, b * 10)", np.array([3.0, 5.0, 0.9, 2.0, 40.0])),
    "logit": ("logit(p)", np.log(P / (1 - P))),
    "expit": ("expit(a)", 1 / (1 + np.exp(-A))),
    "rate_to_prob": ("rate_to_prob(b)", 1 - np.exp(-B)),
    "prob_to_rate": ("prob_to_rate(p)", -np.log(1 - P)),
    "prob_convert": ("prob_convert(p, 5, 1)", 1 - (1 - P) ** (1 / 5)),
}
EXTRA_CASES = [
    ("rate_to_prob(b, 1/12)", 1 - np.exp(-B / 12)),
    ("prob_to_rate(p, 2)", -np.log(1 - P) / 2),
    ("prob_convert(p, 1, 1/12)", 1 - (1 - P) ** (1 / 12)),
    ("rate_to_prob(prob_to_rate(p, 3), 3)", P),
    ("where(s, 1, 2)", np.ones(5)),  # scalar condition broadcast
    ("where(a - a, 1, 2)", np.full(5, 2.0)),
]


def _env():
    return {**ENV, "p": P}


def test_every_whitelisted_function_is_covered():
    assert set(formula_module.FUNCTIONS) == set(FUNCTION_CASES)


@pytest.mark.parametrize("fname", sorted(FUNCTION_CASES))
def test_function_values(fname):
    text, expect = FUNCTION_CASES[fname]
    f = parse(text)
    np.testing.assert_allclose(f.evaluate(_env()), expect, rtol=1e-12, atol=1e-15)
    assert fname not in f.names


@pytest.mark.parametrize(("text", "expect"), EXTRA_CASES)
def test_function_variants(text, expect):
    np.testing.assert_allclose(parse(text).evaluate(_env()), expect, rtol=1e-12, atol=1e-15)


def test_comparisons_give_zero_one():
    cases = {
        "a < b": (A < B),
        "a <= b": (A <= B),
        "a > b": (A > B),
        "a >= b": (A >= B),
        "a == b": (A == B),
        "a != b": (A != B),
        "0 < a < 1": (A > 0) & (A < 1),
        "a < b <= 1": (A < B) & (B <= 1),
        "0 <= a < b < 3": (A >= 0) & (A < B) & (B < 3),
        "a < b > s": (A < B) & (B > 0.25),
    }
    for text, expect in cases.items():
        out = parse(text).evaluate(ENV)
        assert out.dtype == float, text
        np.testing.assert_array_equal(out, expect.astype(float), err_msg=text)
    assert parse("s < 1").evaluate(ENV) == 1.0
    assert parse("1 > 2").constant == 0.0
    assert parse("1 < 2 < 3").constant == 1.0
    assert parse("1 < 3 < 2").constant == 0.0


def test_comparison_arithmetic():
    # (a > 0) used as an indicator in arithmetic
    np.testing.assert_array_equal(
        parse("(a > 0) * 10 + 1").evaluate(ENV), np.where(A > 0, 11.0, 1.0)
    )


def test_broadcasting_scalars_with_arrays():
    out = parse("a * s + 1").evaluate(ENV)
    np.testing.assert_allclose(out, A * 0.25 + 1, rtol=1e-15)
    assert out.shape == (5,)
    scalar = parse("s * 2 + 1").evaluate(ENV)
    assert isinstance(scalar, float)
    assert scalar == 1.5
    assert isinstance(parse("x").evaluate({"x": 3}), float)
    np.testing.assert_array_equal(parse("2").evaluate(ENV), 2.0)


def test_unary_minus_plus_and_power():
    np.testing.assert_allclose(parse("-a").evaluate(ENV), -A)
    np.testing.assert_allclose(parse("+a").evaluate(ENV), A)
    np.testing.assert_allclose(parse("-b**2").evaluate(ENV), -(B * B))  # ** binds tighter
    np.testing.assert_allclose(parse("(-b)**2").evaluate(ENV), B * B)
    np.testing.assert_allclose(parse("b**-1").evaluate(ENV), 1 / B)
    np.testing.assert_allclose(parse("2**b**2").evaluate(ENV), 2 ** (B * B))  # right-assoc
    np.testing.assert_allclose(parse("b**0.5").evaluate(ENV), np.sqrt(B))
    np.testing.assert_allclose(parse("- - a").evaluate(ENV), A)
    np.testing.assert_allclose(parse("a - -b").evaluate(ENV), A + B)
    assert parse("-2**2").constant == -4.0
    assert parse("2**-2").constant == 0.25
    assert parse("10**300").constant == 1e300


def test_precedence_and_division():
    np.testing.assert_allclose(parse("a + b * s").evaluate(ENV), A + B * 0.25)
    np.testing.assert_allclose(parse("(a + b) * s").evaluate(ENV), (A + B) * 0.25)
    np.testing.assert_allclose(parse("a / b / 2").evaluate(ENV), (A / B) / 2)
    np.testing.assert_allclose(parse("a - b - 1").evaluate(ENV), (A - B) - 1)


def test_constants_and_names():
    assert parse("pi").constant == pytest.approx(np.pi, rel=1e-15)
    assert parse("e").constant == pytest.approx(np.e, rel=1e-15)
    f = parse("1 - exp(-rate * t) + pi")
    assert f.names == frozenset({"rate", "t"})
    assert f.constant is None
    assert parse(0.25).constant == 0.25
    assert parse(3).constant == 3.0
    assert parse("  x  ").names == frozenset({"x"})


def test_missing_name_at_evaluation():
    with pytest.raises(FormulaError, match=r"formula 'a \+ zz'.*zz"):
        parse("a + zz").evaluate(ENV)


def test_runtime_nan_inf_is_not_an_error_at_evaluation():
    # log of a negative parameter draw gives nan, it is the caller's business (validation)
    out = parse("log(a)").evaluate(ENV)
    assert np.isnan(out[-1])


# ----------------------------------------------------------------------------- hostile

#: text that must be rejected quickly, without running anything, naming the formula
HOSTILE = [
    pytest.param("__import__('os').system('x')", id="import-os-system"),
    pytest.param("().__class__", id="dunder-attribute"),
    pytest.param("().__class__.__bases__[0].__subclasses__()", id="subclasses-walk"),
    pytest.param("9**9**9", id="power-tower"),
    pytest.param("10**400", id="huge-power"),
    pytest.param("2**-2000", id="tiny-power"),
    pytest.param("(-2)**1001", id="huge-negative-power"),
    pytest.param("'a'*10", id="string-repeat"),
    pytest.param("lambda: 1", id="lambda"),
    pytest.param("[x for x in y]", id="list-comprehension"),
    pytest.param("{x for x in y}", id="set-comprehension"),
    pytest.param("{x: 1 for x in y}", id="dict-comprehension"),
    pytest.param("(x for x in y)", id="generator"),
    pytest.param("a[0]", id="subscript"),
    pytest.param("a.b", id="attribute"),
    pytest.param("f(x=1)", id="unknown-function-keyword"),
    pytest.param("exp(x=1)", id="keyword-argument"),
    pytest.param("exp(*a)", id="star-argument"),
    pytest.param("max(**a)", id="double-star-argument"),
    pytest.param("open('f')", id="open"),
    pytest.param("eval('1')", id="eval"),
    pytest.param("exec('1')", id="exec"),
    pytest.param("getattr(a, 'b')", id="getattr"),
    pytest.param("__builtins__", id="builtins"),
    pytest.param("_private", id="underscore-name"),
    pytest.param("__class__", id="dunder-name"),
    pytest.param("a if b else c", id="conditional"),
    pytest.param("a and b", id="and"),
    pytest.param("a or b", id="or"),
    pytest.param("not a", id="not"),
    pytest.param("~a", id="invert"),
    pytest.param("a // b", id="floor-division"),
    pytest.param("a % b", id="modulo"),
    pytest.param("a @ b", id="matmul"),
    pytest.param("a << 1", id="shift"),
    pytest.param("a & b", id="bitwise-and"),
    pytest.param("a in b", id="in"),
    pytest.param("a is b", id="is"),
    pytest.param("x := 1", id="walrus"),
    pytest.param("(x := 1)", id="walrus-parenthesised"),
    pytest.param("'string'", id="string"),
    pytest.param("b'bytes'", id="bytes"),
    pytest.param("f'{a}'", id="f-string"),
    pytest.param("True", id="true"),
    pytest.param("False", id="false"),
    pytest.param("None", id="none"),
    pytest.param("...", id="ellipsis"),
    pytest.param("1j", id="complex"),
    pytest.param("1e999", id="infinite-literal"),
    pytest.param("-1e999", id="negative-infinite-literal"),
    pytest.param("1e308 * 10", id="overflowing-product"),
    pytest.param("(1, 2)", id="tuple"),
    pytest.param("[1, 2]", id="list"),
    pytest.param("{1: 2}", id="dict"),
    pytest.param("{1}", id="set"),
    pytest.param("a; b", id="two-statements"),
    pytest.param("import os", id="import"),
    pytest.param("a = 1", id="assignment"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("1 +", id="incomplete"),
    pytest.param("exp(a)(b)", id="call-of-a-call"),
    pytest.param("(lambda: 1)()", id="called-lambda"),
    pytest.param("await a", id="await"),
    pytest.param("1/0", id="division-by-zero"),
    pytest.param("log(-1)", id="log-of-negative"),
    pytest.param("x" + "+x" * 2500, id="5000-characters"),
    pytest.param("(1+" * 200 + "1" + ")" * 200, id="200-nested-sums"),
    pytest.param("(" * 201 + "1" + ")" * 201, id="201-nested-parentheses"),  # parser limit
    pytest.param("-" * 120 + "a", id="120-unary-minus"),  # deeper than MAX_DEPTH
    pytest.param("exp(" * 120 + "a" + ")" * 120, id="120-nested-calls"),
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_inputs_rejected(text, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args))
    t0 = time.perf_counter()
    with pytest.raises(FormulaError) as info:
        parse(text)
    assert time.perf_counter() - t0 < 1.0
    assert calls == []
    msg = str(info.value)
    assert msg.startswith("formula ")
    shown = text.strip()
    if len(shown) > 2000:
        assert repr(shown[:40]) in msg
    elif shown:
        assert repr(shown) in msg


#: a value parse rejects with exactly a FormulaError, message starting "formula ", fragments
PARSE_ERRORS = [
    pytest.param("exp()", ("formula",), id="exp-without-argument"),
    pytest.param("exp(1, 2)", ("formula",), id="exp-with-two-arguments"),
    pytest.param("clip(a, 0)", ("formula",), id="clip-with-two-arguments"),
    pytest.param("where(a, b)", ("formula",), id="where-with-two-arguments"),
    pytest.param("rate_to_prob()", ("formula",), id="rate_to_prob-without-argument"),
    pytest.param("rate_to_prob(a, b, s)", ("formula",), id="rate_to_prob-with-three-arguments"),
    pytest.param("prob_convert(a, b)", ("formula",), id="prob_convert-with-two-arguments"),
    pytest.param("min(a)", ("formula",), id="min-with-one-argument"),
    pytest.param("exp", ("formula",), id="function-not-called"),
    pytest.param("foo(a)", ("formula",), id="unknown-function"),
    # a name is only ever looked up in env: a callable in env is not a function
    pytest.param("a(1)", (), id="name-called"),
    pytest.param(True, (), id="value-true"),
    pytest.param(False, (), id="value-false"),
    pytest.param(None, (), id="value-none"),
    pytest.param(b"1", (), id="value-bytes"),
    pytest.param([1], (), id="value-list"),
    pytest.param({"a": 1}, (), id="value-dict"),
    pytest.param(float("inf"), (), id="value-inf"),
    pytest.param(float("nan"), ("finite",), id="value-nan"),
    pytest.param(10**400, ("too large",), id="value-huge-integer"),
    pytest.param("\ufb01 + 1", ("NFKC",), id="name-not-nfkc"),  # 'ﬁ', which Python reads as 'fi'
    pytest.param("((-8)**0.5)**2", (), id="complex-intermediate-constant-power"),
    pytest.param("2**" + "-" * 1990 + "1", (), id="deep-unary-inside-constant-power"),
    pytest.param("+".join(["x"] * (formula_module.MAX_DEPTH + 3)), ("deeper",), id="too-deep"),
    pytest.param("x" + " " * 2000 + "+ 1", ("longer than",), id="too-long"),
]


@pytest.mark.parametrize(("value", "fragments"), PARSE_ERRORS)
def test_parse_errors(value, fragments):
    with pytest.raises(FormulaError) as info:
        parse(value)
    assert type(info.value) is FormulaError
    msg = str(info.value)
    assert msg.startswith("formula "), msg
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_names_are_not_functions():
    assert parse("a + 1").names == frozenset({"a"})


def test_redundant_parentheses_do_not_count_as_depth():
    # 200 levels of parentheses around one name add no AST node: accepted, means x
    f = parse("(" * 200 + "x" + ")" * 200)
    assert f.names == frozenset({"x"})
    assert f.evaluate({"x": 2.0}) == 2.0


def test_depth_limit_counts_ast_levels():
    # MAX_DEPTH levels are accepted; the table above refuses MAX_DEPTH + 3
    ok = "+".join(["x"] * formula_module.MAX_DEPTH)
    assert parse(ok).evaluate({"x": 1.0}) == formula_module.MAX_DEPTH


def test_short_formula_is_within_the_length_limit():
    ok = "x" + "+0" * 25  # short
    parse(ok)


def test_nfc_names_are_fine() -> None:
    assert parse("\u00e9t\u00e9 + 1").names == {"\u00e9t\u00e9"}


# ----------------------------------------------------------------------------- hypothesis


@dataclass(frozen=True)
class Node:
    op: str
    args: tuple = ()
    value: float | str | None = None


NAMES = {"a": A, "b": B, "s": 0.25}
BIN = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
CMP = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
UNARY_FUNCS = {
    "exp": lambda x: np.exp(np.clip(x, -50, 50)),
    "abs": np.abs,
    "sqrt_abs": lambda x: np.sqrt(np.abs(x)),
    "expit": lambda x: 1 / (1 + np.exp(-x)),
}


def ref(node: Node):
    """Reference evaluation of an expression tree with numpy (no eval)."""
    if node.op == "const":
        return float(node.value)
    if node.op == "name":
        return NAMES[node.value]
    if node.op == "neg":
        return -ref(node.args[0])
    if node.op in BIN:
        return BIN[node.op](ref(node.args[0]), ref(node.args[1]))
    if node.op == "pow":
        return np.power(ref(node.args[0]), float(node.value))
    if node.op in CMP:
        return CMP[node.op](ref(node.args[0]), ref(node.args[1])).astype(float)
    if node.op == "where":
        c, x, y = (ref(a) for a in node.args)
        return np.where(np.asarray(c) != 0, x, y)
    if node.op in ("minimum", "maximum"):
        x, y = (ref(a) for a in node.args)
        return np.minimum(x, y) if node.op == "minimum" else np.maximum(x, y)
    if node.op in UNARY_FUNCS:
        return UNARY_FUNCS[node.op](ref(node.args[0]))
    raise AssertionError(node.op)


def render(node: Node) -> str:
    if node.op == "const":
        v = float(node.value)
        return f"({v!r})" if repr(v).startswith("-") else repr(v)
    if node.op == "name":
        return node.value
    if node.op == "neg":
        return f"(-{render(node.args[0])})"
    if node.op in BIN or node.op in CMP:
        return f"({render(node.args[0])} {node.op} {render(node.args[1])})"
    if node.op == "pow":
        return f"({render(node.args[0])} ** {int(node.value)})"
    if node.op == "exp":
        return f"exp(clip({render(node.args[0])}, -50, 50))"
    if node.op == "sqrt_abs":
        return f"sqrt(abs({render(node.args[0])}))"
    return f"{node.op}({', '.join(render(a) for a in node.args)})"


CONSTANTS = st.floats(min_value=-100, max_value=100, allow_nan=False, allow_infinity=False)


@st.composite
def expressions(draw, depth=0):
    if depth >= 5 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            return Node("const", value=draw(CONSTANTS))
        return Node("name", value=draw(st.sampled_from(sorted(NAMES))))
    sub = expressions(depth + 1)
    kind = draw(st.sampled_from(["neg", "bin", "cmp", "pow", "unary", "minmax", "where"]))
    if kind == "neg":
        return Node("neg", (draw(sub),))
    if kind == "bin":
        return Node(draw(st.sampled_from(sorted(BIN))), (draw(sub), draw(sub)))
    if kind == "cmp":
        return Node(draw(st.sampled_from(sorted(CMP))), (draw(sub), draw(sub)))
    if kind == "pow":
        return Node("pow", (draw(sub),), draw(st.integers(0, 3)))
    if kind == "unary":
        return Node(draw(st.sampled_from(sorted(UNARY_FUNCS))), (draw(sub),))
    if kind == "minmax":
        return Node(draw(st.sampled_from(["minimum", "maximum"])), (draw(sub), draw(sub)))
    return Node("where", (draw(sub), draw(sub), draw(sub)))


def constant_chain(node: Node):
    """Value of a subtree the parser folds when checking constant powers, else None."""
    if node.op == "const":
        return float(node.value)
    if node.op == "neg":
        v = constant_chain(node.args[0])
        return None if v is None else -v
    if node.op == "pow":
        v = constant_chain(node.args[0])
        return None if v is None else v ** int(node.value)
    return None


def huge_constant_power(node: Node) -> bool:
    if node.op == "pow":
        v = constant_chain(node.args[0])
        if v is not None and v != 0 and int(node.value) * np.log10(abs(v)) > 300:
            return True
    return any(huge_constant_power(a) for a in node.args)


@settings(max_examples=300, deadline=None)
@given(expressions())
def test_random_expressions_match_reference(tree):
    text = render(tree)
    with np.errstate(all="ignore", over="ignore"):
        expect = ref(tree)
    used = set()

    def collect(n):
        if n.op == "name":
            used.add(n.value)
        for a in n.args:
            collect(a)

    collect(tree)
    if huge_constant_power(tree):
        with pytest.raises(FormulaError, match="constant power"):
            parse(text)
        return
    if not used and not np.isfinite(expect):
        with pytest.raises(FormulaError, match="evaluates to"):
            parse(text)
        return
    f = parse(text)
    got = f.evaluate(NAMES)
    np.testing.assert_allclose(
        np.broadcast_to(got, np.shape(expect)), expect, rtol=1e-12, atol=0, equal_nan=True
    )
    # free names are exactly those used
    assert f.names == frozenset(used)
    # a constant expression is folded at parse time to the reference value
    if not used:
        assert f.constant == pytest.approx(float(expect), rel=1e-12, abs=0)
