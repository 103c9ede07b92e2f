"""A naive per-draw recursive rollback: the baseline the vectorised engine is measured against.

For each draw separately and each policy, the tree is rolled back recursively with plain
Python floats, and each Markov terminal is run cycle by cycle on a 1-D state vector (the
model's ``define:`` values are evaluated at the start of every cycle, in the order the
compiled model gives, as the engine does). This is how a straightforward implementation
(one loop per PSA run) evaluates a tree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from decisionmodel.tree.compile import CompiledTree


def _markov_one(
    model, env: dict[str, float], start: dict[str, float] | None
) -> tuple[float, float]:
    S = len(model.states)
    L = float(model.cycle_length.evaluate(env))
    env = dict(env, cycle_length=L)
    m = np.zeros(S)
    if start is None:
        m[0] = 1.0
    else:
        for s, v in start.items():
            m[model.states.index(s)] = v
    cost = effect = 0.0
    for t in range(1, model.cycles + 1):
        e = dict(env, t=float(t), time=(t - 1) * L)
        for name, f in model.defines:  # per-cycle values, in the model's dependency order
            e[name] = float(f.evaluate(e))
        P = np.zeros((S, S))
        for i, row in enumerate(model.transitions):
            comp = None
            for j, f in row:
                if f is None:
                    comp = j
                else:
                    P[i, j] += float(f.evaluate(e))
            if comp is not None:
                P[i, comp] += 1.0 - P[i].sum()
        m_next = m @ P
        for formulas, rate, kind in (
            (model.state_cost, model.discount_cost, "c"),
            (model.state_effect, model.discount_effect, "e"),
        ):
            r = np.array([0.0 if f is None else float(f.evaluate(e)) for f in formulas])
            d0 = (1 + rate) ** (-(t - 1) * L)
            d1 = (1 + rate) ** (-t * L)
            if model.correction == "none":
                v = m_next @ r * d1
            elif model.correction == "start":
                v = m @ r * d0
            else:
                v = 0.5 * (m @ r * d0 + m_next @ r * d1)
            if kind == "c":
                cost += v
            else:
                effect += v
        for items, rate, kind in (
            (model.transition_cost, model.discount_cost, "c"),
            (model.transition_effect, model.discount_effect, "e"),
        ):
            for i, j, f in items:
                v = m[i] * P[i, j] * float(f.evaluate(e)) * (1 + rate) ** (-t * L)
                if kind == "c":
                    cost += v
                else:
                    effect += v
        m = m_next
    return cost, effect


def naive_rollback(ct: CompiledTree, env_row: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Expected (cost, effect) of each policy for ONE draw, by recursion."""
    env = dict(env_row)
    for name, f in ct.derived:
        env[name] = float(f.evaluate(env))
    cache: dict[Any, tuple[float, float]] = {}

    def value(node, policy) -> tuple[float, float]:
        c = float(ct.node_cost[node].evaluate(env)) if node in ct.node_cost else 0.0
        e = float(ct.node_effect[node].evaluate(env)) if node in ct.node_effect else 0.0
        kind = ct.kind[node]
        if kind == "terminal":
            tm = ct.terminal_markov.get(node)
            if tm is not None:
                key = tm.key()
                if key not in cache:
                    local = dict(env)
                    for k, f in tm.bindings.items():
                        local[k] = float(f.evaluate(env))
                    start = (
                        None
                        if tm.start is None
                        else {s: float(f.evaluate(env)) for s, f in tm.start.items()}
                    )
                    cache[key] = _markov_one(ct.markov_models[tm.model], local, start)
                mc, me = cache[key]
                c += mc
                e += me
            return c, e
        kids = ct.children[node]
        if kind == "decision":
            chosen = [
                k for k in kids if str(ct.graph.edges[node, k]["action"]) == policy.actions[node]
            ]
            child = chosen[0]
            cc, ce = value(child, policy)
            ec = (
                float(ct.edge_cost[(node, child)].evaluate(env))
                if (node, child) in ct.edge_cost
                else 0.0
            )
            ee = (
                float(ct.edge_effect[(node, child)].evaluate(env))
                if (node, child) in ct.edge_effect
                else 0.0
            )
            return c + ec + cc, e + ee + ce
        probs = []
        comp = None
        for i, k in enumerate(kids):
            f = ct.edge_p[(node, k)]
            if f is None:
                comp = i
                probs.append(0.0)
            else:
                probs.append(float(f.evaluate(env)))
        if comp is not None:
            probs[comp] = 1.0 - sum(probs)
        for p, k in zip(probs, kids, strict=True):
            cc, ce = value(k, policy)
            ec = float(ct.edge_cost[(node, k)].evaluate(env)) if (node, k) in ct.edge_cost else 0.0
            ee = (
                float(ct.edge_effect[(node, k)].evaluate(env))
                if (node, k) in ct.edge_effect
                else 0.0
            )
            c += p * (cc + ec)
            e += p * (ce + ee)
        return c, e

    return {pol.name: value(ct.root, pol) for pol in ct.policies}
