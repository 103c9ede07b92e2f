"""Write the chemotherapy example PSA used by the README's ``decisionmodel voi`` examples.

The files follow the layout of the chemotherapy example of the R package voi (Jackson &
Heath; the "Chemotherapy" case study of Heath, Kunst et al., *Value of Information for
Healthcare Decision-Making*, 2024): the same 14 parameter names and uncertainty
distributions, two strategies (``SoC``, ``Novel``), net benefit at a willingness to pay of
20,000 per QALY and costs and effects for WTP 10,000 to 50,000. They are **generated here**
from those published distributions rather than copied from the R package, so the numbers
are close to, but not the same as, voi's own example (whose data are GPL-licensed); the
long-term survival rate (``rate_longterm``) and the scaling of the costs are this script's
own assumptions.

Model: patients with side effects of chemotherapy (probability ``p_side_effects_t1`` under
standard care; the novel drug changes the odds by ``exp(logor_side_effects)``) enter a daily
Markov model over 50 days with states home care, hospital, recovered and dead; survivors
then live ``(1 - exp(-40 r)) / r`` years at utility ``u_recovery`` (``r`` =
``rate_longterm``). Costs: the drug plus the side-effect costs averaged over the 51 days.

Run ``python examples/voi/make_chemo.py [OUTDIR]`` (default: this folder); the output is
the same on every run (seed 20240501).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240501
#: the files were written with this NumPy (its random streams may change between versions)
NUMPY_VERSION = "2.5"
N = 10_000
TIME_HORIZON = 50  # days of the side-effect model
LONG_TERM = 40.0  # years of the long-term survival
DRUG_COST = {"SoC": 1300.0, "Novel": 2220.0}
WTP_NB = 20_000
WTP_GRID = [10_000, 20_000, 30_000, 40_000, 50_000]


def _beta(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    """Beta draws with the given mean and standard deviation."""
    a = ((1 - mean) / sd**2 - 1 / mean) * mean**2
    return rng.beta(a, a * (1 / mean - 1), n)


def _lognormal(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    """Log-normal draws with the given mean and standard deviation (natural scale)."""
    s2 = np.log1p(sd**2 / mean**2)
    return rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2), n)


def parameters(n: int = N, seed: int = SEED) -> pd.DataFrame:
    """Draws of the 14 model parameters (the voi example's names and distributions)."""
    rng = np.random.default_rng(seed)
    n_patients, n_side_effects, n_hospitalised, n_died = 111, 52, 43, 8
    p1 = rng.beta(1 + n_side_effects, 1 + n_patients - n_side_effects, n)
    logor = rng.normal(np.log(0.54), 0.3, n)
    odds2 = p1 / (1 - p1) * np.exp(logor)
    shape = (0.047 / 0.032) ** 2
    return pd.DataFrame(
        {
            "p_side_effects_t1": p1,
            "p_side_effects_t2": odds2 / (1 + odds2),
            "c_home_care": _lognormal(rng, 830, np.sqrt(150), n),
            "c_hospital": _lognormal(rng, 2400, np.sqrt(1880), n),
            "c_death": _lognormal(rng, 1710, np.sqrt(760), n),
            "u_recovery": _beta(rng, 0.98, np.sqrt(0.001), n),
            "u_home_care": _beta(rng, 0.7, np.sqrt(0.02), n),
            "u_hospital": _beta(rng, 0.3, np.sqrt(0.03), n),
            "logor_side_effects": logor,
            "p_hospitalised_total": rng.beta(
                1 + n_hospitalised, 1 + n_side_effects - n_hospitalised, n
            ),
            "p_died": rng.beta(1 + n_died, 1 + n_hospitalised - n_died, n),
            "lambda_home": _beta(rng, 0.21, 0.03, n),
            "lambda_hosp": _beta(rng, 0.03, 0.0065, n),
            "rate_longterm": rng.gamma(shape, 0.047 / shape, n),
        }
    )


def costs_effects(pars: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Expected cost and QALYs per patient of each strategy, per draw."""
    p_home_hosp = 1 - (1 - pars["p_hospitalised_total"].to_numpy()) ** (1 / TIME_HORIZON)
    p_hosp_dead = 1 - (1 - pars["p_died"].to_numpy()) ** (1 / TIME_HORIZON)
    lam_home = pars["lambda_home"].to_numpy()
    lam_hosp = pars["lambda_hosp"].to_numpy()
    stay_home = (1 - lam_home) * (1 - p_home_hosp)
    stay_hosp = (1 - lam_hosp) * (1 - p_hosp_dead)
    c_home, c_hosp = pars["c_home_care"].to_numpy(), pars["c_hospital"].to_numpy()
    u_home, u_hosp = pars["u_home_care"].to_numpy(), pars["u_hospital"].to_numpy()
    u_rec = pars["u_recovery"].to_numpy()
    rate = pars["rate_longterm"].to_numpy()
    life_years = -np.expm1(-rate * LONG_TERM) / rate
    costs, effects = {}, {}
    for arm, col in (("SoC", "p_side_effects_t1"), ("Novel", "p_side_effects_t2")):
        p_se = pars[col].to_numpy()
        home, hosp, rec, dead = p_se.copy(), np.zeros_like(p_se), 1 - p_se, np.zeros_like(p_se)
        cost_se = np.zeros_like(p_se)
        qaly_se = np.zeros_like(p_se)
        for _ in range(TIME_HORIZON + 1):
            cost_se += c_home * home + c_hosp * hosp
            qaly_se += (u_home * home + u_hosp * hosp + u_rec * rec) / 365.25
            home, hosp, rec, dead = (
                home * stay_home,
                home * p_home_hosp + hosp * stay_hosp,
                rec + home * (1 - p_home_hosp) * lam_home + hosp * (1 - p_hosp_dead) * lam_hosp,
                dead + hosp * p_hosp_dead,
            )
        costs[arm] = (
            DRUG_COST[arm] + cost_se / (TIME_HORIZON + 1) + pars["c_death"].to_numpy() * dead
        )
        effects[arm] = qaly_se + (1 - dead) * u_rec * life_years
    return pd.DataFrame(costs), pd.DataFrame(effects)


def write(outdir: Path) -> None:
    """Write chemo_pars.csv, chemo_nb.csv, chemo_cea_c.csv, chemo_cea_e.csv and
    chemo_cea_k.csv to ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    pars = parameters()
    c, e = costs_effects(pars)
    fmt = "%.10g"
    pars.to_csv(outdir / "chemo_pars.csv", index=False, float_format=fmt)
    (WTP_NB * e - c).to_csv(outdir / "chemo_nb.csv", index=False, float_format=fmt)
    c.to_csv(outdir / "chemo_cea_c.csv", index=False, float_format=fmt)
    e.to_csv(outdir / "chemo_cea_e.csv", index=False, float_format=fmt)
    pd.DataFrame({"k": WTP_GRID}).to_csv(outdir / "chemo_cea_k.csv", index=False)


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
