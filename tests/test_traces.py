"""State occupancy and survival per policy (decisionmodel/traces.py), against the
terminal-by-terminal reference of the tree tests (tests/cohort_curves.py) and hand values."""

from __future__ import annotations

import numpy as np
import pytest
from cohort_curves import survival_by_policy

import decisionmodel as dm
from decisionmodel.exceptions import DecisionModelError
from decisionmodel.resources import tree_path
from decisionmodel.traces import NO_COHORT, state_trace, survival


@pytest.fixture(scope="module")
def crlm():
    G = dm.load_tree(tree_path("crlm"))
    params = dm.sample_parameters(G, 120, np.random.default_rng(4))
    return dm.compile_tree(G), params


def test_per_draw_survival_matches_the_terminal_by_terminal_reference(crlm):
    ct, params = crlm
    occ = state_trace(ct, params, draws=True, chunk_size=50)
    ref = survival_by_policy(ct, params)
    S = survival(occ)
    assert S.dims == ("strategy", "sample", "cycle")
    assert sorted(ref) == sorted(S["strategy"].values.tolist())
    for policy, curve in ref.items():
        np.testing.assert_allclose(S.sel(strategy=policy).values, curve, rtol=0, atol=1e-12)


def test_occupancy_sums_to_one_and_averages_the_draws_whatever_the_chunks(crlm):
    ct, params = crlm
    per_draw = state_trace(ct, params, draws=True)
    np.testing.assert_allclose(per_draw.sum("state").values, 1.0, atol=1e-9)
    for chunk in (1, 7, 1000):
        mean = state_trace(ct, params, chunk_size=chunk)
        np.testing.assert_allclose(mean.values, per_draw.mean("sample").values, atol=1e-12)
    assert mean["state"].values.tolist()[-1] == NO_COHORT
    assert mean.sel(cycle=0, state="dead").values.tolist() == [0.0] * mean.sizes["strategy"]


def _tree(cycles_b: int = 2, state: str = "well"):
    return dm.tree_from_dict(
        {
            "markov": {
                "a": {
                    "states": [state, "dead"],
                    "cycles": 2,
                    "correction": "none",
                    "transitions": {state: {"dead": 0.5, state: "#"}, "dead": {"dead": 1}},
                },
                "b": {
                    "states": ["sick", "dead"],
                    "cycles": cycles_b,
                    "correction": "none",
                    "transitions": {"sick": {"dead": 0.25, "sick": "#"}, "dead": {"dead": 1}},
                },
            },
            "tree": {
                "kind": "decision",
                "name": "d",
                "branches": [
                    {
                        "action": "x",
                        "kind": "chance",
                        "branches": [
                            {"label": "a", "p": 0.5, "kind": "terminal", "markov": {"model": "a"}},
                            {"label": "b", "p": "#", "kind": "terminal", "markov": {"model": "b"}},
                        ],
                    },
                    {"action": "y", "kind": "terminal", "markov": {"model": "b"}},
                ],
            },
        }
    )


def test_states_of_two_models_share_names_by_hand():
    G = _tree()
    occ = state_trace(dm.compile_tree(G), dm.mean_parameters(G))
    assert occ["state"].values.tolist() == ["well", "dead", "sick", NO_COHORT]
    # x: half in model a (dead 0, 0.5, 0.75), half in model b (dead 0, 0.25, 0.4375)
    np.testing.assert_allclose(occ.sel(strategy="x", state="dead"), [0, 0.375, 0.59375])
    np.testing.assert_allclose(occ.sel(strategy="y", state="sick"), [1, 0.75, 0.5625])


def test_models_with_different_cycles_or_a_state_called_no_cohort_are_refused():
    G = _tree(cycles_b=3)
    with pytest.raises(DecisionModelError, match=r"one number of cycles.*a: 2, b: 3"):
        state_trace(dm.compile_tree(G), dm.mean_parameters(G))
    G = _tree(state=NO_COHORT)
    with pytest.raises(DecisionModelError, match="pseudo-state"):
        state_trace(dm.compile_tree(G), dm.mean_parameters(G))


def test_a_tree_without_markov_models_and_a_missing_dead_state():
    G = dm.tree_from_dict(
        {
            "tree": {
                "kind": "decision",
                "name": "d",
                "branches": [
                    {"action": "x", "kind": "terminal", "effect": 1},
                    {"action": "y", "kind": "terminal", "effect": 0},
                ],
            }
        }
    )
    with pytest.raises(DecisionModelError, match="no Markov model"):
        state_trace(dm.compile_tree(G), dm.mean_parameters(G))
    G = _tree()
    occ = state_trace(dm.compile_tree(G), dm.mean_parameters(G))
    with pytest.raises(DecisionModelError, match="no state is called 'deceased'"):
        survival(occ, dead="deceased")


def test_a_sample_without_draws_is_refused():
    # no draws used to fail inside the averaging (None / 0) or in np.concatenate
    G = _tree()
    params = dm.mean_parameters(G).isel(sample=slice(0, 0))
    for draws in (False, True):
        with pytest.raises(DecisionModelError, match="no draws"):
            state_trace(dm.compile_tree(G), params, draws=draws)
