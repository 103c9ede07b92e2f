"""Markov cohorts against closed forms and loops written here.

Semantics under test (module docstring of decisionmodel.tree.markov): cycles t = 1..T,
m_t = m_{t-1} P_t; the occupancy credited to cycle t is m_t d_t (none), m_{t-1} d_{t-1}
(start) or their average (half-cycle), with d_c = (1 + r)^(-c L); transition payoffs
are m_{t-1,i} P_t[i, j] v d_t.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from decisionmodel.exceptions import MarkovError
from decisionmodel.tree import evaluate, tree_from_dict
from decisionmodel.tree.markov import compile_markov, run_markov, transition_matrix


def alive_dead(q="q", T=10, correction="none", L=1, discount=None, **extra):
    spec = {
        "states": ["alive", "dead"],
        "cycles": T,
        "cycle_length": L,
        "correction": correction,
        "transitions": {"alive": {"dead": q, "alive": "#"}, "dead": {"dead": 1}},
        "state_effect": {"alive": 1},
    }
    if discount is not None:
        spec["discount"] = discount
    spec.update(extra)
    return compile_markov("m", spec, "test.yaml")


def ly(q, T, correction, env=None, **kw):
    model = alive_dead(T=T, correction=correction, **kw)
    env = {"q": q} if env is None else env
    n = np.size(q)
    cost, effect = run_markov(model, env, n)
    return cost, effect


@pytest.mark.parametrize("q", [0.0, 0.05, 0.3, 1.0])
@pytest.mark.parametrize("T", [1, 2, 10, 37])
def test_undiscounted_life_years_closed_forms(q, T):
    s = 1 - q
    none = sum(s**t for t in range(1, T + 1))
    start = sum(s**t for t in range(T))
    for correction, expect in (
        ("none", none),
        ("start", start),
        ("half-cycle", (none + start) / 2),
    ):
        cost, effect = ly(np.array([q]), T, correction)
        assert effect[0] == pytest.approx(expect, rel=1e-12, abs=1e-14), correction
        assert cost[0] == 0.0
    # aliases
    assert ly(np.array([q]), T, "end")[1][0] == pytest.approx(none, rel=1e-12, abs=1e-14)
    assert ly(np.array([q]), T, "trapezoid")[1][0] == pytest.approx(
        (none + start) / 2, rel=1e-12, abs=1e-14
    )


def test_default_correction_is_half_cycle():
    spec = {
        "states": ["alive", "dead"],
        "cycles": 5,
        "transitions": {"alive": {"dead": 0.2, "alive": "#"}, "dead": {"dead": 1}},
        "state_effect": {"alive": 1},
    }
    _, eff = run_markov(compile_markov("m", spec), {}, 1)
    none = sum(0.8**t for t in range(1, 6))
    start = sum(0.8**t for t in range(5))
    assert eff[0] == pytest.approx((none + start) / 2, rel=1e-12)


@pytest.mark.parametrize("L", [1.0, 0.5, 0.25])
@pytest.mark.parametrize("r", [0.0, 0.035, 0.1])
def test_discounted_geometric_closed_forms(L, r):
    q, T = 0.07, 24
    x = (1 - q) * (1 + r) ** (-L)  # survival times one-cycle discount
    geo = (1 - x**T) / (1 - x)  # sum_{t=0}^{T-1} x^t
    none = x * geo
    start = geo
    for correction, expect in (
        ("none", none),
        ("start", start),
        ("half-cycle", (none + start) / 2),
    ):
        _, effect = ly(np.array([q]), T, correction, L=L, discount={"effect": r})
        assert effect[0] == pytest.approx(expect, rel=1e-12), (correction, L, r)


def test_separate_cost_and_effect_discount_rates_and_scalar_discount():
    q, T, rc, re = 0.1, 15, 0.06, 0.015
    spec_kw = {"state_cost": {"alive": 1000}}
    model = alive_dead(q=q, T=T, correction="none", discount={"cost": rc, "effect": re}, **spec_kw)
    cost, effect = run_markov(model, {}, 1)
    xc, xe = (1 - q) / (1 + rc), (1 - q) / (1 + re)
    assert cost[0] == pytest.approx(1000 * xc * (1 - xc**T) / (1 - xc), rel=1e-12)
    assert effect[0] == pytest.approx(xe * (1 - xe**T) / (1 - xe), rel=1e-12)
    model = alive_dead(q=q, T=T, correction="none", discount=rc, **spec_kw)
    cost2, effect2 = run_markov(model, {}, 1)
    assert cost2[0] == pytest.approx(cost[0], rel=1e-14)
    assert effect2[0] == pytest.approx(xc * (1 - xc**T) / (1 - xc), rel=1e-12)


def _loop_reference(qs, correction, r=0.0, L=1.0, reward=lambda t: 1.0, death_cost=0.0):
    """Plain-Python cohort: alive/dead with per-cycle death probabilities qs[t-1]."""
    T = len(qs)
    alive = 1.0
    eff = 0.0
    cost = 0.0

    def d(c):
        return (1 + r) ** (-c * L)

    for t in range(1, T + 1):
        nxt = alive * (1 - qs[t - 1])
        rt = reward(t)
        if correction == "none":
            eff += nxt * d(t) * rt
        elif correction == "start":
            eff += alive * d(t - 1) * rt
        else:
            eff += 0.5 * (alive * d(t - 1) + nxt * d(t)) * rt
        cost += alive * qs[t - 1] * death_cost * d(t)
        alive = nxt
    return cost, eff


@pytest.mark.parametrize("correction", ["none", "start", "half-cycle"])
def test_time_dependent_transitions_vs_loop(correction):
    T, L, r = 30, 0.5, 0.03
    model = alive_dead(
        q="min(0.01 * t + q0, 1)", T=T, correction=correction, L=L, discount={"effect": r}
    )
    q0 = np.array([0.0, 0.02, 0.1])
    _, effect = run_markov(model, {"q0": q0}, 3)
    for k, base in enumerate(q0):
        qs = [min(0.01 * t + base, 1) for t in range(1, T + 1)]
        _, expect = _loop_reference(qs, correction, r=r, L=L)
        assert effect[k] == pytest.approx(expect, rel=1e-12)


def test_time_variable_is_years_at_cycle_start():
    T, L = 12, 0.25
    model = alive_dead(
        q="rate_to_prob(0.05 + 0.1 * time, cycle_length)", T=T, correction="start", L=L
    )
    _, effect = run_markov(model, {}, 1)
    qs = [1 - math.exp(-(0.05 + 0.1 * (t - 1) * L) * L) for t in range(1, T + 1)]
    assert effect[0] == pytest.approx(_loop_reference(qs, "start", L=L)[1], rel=1e-12)


@pytest.mark.parametrize("correction", ["none", "start", "half-cycle"])
def test_time_dependent_rewards_vs_loop(correction):
    T, r = 8, 0.05
    model = alive_dead(
        q=0.1,
        T=T,
        correction=correction,
        discount={"effect": r},
        state_effect={"alive": "1 / t"},
    )
    _, effect = run_markov(model, {}, 1)
    _, expect = _loop_reference([0.1] * T, correction, r=r, reward=lambda t: 1 / t)
    assert effect[0] == pytest.approx(expect, rel=1e-12)


@pytest.mark.parametrize("r", [0.0, 0.04])
@pytest.mark.parametrize("correction", ["none", "start", "half-cycle"])
def test_transition_cost_on_death_closed_form(r, correction):
    q, T, c = 0.12, 20, 5000.0
    model = alive_dead(
        q=q,
        T=T,
        correction=correction,
        discount={"cost": r},
        transition_cost={"alive": {"dead": c}},
    )
    cost, _ = run_markov(model, {}, 1)
    # sum_t (1-q)^(t-1) q c (1+r)^-t  (correction does not apply to flows)
    y = (1 - q) / (1 + r)
    expect = c * q / (1 + r) * (1 - y**T) / (1 - y)
    assert cost[0] == pytest.approx(expect, rel=1e-12)
    if r == 0:
        assert cost[0] == pytest.approx(c * (1 - (1 - q) ** T), rel=1e-12)


def test_transition_effect_and_state_cost_together():
    q, T = 0.2, 6
    model = alive_dead(
        q=q,
        T=T,
        correction="none",
        state_cost={"alive": "c_year", "dead": 0},
        transition_effect={"alive": {"dead": -0.5}, "dead": {"dead": 0.0}},
    )
    cost, effect = run_markov(model, {"c_year": np.array([100.0, 200.0])}, 2)
    surv = sum((1 - q) ** t for t in range(1, T + 1))
    deaths = 1 - (1 - q) ** T
    np.testing.assert_allclose(cost, [100 * surv, 200 * surv], rtol=1e-12)
    np.testing.assert_allclose(effect, surv - 0.5 * deaths, rtol=1e-12)


def test_monthly_cycles_with_annual_rate():
    lam, r, years = 0.15, 0.035, 10
    T, L = 12 * years, 1 / 12
    model = alive_dead(
        q="rate_to_prob(lam, cycle_length)",
        T=T,
        correction="none",
        L="1/12",
        discount={"effect": r},
        state_effect={"alive": "cycle_length"},
    )
    _, effect = run_markov(model, {"lam": np.array([lam])}, 1)
    x = math.exp(-lam * L) * (1 + r) ** (-L)
    expect = L * x * (1 - x**T) / (1 - x)
    assert effect[0] == pytest.approx(expect, rel=1e-12)
    # close to the continuous-time integral of exp(-(lam + log(1+r)) s) over 10 years
    k = lam + math.log(1 + r)
    assert effect[0] == pytest.approx((1 - math.exp(-k * years)) / k, rel=0.01)
    # the per-cycle probability is the documented conversion
    P = transition_matrix(model, {"lam": lam, "cycle_length": L, "t": 1.0}, 1)
    assert P[0, 0, 1] == pytest.approx(1 - math.exp(-lam / 12), rel=1e-14)


def test_draw_varying_cycle_length():
    model = alive_dead(q=0.1, T=4, correction="none", L="L_draw", discount={"effect": 0.05})
    L = np.array([1.0, 0.5])
    _, effect = run_markov(model, {"L_draw": L}, 2)
    for k in range(2):
        x = 0.9 * 1.05 ** (-L[k])
        assert effect[k] == pytest.approx(x * (1 - x**4) / (1 - x), rel=1e-12)


def test_start_shares():
    q, T = 0.1, 10
    model = alive_dead(q=q, T=T, correction="start")
    full = sum((1 - q) ** t for t in range(T))
    _, eff = run_markov(model, {}, 2, {"alive": np.array([0.6, 1.0]), "dead": np.array([0.4, 0.0])})
    np.testing.assert_allclose(eff, [0.6 * full, full], rtol=1e-12)
    # default start: everyone in the first state
    _, eff = run_markov(model, {}, 1)
    assert eff[0] == pytest.approx(full, rel=1e-12)
    with pytest.raises(MarkovError, match="start shares"):
        run_markov(model, {}, 1, {"alive": 0.6})
    with pytest.raises(MarkovError):
        run_markov(model, {}, 1, {"alive": 1.5, "dead": -0.5})


def test_trace_rows_sum_to_one_and_match_survival():
    model = compile_markov(
        "m3",
        {
            "states": ["well", "sick", "dead"],
            "cycles": 25,
            "correction": "half-cycle",
            "transitions": {
                "well": {"sick": "p_ws", "dead": 0.01, "well": "#"},
                "sick": {"well": 0.1, "dead": "p_sd * t / 10", "sick": "#"},
                "dead": {"dead": 1},
            },
        },
    )
    p_ws = np.array([0.05, 0.2, 0.4])
    cost, effect, trace = run_markov(model, {"p_ws": p_ws, "p_sd": 0.2}, 3, trace=True)
    assert trace.shape == (3, 26, 3)
    np.testing.assert_allclose(trace.sum(axis=2), 1.0, rtol=0, atol=1e-12)
    assert (trace >= 0).all()
    np.testing.assert_array_equal(trace[:, 0], [[1, 0, 0]] * 3)
    # reference trace with a plain loop per draw
    for k in range(3):
        m = [1.0, 0.0, 0.0]
        for t in range(1, 26):
            psd = min(0.2 * t / 10, 1.0)
            P = [
                [1 - p_ws[k] - 0.01, p_ws[k], 0.01],
                [0.1, 1 - 0.1 - psd, psd],
                [0.0, 0.0, 1.0],
            ]
            m = [sum(m[i] * P[i][j] for i in range(3)) for j in range(3)]
            np.testing.assert_allclose(trace[k, t], m, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(cost, 0.0)
    np.testing.assert_array_equal(effect, 0.0)


def _tree_with_markov(terminal_markov, parameters=None, model_extra=None):
    model = {
        "states": ["alive", "dead"],
        "cycles": 10,
        "correction": "none",
        "transitions": {"alive": {"dead": "q * hr", "alive": "#"}, "dead": {"dead": 1}},
        "state_effect": {"alive": 1},
        "state_cost": {"alive": "c_year"},
    }
    model.update(model_extra or {})
    doc = {
        "markov": {"m": model},
        "tree": {
            "kind": "decision",
            "name": "d",
            "branches": [
                {"action": "treat", "kind": "terminal", "cost": 50, "markov": terminal_markov},
                {"action": "wait", "kind": "terminal", "markov": {"model": "m", "with": {"hr": 1}}},
            ],
        },
    }
    if parameters is not None:
        doc["parameters"] = parameters
    return tree_from_dict(doc, "markov-tree.yaml")


def _surv(q, T=10):
    return sum((1 - q) ** t for t in range(1, T + 1))


def test_with_bindings_and_start_in_a_tree():
    G = _tree_with_markov(
        {"model": "m", "start": {"alive": "s0", "dead": "1 - s0"}, "with": {"hr": "hr_treat"}}
    )
    q = np.array([0.1, 0.2, 0.05])
    hr = np.array([0.5, 0.8, 1.0])
    s0 = np.array([0.9, 0.95, 1.0])
    out = evaluate(G, {"q": q, "hr_treat": hr, "s0": s0, "c_year": 10.0})
    for k in range(3):
        treat = s0[k] * _surv(q[k] * hr[k])
        wait = _surv(q[k])
        assert out["effect"].sel(strategy="treat").values[k] == pytest.approx(treat, rel=1e-12)
        assert out["effect"].sel(strategy="wait").values[k] == pytest.approx(wait, rel=1e-12)
        assert out["cost"].sel(strategy="treat").values[k] == pytest.approx(
            50 + 10 * treat, rel=1e-12
        )
        assert out["cost"].sel(strategy="wait").values[k] == pytest.approx(10 * wait, rel=1e-12)


def test_with_binding_shadows_a_parameter_locally():
    G = _tree_with_markov({"model": "m", "with": {"hr": 2, "q": "q / 2"}})
    out = evaluate(G, {"q": np.array([0.2]), "c_year": 0.0})
    assert float(out["effect"].sel(strategy="treat")[0]) == pytest.approx(_surv(0.2), rel=1e-12)
    assert float(out["effect"].sel(strategy="wait")[0]) == pytest.approx(_surv(0.2), rel=1e-12)


def test_markov_in_tree_with_sampled_parameters():
    params = {
        "q": {"distribution": "beta", "alpha": 10, "beta": 90},
        "hr_treat": {"distribution": "lognormal", "meanlog": -0.5, "sdlog": 0.1},
        "c_year": {"distribution": "gamma", "shape": 10, "rate": 1},
    }
    G = _tree_with_markov({"model": "m", "with": {"hr": "hr_treat"}}, parameters=params)
    from decisionmodel.params import sample_parameters

    ds = sample_parameters(G, 20, np.random.default_rng(1))
    out = evaluate(G, ds)
    for k in range(20):
        q, hr, c = (float(ds[v][k]) for v in ("q", "hr_treat", "c_year"))
        assert float(out["effect"][0, k]) == pytest.approx(_surv(q * hr), rel=1e-12)
        assert float(out["cost"][1, k]) == pytest.approx(c * _surv(q), rel=1e-12)


# ----------------------------------------------------------------------------- errors


def _spec(**changes):
    spec = {
        "states": ["alive", "dead"],
        "cycles": 5,
        "transitions": {"alive": {"dead": 0.1, "alive": "#"}, "dead": {"dead": 1}},
    }
    spec.update(changes)
    return spec


@pytest.mark.parametrize(
    "changes",
    [
        {"cycles": 0},
        {"cycles": -3},
        {"cycles": 2.5},
        {"cycles": True},
        {"cycles": "10"},
        {"cycles": 100_001},
        {"correction": "mid"},
        {"correction": None},
        {"discount": 1.5},
        {"discount": -0.01},
        {"discount": {"cost": 1.0}},
        {"discount": {"cost": "3%"}},
        {"discount": {"effects": 0.03}},
        {"discount": True},
        {"discount": "0.03"},
        {"states": []},
        {"states": ["a", "a"]},
        {"states": "alive"},
        {"transitions": {"alive": {"zombie": 0.1, "alive": "#"}, "dead": {"dead": 1}}},
        {"transitions": {"alive": {"dead": 0.1, "alive": "#"}}},  # no row for dead
        {
            "transitions": {
                "alive": {"dead": 0.1, "alive": "#"},
                "dead": {"dead": 1},
                "ghost": {"dead": 1},
            }
        },
        {"transitions": {"alive": {"dead": "#", "alive": "#"}, "dead": {"dead": 1}}},
        {"transitions": {"alive": {"dead": "a.b", "alive": "#"}, "dead": {"dead": 1}}},
        {"transitions": []},
        {"state_cost": {"zombie": 1}},
        {"state_effect": [1, 2]},
        {"transition_cost": {"alive": {"zombie": 1}}},
        {"transition_cost": {"zombie": {"dead": 1}}},
        {"cycle_length": 0},
        {"cycle_length": -1},
        {"cycle_length": "t / 12"},
        {"unknown_key": 1},
    ],
)
def test_invalid_models_raise_markov_error(changes):
    with pytest.raises(MarkovError) as info:
        compile_markov("bad", _spec(**changes), "file.yaml")
    assert "file.yaml" in str(info.value)
    assert "'bad'" in str(info.value)


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ({"dead": 0.1, "alive": 0.8}, "sum to 0.9"),
        ({"dead": 0.3, "alive": 0.8}, "sum to 1.1"),
        ({"dead": -0.1, "alive": "#"}, "outside [0, 1]"),
        ({"dead": 1.2, "alive": "#"}, "outside [0, 1]"),
        ({"dead": "log(0 * q)", "alive": "#"}, "outside [0, 1]"),
    ],
)
def test_bad_rows_raise_at_run(row, fragment):
    model = compile_markov("m", _spec(transitions={"alive": row, "dead": {"dead": 1}}), "file.yaml")
    with pytest.raises(MarkovError) as info:
        run_markov(model, {"q": np.array([0.1])}, 1)
    msg = str(info.value)
    assert fragment in msg
    assert "'alive'" in msg
    assert "file.yaml" in msg


def test_bad_row_names_cycle_and_draw():
    model = compile_markov(
        "m",
        _spec(
            transitions={"alive": {"dead": "0.1 * t * q", "alive": "#"}, "dead": {"dead": 1}},
            cycles=20,
        ),
    )
    with pytest.raises(MarkovError) as info:
        run_markov(model, {"q": np.array([0.1, 1.0, 0.5])}, 3)
    msg = str(info.value)
    # q=1 exceeds 1 first at t=11; q=0.5 would fail at t=21 (beyond the horizon)
    assert "cycle 11" in msg
    assert "draw 1" in msg


def test_bad_draw_varying_cycle_length():
    model = compile_markov("m", _spec(cycle_length="L_draw"))
    with pytest.raises(MarkovError, match="cycle_length"):
        run_markov(model, {"L_draw": np.array([1.0, -1.0])}, 2)


def test_model_names_and_time_dependence():
    model = compile_markov(
        "m",
        _spec(
            transitions={"alive": {"dead": "q * hr * t", "alive": "#"}, "dead": {"dead": 1}},
            state_cost={"alive": "c * cycle_length"},
        ),
    )
    assert model.names == frozenset({"q", "hr", "c"})
    assert model.time_dependent
    assert not compile_markov("m", _spec()).time_dependent


def test_negative_start_share_message_names_the_draw():
    model = alive_dead(q=0.1, T=3)
    start = {"alive": np.array([1.0, 1.5]), "dead": np.array([0.0, -0.5])}
    with pytest.raises(MarkovError) as info:
        run_markov(model, {}, 2, start)
    assert "draw 1" in str(info.value)


def test_start_as_a_state_name_in_a_tree():
    G = _tree_with_markov({"model": "m", "start": "dead", "with": {"hr": 1}})
    out = evaluate(G, {"q": np.array([0.1]), "c_year": 5.0})
    assert float(out["effect"].sel(strategy="treat")[0]) == 0.0
    assert float(out["cost"].sel(strategy="treat")[0]) == 50.0


def test_state_count_is_bounded():
    from decisionmodel.exceptions import MarkovError
    from decisionmodel.tree.markov import MAX_STATES, compile_markov

    states = [f"s{i}" for i in range(MAX_STATES + 1)]
    spec = {"states": states, "cycles": 1, "transitions": {s: {s: 1} for s in states}}
    with pytest.raises(MarkovError, match=f"more than {MAX_STATES} states"):
        compile_markov("m", spec)
