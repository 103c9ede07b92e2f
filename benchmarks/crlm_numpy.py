"""Hand-written numpy evaluation of ``trees/crlm.yaml``: the baseline the engine is timed against.

This is what a competent analyst would write by hand for the default tree, without the
engine: the ``derived:`` values, the two Markov cohorts (``resected`` and ``systemic``)
coded directly as a loop over the 240 monthly cycles vectorised over the draws, and the
tree rolled back as closed-form expressions over the path probabilities. Every formula is
transcribed from the YAML file (see the comments for the file's names); nothing is
imported from ``decisionmodel.tree``.

Markov semantics (as in ``decisionmodel/tree/markov.py``): cycles ``t = 1..T``, ``time =
(t-1) * L``; ``m_t = m_{t-1} P_t``; half-cycle correction = trapezoid between boundary
occupancies, i.e. boundary ``c`` carries the weight ``d_c`` (``d_c / 2`` at ``c = 0`` and
``c = T``) with ``d_c = (1 + r)^(-c L)``; transition payoffs apply to the flow
``m_{t-1,i} P_ij(t)`` discounted by ``d_t``. The state rewards of both models do not change
with the cycle, so the loop only accumulates discounted occupancies and flows and the
rewards are applied once at the end.

Draws are processed in chunks (default 50,000) so that memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: Both models: cycle_length 1/12 year, 240 cycles, 3% a year for costs and effects,
#: half-cycle (trapezoid) correction.
L = 1.0 / 12.0
T = 240
RATE = 0.03

#: Policy names, in the engine's order.
POLICIES = (
    "Curative hepatectomy [peritoneal disease found: palliative procedure]",
    "Curative hepatectomy [peritoneal disease found: close]",
    "Palliative surgery",
    "Systemic therapy",
)

DEFAULT_CHUNK = 50_000

# d_c for boundaries c = 0..T (cost and effect rates are equal), and the trapezoid weights.
_D = (1.0 + RATE) ** (-np.arange(T + 1) * L)
_W = _D.copy()
_W[0] *= 0.5
_W[T] *= 0.5
# time + cycle_length / 2 (attained age offset at mid-cycle) for t = 1..T
_MID = (np.arange(T) + 0.5) * L


def _background_survival(h_bg0: np.ndarray, gomp_b: np.ndarray, t: int) -> np.ndarray:
    """Hazard h_bg = h_bg0 * exp(gomp_b * (time + L/2)) of cycle t (1-based)."""
    return h_bg0 * np.exp(gomp_b * _MID[t - 1])


def _systemic(p: Mapping[str, np.ndarray], lam_os: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Markov model 'systemic' (on_chemo -> dead) with the binding lam_os."""
    excess = np.maximum(lam_os - p["h_bg_ref"], 0.0)
    h_bg0, gomp_b = p["h_bg0"], p["gomp_b"]
    alive = np.ones_like(excess)  # m_0: everyone on_chemo
    occ = _W[0] * alive  # discounted on_chemo occupancy (trapezoid)
    deaths = np.zeros_like(excess)  # discounted flow on_chemo -> dead
    for t in range(1, T + 1):
        h_bg = _background_survival(h_bg0, gomp_b, t)
        dying = alive * -np.expm1(-(excess + h_bg) * L)  # rate_to_prob(..., cycle_length)
        alive = alive - dying
        occ += _W[t] * alive
        deaths += _D[t] * dying
    cost = p["c_systemic_year"] * L * occ + p["c_end_of_life"] * deaths
    effect = (
        p["u_recurrence"] * L * occ
        - (p["u_recurrence"] - p["u_end_of_life"]) * p["t_end_of_life"] * deaths
    )
    return cost, effect


