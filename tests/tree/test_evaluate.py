"""The vectorised rollback against a naive per-draw recursive rollback written here.

Random trees are generated with hypothesis: random depth and branching, chance nodes
with probabilities from parameters, derived values and formulas (including the
complement ``#``), node and edge payoffs, decision nodes at the root and embedded below
chance nodes, and terminals handing over to Markov models (with ``with`` bindings and
``start`` shares). The reference enumerates the policies itself (every assignment of
actions to the decision nodes a policy reaches), then for each draw and each policy
recursively computes the expected cost and effect with Python floats, running a
Markov cohort per draw with plain loops. Every quantity is a small object carrying both
its text (for the tree file) and a Python function (for the reference), so the
reference never goes through the engine's formula parser.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from decisionmodel.tree import compile_tree, evaluate, tree_from_dict

# ----------------------------------------------------------------------------- quantities


@dataclass(frozen=True)
class Q:
    text: str
    fn: Any  # env (name -> float) -> float

    def __call__(self, env):
        return float(self.fn(env))


def const(v: float) -> Q:
    return Q(repr(float(v)), lambda env: v)


def name(n: str) -> Q:
    return Q(n, lambda env: env[n])


def scale(a: float, q: Q) -> Q:
    return Q(f"{a!r} * ({q.text})", lambda env: a * q(env))


def one_minus(q: Q) -> Q:
    return Q(f"1 - ({q.text})", lambda env: 1.0 - q(env))


def times(q1: Q, q2: Q) -> Q:
    return Q(f"({q1.text}) * ({q2.text})", lambda env: q1(env) * q2(env))


PR = [f"pr{i}" for i in range(4)]
# probabilities in [0, 1] on every draw (parameters, a derived value, formulas)
PROBS = [
    *(name(p) for p in PR),
    name("pd"),  # derived: pr0 * pr1
    one_minus(name("pr2")),
    times(name("pr1"), name("pr3")),
    const(0.3),
    Q("0.5 * pr0 + 0.25", lambda env: 0.5 * env["pr0"] + 0.25),
    Q("where(pr3 > 0.5, pr3, 0.5)", lambda env: env["pr3"] if env["pr3"] > 0.5 else 0.5),
    Q("expit(logit(pr1))", lambda env: env["pr1"]),
    Q("rate_to_prob(hr, 0.5)", lambda env: 1.0 - np.exp(-env["hr"] * 0.5)),
]
COSTS = [
    name("c0"),
    name("c1"),
    name("cd"),  # derived: c0 + 2 * c1
    Q("c1 * 2 + 10", lambda env: env["c1"] * 2 + 10),
    const(100.0),
    const(-5.0),
    Q("maximum(c0, c2)", lambda env: max(env["c0"], env["c2"])),
]
EFFECTS = [
    name("u0"),
    name("u1"),
    one_minus(name("u1")),
    const(0.5),
    Q("u0 * u1", lambda env: env["u0"] * env["u1"]),
    Q("-0.1 * u2", lambda env: -0.1 * env["u2"]),
]
DERIVED = {"pd": "pr0 * pr1", "cd": "c0 + 2 * c1"}


def with_derived(env: dict) -> dict:
    out = dict(env)
    out["pd"] = out["pr0"] * out["pr1"]
    out["cd"] = out["c0"] + 2 * out["c1"]
    return out


def draw_params(seed: int, n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    env = {p: rng.uniform(0, 1, n) for p in PR}
    env.update({f"c{i}": rng.uniform(0, 1000, n) for i in range(3)})
    env.update({f"u{i}": rng.uniform(0, 1, n) for i in range(3)})
    env["q0"] = rng.uniform(0, 0.2, n)
    env["pm"] = rng.uniform(0, 0.3, n)
    env["hr"] = rng.uniform(0.5, 2.0, n)
    env["s0"] = rng.uniform(0, 1, n)
    return env


# ----------------------------------------------------------------------------- markov


@dataclass
class RefModel:
    """A Markov model: its declaration (text) and a plain-Python twin."""

    spec: dict
    states: list
    L: float
    T: int
    correction: str
    rc: float
    re: float
    P: Any  # (env, t) -> list of rows
    Rc: Any  # (env, t) -> list
    Re: Any
    flows_c: list = field(default_factory=list)  # (i, j, value)
    flows_e: list = field(default_factory=list)


def model_one(T: int, L: float, correction: str) -> RefModel:
    spec = {
        "states": ["well", "sick", "dead"],
        "cycles": T,
        "cycle_length": L,
        "correction": correction,
        "discount": {"cost": 0.035, "effect": 0.015},
        "transitions": {
            "well": {"sick": "pm * hr", "dead": "q0", "well": "#"},
            "sick": {"dead": 0.2, "sick": "#"},
            "dead": {"dead": 1},
        },
        "state_cost": {"well": 10, "sick": "c0 * cycle_length"},
        "state_effect": {"well": "cycle_length", "sick": "u0 * cycle_length"},
        "transition_cost": {"well": {"sick": 500}},
    }

    def P(env, t):
        a, b = env["pm"] * env["hr"], env["q0"]
        return [[1 - a - b, a, b], [0.0, 0.8, 0.2], [0.0, 0.0, 1.0]]

    return RefModel(
        spec,
        spec["states"],
        L,
        T,
        correction,
        0.035,
        0.015,
        P,
        lambda env, t: [10.0, env["c0"] * L, 0.0],
        lambda env, t: [L, env["u0"] * L, 0.0],
        flows_c=[(0, 1, 500.0)],
    )


def model_two(T: int, correction: str) -> RefModel:
    spec = {
        "states": ["alive", "dead"],
        "cycles": T,
        "correction": correction,
        "discount": 0.03,
        "transitions": {"alive": {"dead": "q0 + 0.01 * t", "alive": "#"}, "dead": {"dead": 1}},
        "state_cost": {"alive": "c1"},
        "state_effect": {"alive": "1 / t"},
        "transition_effect": {"alive": {"dead": -0.25}},
    }

    def P(env, t):
        q = env["q0"] + 0.01 * t
        return [[1 - q, q], [0.0, 1.0]]

    return RefModel(
        spec,
        spec["states"],
        1.0,
        T,
        correction,
        0.03,
        0.03,
        P,
        lambda env, t: [env["c1"], 0.0],
        lambda env, t: [1.0 / t, 0.0],
        flows_e=[(0, 1, -0.25)],
    )


def markov_reference(model: RefModel, env: dict, start: list[float]) -> tuple[float, float]:
    """Per-draw cohort with plain loops (cycles t = 1..T)."""
    S = len(model.states)
    m = list(start)
    cost = effect = 0.0
    L = model.L
    for t in range(1, model.T + 1):
        P = model.P(env, t)
        nxt = [sum(m[i] * P[i][j] for i in range(S)) for j in range(S)]
        for R, r, which in ((model.Rc(env, t), model.rc, "c"), (model.Re(env, t), model.re, "e")):
            d0 = (1 + r) ** (-(t - 1) * L)
            d1 = (1 + r) ** (-t * L)
            if model.correction == "none":
                occ = [x * d1 for x in nxt]
            elif model.correction == "start":
                occ = [x * d0 for x in m]
            else:
                occ = [(a * d0 + b * d1) / 2 for a, b in zip(m, nxt, strict=True)]
            val = sum(o * x for o, x in zip(occ, R, strict=True))
            if which == "c":
                cost += val
            else:
                effect += val
        for i, j, v in model.flows_c:
            cost += m[i] * P[i][j] * v * (1 + model.rc) ** (-t * L)
        for i, j, v in model.flows_e:
            effect += m[i] * P[i][j] * v * (1 + model.re) ** (-t * L)
        m = nxt
    return cost, effect


# ----------------------------------------------------------------------------- trees


@dataclass
class Node:
    kind: str
    key: str  # action or label of the edge leading here ("" for the root)
    name: str = ""  # decision nodes: unique display name
    cost: Q | None = None
    effect: Q | None = None
    p: Q | str | None = None  # probability of the edge leading here (chance parent)
    edge_cost: Q | None = None
    edge_effect: Q | None = None
    markov: tuple | None = None  # (model name, with-hr Q or None, start shares or None)
    children: list = field(default_factory=list)


def to_doc(node: Node, root: bool = False) -> dict:
    d: dict[str, Any] = {"kind": node.kind}
    if root:
        d["name"] = node.name or "root"
    else:
        d["action" if node.p is None else "label"] = node.key
        if node.p is not None:
            d["p"] = node.p if isinstance(node.p, str) else node.p.text
        if node.name:
            d["name"] = node.name
    for k in ("cost", "effect", "edge_cost", "edge_effect"):
        q = getattr(node, k)
        if q is not None:
            d[k] = q.text
    if node.markov is not None:
        model, hr, start = node.markov
        spec: dict[str, Any] = {"model": model}
        if hr is not None:
            spec["with"] = {"hr": hr.text}
        if start is not None:
            spec["start"] = start
        d["markov"] = spec
    if node.children:
        d["branches"] = [to_doc(c) for c in node.children]
    return d


def chance_probabilities(draw, k: int) -> list[Q | str]:
    x = draw(st.sampled_from(PROBS))
    if k == 2:
        if draw(st.booleans()):
            probs: list[Q | str] = [x, "#"]
        else:
            probs = [x, one_minus(x)]
    else:
        pattern = draw(st.sampled_from(["complement", "explicit"]))
        if pattern == "complement":
            y = draw(st.sampled_from(PROBS))
            probs = [scale(0.5, x), scale(0.5, y), "#"]
        else:
            y = draw(st.sampled_from(PROBS))
            probs = [times(x, y), times(x, one_minus(y)), one_minus(x)]
    order = draw(st.permutations(range(k)))
    return [probs[i] for i in order]


@st.composite
def nodes(draw, depth: int, max_depth: int, counter: list, kind: str | None = None) -> Node:
    if kind is None:
        if depth >= max_depth:
            kind = "terminal"
        else:
            kind = draw(st.sampled_from(["terminal", "chance", "chance", "decision"]))
    node = Node(kind=kind, key="")
    if draw(st.integers(0, 2)) == 0:
        node.cost = draw(st.sampled_from(COSTS))
    if draw(st.integers(0, 2)) == 0:
        node.effect = draw(st.sampled_from(EFFECTS))
    if kind == "terminal":
        if draw(st.integers(0, 2)) == 0:
            model = draw(st.sampled_from(["m1", "m2"]))
            hr = draw(
                st.sampled_from(
                    [None, name("hr"), const(1.5), Q("hr / 2", lambda env: env["hr"] / 2)]
                )
            )
            start = None
            if draw(st.booleans()):
                first, second = ("well", "sick") if model == "m1" else ("alive", "dead")
                start = {first: "s0", second: "1 - s0"}
            node.markov = (model, hr, start)
        return node
    k = draw(st.integers(2, 3))
    if kind == "decision":
        counter[0] += 1
        node.name = f"D{counter[0]}"
        for i in range(k):
            child = draw(nodes(depth + 1, max_depth, counter))
            child.key = f"a{i}"
            node.children.append(child)
    else:
        probs = chance_probabilities(draw, k)
        for i in range(k):
            child = draw(nodes(depth + 1, max_depth, counter))
            child.key = f"b{i}"
            child.p = probs[i]
            node.children.append(child)
    for child in node.children:
        if draw(st.integers(0, 3)) == 0:
            child.edge_cost = draw(st.sampled_from(COSTS))
        if draw(st.integers(0, 3)) == 0:
            child.edge_effect = draw(st.sampled_from(EFFECTS))
    return node


@st.composite
def random_models(draw):
    c1 = draw(st.sampled_from(["none", "start", "half-cycle"]))
    c2 = draw(st.sampled_from(["none", "start", "half-cycle"]))
    return {
        "m1": model_one(draw(st.integers(1, 8)), draw(st.sampled_from([1.0, 0.5])), c1),
        "m2": model_two(draw(st.integers(1, 8)), c2),
    }


@st.composite
def cases(draw):
    counter = [0]
    root_kind = draw(st.sampled_from(["decision", "chance"]))
    root = draw(nodes(0, draw(st.integers(1, 3)), counter, kind=root_kind))
    root.name = root.name or "root"
    models = draw(random_models())
    seed = draw(st.integers(0, 2**32 - 1))
    return root, models, seed


def build_graph(root: Node, models: dict):
    doc = {
        "name": "random",
        "derived": dict(DERIVED),
        "markov": {k: m.spec for k, m in models.items()},
        "tree": to_doc(root, root=True),
    }
    return tree_from_dict(doc, "random.yaml")


# ----------------------------------------------------------------------------- reference


def enumerate_policies(node: Node) -> list[dict[str, str]]:
    if node.kind == "terminal":
        return [{}]
    if node.kind == "chance":
        out = []
        for combo in itertools.product(*(enumerate_policies(c) for c in node.children)):
            merged: dict[str, str] = {}
            for part in combo:
                merged.update(part)
            out.append(merged)
        return out
    return [{node.name: c.key, **sub} for c in node.children for sub in enumerate_policies(c)]


def preorder(node: Node) -> list[Node]:
    out = [node]
    for c in node.children:
        out.extend(preorder(c))
    return out


def policy_name(root: Node, pol: dict[str, str], fixed: set[str], tree_name: str) -> str:
    """Documented naming: root action first, then 'label: action' for the other
    decisions the policy reaches (in preorder), those fixed by protocol left out."""
    shown = [n.name for n in preorder(root) if n.kind == "decision" and n.name in pol]
    if root.kind == "decision":
        rest = [f"{d}: {pol[d]}" for d in shown if d != root.name and d not in fixed]
        head = pol[root.name]
        return head if not rest else f"{head} [{'; '.join(rest)}]"
    parts = [f"{d}: {pol[d]}" for d in shown if d not in fixed]
    return "; ".join(parts) if parts else tree_name


def probabilities(node: Node, env: dict) -> list[float]:
    vals = [None if c.p == "#" else c.p(env) for c in node.children]
    if None in vals:
        rest = 1.0 - sum(v for v in vals if v is not None)
        vals = [rest if v is None else v for v in vals]
    return vals


def rollback(node: Node, pol: dict, env: dict, models: dict, cache: dict) -> tuple[float, float]:
    """Expected (cost, effect) of the subtree for one draw and one policy."""
    c = node.cost(env) if node.cost is not None else 0.0
    e = node.effect(env) if node.effect is not None else 0.0
    if node.kind == "terminal":
        if node.markov is not None:
            key = id(node)
            if key not in cache:
                model_name, hr, start = node.markov
                local = dict(env)
                if hr is not None:
                    local["hr"] = hr(env)
                model = models[model_name]
                if start is None:
                    m0 = [1.0] + [0.0] * (len(model.states) - 1)
                else:
                    m0 = [env["s0"], 1.0 - env["s0"]] + [0.0] * (len(model.states) - 2)
                cache[key] = markov_reference(model, local, m0)
            mc, me = cache[key]
            c += mc
            e += me
        return c, e

    def edge(child):
        ec = child.edge_cost(env) if child.edge_cost is not None else 0.0
        ee = child.edge_effect(env) if child.edge_effect is not None else 0.0
        cc, ce = rollback(child, pol, env, models, cache)
        return ec + cc, ee + ce

    if node.kind == "decision":
        (child,) = [ch for ch in node.children if ch.key == pol[node.name]]
        ec, ee = edge(child)
        return c + ec, e + ee
    for p, child in zip(probabilities(node, env), node.children, strict=True):
        ec, ee = edge(child)
        c += p * ec
        e += p * ee
    return c, e


def reference(root, models, params, n, fixed=None):
    fixed = fixed or {}
    pols = [p for p in enumerate_policies(root) if all(p.get(d, a) == a for d, a in fixed.items())]
    envs = [with_derived({v: float(a[k]) for v, a in params.items()}) for k in range(n)]
    caches: list[dict] = [{} for _ in range(n)]  # Markov results per draw and terminal
    out = {}
    for pol in pols:
        nm = policy_name(root, pol, set(fixed), "random")
        cost = np.empty(n)
        effect = np.empty(n)
        for k in range(n):
            cost[k], effect[k] = rollback(root, pol, envs[k], models, caches[k])
        assert nm not in out
        out[nm] = (cost, effect)
    return out


def decision_count(root: Node) -> int:
    return sum(1 for n in preorder(root) if n.kind == "decision")


# ----------------------------------------------------------------------------- properties

N_DRAWS = 9


@settings(max_examples=120, deadline=None)
@given(cases())
def test_vectorised_rollback_equals_naive_reference(case):
    root, models, seed = case
    assume(len(enumerate_policies(root)) <= 60)
    G = build_graph(root, models)
    params = draw_params(seed, N_DRAWS)
    out = evaluate(G, params)
    ref = reference(root, models, params, N_DRAWS)
    assert sorted(out["strategy"].values.tolist()) == sorted(ref)
    assert len(out["strategy"]) == len(ref)
    for nm, (cost, effect) in ref.items():
        np.testing.assert_allclose(
            out["cost"].sel(strategy=nm).values, cost, rtol=1e-9, atol=1e-9, err_msg=nm
        )
        np.testing.assert_allclose(
            out["effect"].sel(strategy=nm).values, effect, rtol=1e-9, atol=1e-12, err_msg=nm
        )


@settings(max_examples=40, deadline=None)
@given(cases())
def test_paths_chunks_and_protocol(case):
    root, models, seed = case
    assume(len(enumerate_policies(root)) <= 60)
    G = build_graph(root, models)
    params = draw_params(seed, N_DRAWS)
    ct = compile_tree(G)
    base = evaluate(ct, params, paths=True)

    # path probabilities of each policy sum to 1 on every draw
    reach = base["reaches"].values.astype(float)
    prob = base["path_probability"].values
    np.testing.assert_allclose(reach @ prob, 1.0, rtol=0, atol=1e-12)
    assert (prob >= 0).all()
    # and the policy values are the reach-weighted path values
    np.testing.assert_allclose(
        reach @ (prob * base["path_cost"].values), base["cost"].values, rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(
        reach @ (prob * base["path_effect"].values), base["effect"].values, rtol=1e-12, atol=1e-12
    )

    # the same across chunk sizes (up to the last bit: the policy-by-terminal matrix
    # product may be summed in another order by BLAS for another number of columns)
    for chunk in (1, 7, 10**6):
        other = evaluate(ct, params, chunk_size=chunk, paths=True)
        for var in ("cost", "effect"):
            np.testing.assert_allclose(other[var].values, base[var].values, rtol=1e-14, atol=1e-12)
        for var in ("path_probability", "path_cost", "path_effect"):
            np.testing.assert_array_equal(other[var].values, base[var].values)

    # protocol removes policies; those left keep their values
    decisions = [nd for nd in preorder(root) if nd.kind == "decision"]
    if not decisions:
        return
    which = decisions[seed % len(decisions)]
    action = which.children[seed % len(which.children)].key
    restricted = evaluate(G, params, protocol={which.name: action})
    ref = reference(root, models, params, N_DRAWS, fixed={which.name: action})
    assert sorted(restricted["strategy"].values.tolist()) == sorted(ref)
    assert len(restricted["strategy"]) < len(base["strategy"])
    # every restricted policy equals the unrestricted policy with the same actions
    full = {p.name: p.actions for p in ct.policies}
    restricted_ct = compile_tree(G, protocol={which.name: action})
    for pol in restricted_ct.policies:
        (match,) = [nm for nm, acts in full.items() if acts == pol.actions]
        for var in ("cost", "effect"):
            np.testing.assert_allclose(
                restricted[var].sel(strategy=pol.name).values,
                base[var].sel(strategy=match).values,
                rtol=1e-14,
                atol=1e-12,
            )


# ----------------------------------------------------------------------------- pivot example


def pivot_tree():
    return tree_from_dict(
        {
            "name": "crlm",
            "parameters": {
                "p_perit": {"distribution": "beta", "alpha": 20, "beta": 80},
                "u_bypass": {"distribution": "uniform", "low": 0.2, "high": 1.0},
                "u_close": {"distribution": "uniform", "low": 0.2, "high": 1.0},
            },
            "tree": {
                "kind": "decision",
                "name": "strategy",
                "branches": [
                    {
                        "action": "curative resection",
                        "kind": "chance",
                        "cost": 20000,
                        "branches": [
                            {
                                "label": "peritoneal disease",
                                "p": "p_perit",
                                "kind": "decision",
                                "name": "pivot",
                                "branches": [
                                    {
                                        "action": "bypass",
                                        "kind": "terminal",
                                        "cost": 8000,
                                        "effect": "u_bypass",
                                    },
                                    {
                                        "action": "close",
                                        "kind": "terminal",
                                        "cost": 1000,
                                        "effect": "u_close",
                                    },
                                ],
                            },
                            {
                                "label": "no peritoneal disease",
                                "p": "#",
                                "kind": "terminal",
                                "effect": 5,
                            },
                        ],
                    },
                    {
                        "action": "systemic chemotherapy",
                        "kind": "terminal",
                        "cost": 15000,
                        "effect": 2.5,
                    },
                ],
            },
        },
        "pivot.yaml",
    )


def test_pivot_example_policies_and_no_per_draw_maximisation():
    G = pivot_tree()
    ct = compile_tree(G)
    assert ct.strategy_names == [
        "curative resection [pivot: bypass]",
        "curative resection [pivot: close]",
        "systemic chemotherapy",
    ]
    # draws where bypass and close alternate as the better pivot action
    p = np.array([0.3, 0.3, 0.3, 0.3])
    ub = np.array([0.9, 0.2, 0.9, 0.2])
    uc = np.array([0.2, 0.9, 0.2, 0.9])
    out = evaluate(G, {"p_perit": p, "u_bypass": ub, "u_close": uc})
    assert out.sizes == {"strategy": 3, "sample": 4}
    cost = {
        "curative resection [pivot: bypass]": 20000 + p * 8000,
        "curative resection [pivot: close]": 20000 + p * 1000,
        "systemic chemotherapy": np.full(4, 15000.0),
    }
    effect = {
        "curative resection [pivot: bypass]": p * ub + (1 - p) * 5,
        "curative resection [pivot: close]": p * uc + (1 - p) * 5,
        "systemic chemotherapy": np.full(4, 2.5),
    }
    for nm in cost:
        np.testing.assert_allclose(out["cost"].sel(strategy=nm).values, cost[nm], rtol=1e-12)
        np.testing.assert_allclose(out["effect"].sel(strategy=nm).values, effect[nm], rtol=1e-12)

    wtp = 50000.0
    nmb = wtp * out["effect"].values - out["cost"].values  # (strategy, sample)
    best_expected = nmb.mean(axis=1).max()
    clairvoyant = nmb.max(axis=0).mean()  # picks the pivot action inside each draw
    # the two resection policies each win on half of the draws
    winners = set(np.argmax(nmb, axis=0).tolist())
    assert winners == {0, 1}
    assert clairvoyant > best_expected + 1000
    # evaluate never returns per-draw maxima: no row is the clairvoyant envelope
    envelope = nmb.max(axis=0)
    for row in nmb:
        assert not np.allclose(row, envelope)
    # and the "clairvoyant pivot" (best of bypass/close within each draw) is not a policy
    pivot_envelope = np.maximum(
        effect["curative resection [pivot: bypass]"], effect["curative resection [pivot: close]"]
    )
    for row in out["effect"].values:
        assert not np.allclose(row, pivot_envelope)


def test_pivot_every_policy_evaluated_on_every_draw_with_sampled_parameters():
    from decisionmodel.params import sample_parameters

    G = pivot_tree()
    ds = sample_parameters(G, 500, np.random.default_rng(7))
    out = evaluate(G, ds)
    p, ub, uc = (ds[v].values for v in ("p_perit", "u_bypass", "u_close"))
    np.testing.assert_allclose(out["effect"].values[0], p * ub + (1 - p) * 5, rtol=1e-12)
    np.testing.assert_allclose(out["effect"].values[1], p * uc + (1 - p) * 5, rtol=1e-12)
    np.testing.assert_array_equal(out["sample"].values, ds["sample"].values)
    # protocol: fixing the pivot leaves one resection policy with the same values
    fixed = evaluate(G, ds, protocol={"pivot": "close"})
    assert list(fixed["strategy"].values) == ["curative resection", "systemic chemotherapy"]
    np.testing.assert_array_equal(fixed["effect"].values[0], out["effect"].values[1])


# ----------------------------------------------------------------------------- small fixed cases


def test_small_tree_by_hand_with_edge_payoffs():
    G = tree_from_dict(
        {
            "tree": {
                "kind": "decision",
                "name": "d",
                "cost": 1,
                "branches": [
                    {
                        "action": "a",
                        "edge_cost": 10,
                        "edge_effect": 0.5,
                        "kind": "chance",
                        "cost": 100,
                        "branches": [
                            {
                                "label": "x",
                                "p": "p",
                                "edge_cost": 1000,
                                "kind": "terminal",
                                "effect": 2,
                            },
                            {"label": "y", "p": "#", "kind": "terminal", "cost": 7, "effect": -1},
                        ],
                    },
                    {"action": "b", "kind": "terminal", "effect": 0.25},
                ],
            }
        }
    )
    out = evaluate(G, {"p": [0.0, 0.25, 1.0]}, paths=True)
    p = np.array([0.0, 0.25, 1.0])
    np.testing.assert_allclose(out["cost"].values[0], 1 + 10 + 100 + p * 1000 + (1 - p) * 7)
    np.testing.assert_allclose(out["effect"].values[0], 0.5 + p * 2 - (1 - p))
    np.testing.assert_allclose(out["cost"].values[1], 1.0)
    np.testing.assert_allclose(out["effect"].values[1], 0.25)
    assert list(out["path"].values) == ["d/a/x", "d/a/y", "d/b"]
    np.testing.assert_allclose(out["path_cost"].sel(path="d/a/x").values, 1111.0)
    np.testing.assert_allclose(out["path_probability"].sel(path="d/a/y").values, 1 - p)


@pytest.mark.parametrize("chunk", [1, 2, 3, 100])
def test_chunk_sizes_on_many_draws(chunk):
    G = pivot_tree()
    from decisionmodel.params import sample_parameters

    ds = sample_parameters(G, 10, np.random.default_rng(3))
    a = evaluate(G, ds)
    b = evaluate(G, ds, chunk_size=chunk)
    np.testing.assert_array_equal(a["cost"].values, b["cost"].values)
    np.testing.assert_array_equal(a["effect"].values, b["effect"].values)


def test_scalar_parameters_broadcast_over_draws():
    G = pivot_tree()
    out = evaluate(G, {"p_perit": [0.1, 0.2], "u_bypass": 0.5, "u_close": 0.4})
    assert out.sizes["sample"] == 2
    np.testing.assert_allclose(out["effect"].values[0], [0.1 * 0.5 + 0.9 * 5, 0.2 * 0.5 + 0.8 * 5])