def _resected(
    p: Mapping[str, np.ndarray], hr_margin: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Markov model 'resected' started at {cured: pi_cure, at_risk: 1 - pi_cure}."""
    h_bg0, gomp_b = p["h_bg0"], p["gomp_b"]
    p_rerx, p_mort_rerx = p["p_rerx"], p["p_mort_rerx"]
    # cycle-free parts of the transitions
    q_rec = -np.expm1(-p["lam_recurrence"] * hr_margin * L)
    q_rec_after = -np.expm1(-hr_margin * p["lam_recurrence_after_rerx"] * L)
    excess_rec = hr_margin * np.maximum(p["lam_post_recurrence"] - p["h_bg_ref"], 0.0)
    survive_rerx = 1.0 - p_mort_rerx
    # states (dead is not tracked: it has no rewards and nothing leaves it)
    cured = np.array(p["pi_cure"], dtype=float)
    at_risk = 1.0 - cured
    recurrence = np.zeros_like(cured)
    rerx = np.zeros_like(cured)
    post_rerx = np.zeros_like(cured)
    # discounted occupancies (trapezoid weights) and discounted flows
    occ_df = _W[0] * (cured + at_risk)  # cured + at_risk + post_rerx (u_disease_free)
    occ_rec = np.zeros_like(cured)  # recurrence (cost and u_recurrence)
    occ_rerx = np.zeros_like(cured)  # rerx (u_recurrence)
    flow_rerx = np.zeros_like(cured)  # at_risk -> rerx
    flow_rec_dead = np.zeros_like(cured)  # recurrence -> dead
    for t in range(1, T + 1):
        h_bg = _background_survival(h_bg0, gomp_b, t)
        s_bg = np.exp(-h_bg * L)  # 1 - p_bg
        relapse = at_risk * s_bg * q_rec  # at_risk -> recurrence or rerx
        to_rerx = relapse * p_rerx
        rec_dead = recurrence * -np.expm1(-(excess_rec + h_bg) * L)
        second = post_rerx * s_bg * q_rec_after  # post_rerx -> recurrence
        cured = cured * s_bg
        at_risk = at_risk * s_bg - relapse
        post_rerx = post_rerx * s_bg - second + rerx * (survive_rerx * s_bg)
        recurrence = recurrence - rec_dead + (relapse - to_rerx) + second
        rerx = to_rerx
        w, d = _W[t], _D[t]
        occ_df += w * (cured + at_risk + post_rerx)
        occ_rec += w * recurrence
        occ_rerx += w * rerx
        flow_rerx += d * to_rerx
        flow_rec_dead += d * rec_dead
    cost = (
        p["c_systemic_year"] * L * occ_rec
        + (p["c_hepatectomy"] + p["p_morb_rerx"] * p["c_complication"]) * flow_rerx
        + p["c_end_of_life"] * flow_rec_dead
    )
    effect = (
        p["u_disease_free"] * L * occ_df
        + p["u_recurrence"] * L * (occ_rec + occ_rerx)
        - (p["qaly_loss_postop"] + p["p_morb_rerx"] * p["qaly_loss_major_morbidity"]) * flow_rerx
        - (p["u_recurrence"] - p["u_end_of_life"]) * p["t_end_of_life"] * flow_rec_dead
    )
    return cost, effect


def _operation(p, cohort_cost, cohort_effect):
    """An operation costing c_hepatectomy: 90-day death, else morbidity, then the cohort."""
    pm, pmm = p["p_mort90"], p["p_major_morbidity"]
    cost = (
        p["c_hepatectomy"]
        + pm * p["c_complication"]
        + (1.0 - pm) * (pmm * p["c_complication"] + cohort_cost)
    )
    effect = pm * p["qaly_periop_death"] + (1.0 - pm) * (
        -p["qaly_loss_postop"] - pmm * p["qaly_loss_major_morbidity"] + cohort_effect
    )
    return cost, effect


def _chunk(p: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    # derived:
    log2 = np.log(2.0)
    p["lam_systemic"] = log2 / p["median_os_systemic_mo"] * 12
    p["lam_m1c"] = log2 / p["median_os_m1c_mo"] * 12
    p["lam_post_recurrence"] = log2 / p["median_os_post_recurrence_mo"] * 12
    p["h_bg0"] = np.exp(p["gomp_a"] + p["gomp_b"] * p["age"])
    p["h_bg_ref"] = np.exp(p["gomp_a"] + p["gomp_b"] * p["age_ref"])
    p["c_laparotomy"] = p["f_cost_laparotomy"] * p["c_hepatectomy"]
    p["qaly_loss_postop"] = p["du_postop"] * p["t_postop_decrement"]
    p["qaly_loss_major_morbidity"] = p["du_major_morbidity"] * p["t_postop_decrement"]
    p["qaly_periop_death"] = p["u_end_of_life"] * p["t_alive_periop_death"]

    # the six distinct cohorts (model, binding)
    pivot_pal = _systemic(p, p["lam_m1c"] * p["hr_pivot_palliative"])
    close = _systemic(p, p["lam_m1c"])
    pal_surgery = _systemic(p, p["lam_systemic"] * p["hr_palliative_surgery"])
    systemic = _systemic(p, p["lam_systemic"])
    r1 = _resected(p, p["hr_r1"])
    r0 = _resected(p, 1.0)

    # A. curative hepatectomy
    p_r1 = p["p_r1"]
    margin_c = p_r1 * r1[0] + (1.0 - p_r1) * r0[0]
    margin_e = p_r1 * r1[1] + (1.0 - p_r1) * r0[1]
    # no peritoneal disease: hepatectomy; survivors also get the adjuvant half of FOLFOX
    hep_c, hep_e = _operation(p, 0.5 * p["c_periop_chemo"] + margin_c, margin_e)
    # pivot actions
    pal_c, pal_e = _operation(p, *pivot_pal)
    close_c = p["c_laparotomy"] + close[0]
    close_e = -p["qaly_loss_postop"] + close[1]
    p_per = p["p_peritoneal_at_laparotomy"]
    neo = 0.5 * p["c_periop_chemo"]
    curative = [
        (neo + p_per * pc + (1.0 - p_per) * hep_c, p_per * pe + (1.0 - p_per) * hep_e)
        for pc, pe in ((pal_c, pal_e), (close_c, close_e))
    ]
    # B. palliative surgery; C. systemic therapy only
    return [*curative, _operation(p, *pal_surgery), systemic]


def evaluate_crlm_numpy(
    params: Mapping[str, np.ndarray], chunk_size: int = DEFAULT_CHUNK
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Expected (cost, effect) per draw of the four policies of ``trees/crlm.yaml``.

    Parameters
    ----------
    params : mapping
        Parameter name -> 1-D array of draws (every parameter of the file, fixed ones
        included), e.g. ``{k: ds[k].values for k in ds.data_vars}``.
    chunk_size : int
        Draws processed at once.

    Returns
    -------
    dict
        Policy name (as the engine names it) -> (cost, effect), arrays of shape (n,).
    """
    n = len(next(iter(params.values())))
    out = {name: (np.empty(n), np.empty(n)) for name in POLICIES}
    for lo in range(0, n, chunk_size):
        hi = min(n, lo + chunk_size)
        p = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,))[lo:hi] for k, v in params.items()}
        for name, (c, e) in zip(POLICIES, _chunk(p), strict=True):
            out[name][0][lo:hi] = c
            out[name][1][lo:hi] = e
    return out
