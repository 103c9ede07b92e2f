"""One rng convention in :mod:`decisionmodel.voi`: every function that draws takes ``rng``
normalised by :func:`decisionmodel.rng.as_generator` (a Generator, a SeedSequence or an int),
and refuses ``None`` with that function's TypeError instead of a silent fixed seed; what does
not draw needs no ``rng``.

The reference for "the same numbers" is a generator made here with numpy directly
(``np.random.default_rng(seed)``): an int seed must give exactly what that generator gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from decisionmodel.voi import (
    binary,
    binary_two_arm,
    custom_study,
    enbs,
    enbs_optimum,
    evppi,
    evppi_nested,
    evppi_rank,
    evsi,
    fit_regression,
    normal_mean,
    survival_two_arm,
)

REQUIRED = "rng is required"


def _linear_case(n: int = 600, seed: int = 5):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    nb = pd.DataFrame({"old": np.zeros(n), "new": 10 * x["a"] + rng.normal(0, 5, n)})
    return nb, x


# --------------------------------------------------------------------------- None refused
def test_evppi_with_standard_errors_needs_rng():
    nb, x = _linear_case()
    with pytest.raises(TypeError, match=REQUIRED):
        evppi(nb, x, "a")
    with pytest.raises(TypeError, match=REQUIRED):
        evppi_rank(nb, x)


def test_evppi_without_draws_needs_no_rng():
    """A GAM or linear fit without standard errors draws nothing: rng is not needed, and
    the value is the one a seeded run gives."""
    nb, x = _linear_case()
    for method in ("gam", "linear"):
        free = evppi(nb, x, "a", method=method, se=False)
        seeded = evppi(nb, x, "a", method=method, se=False, rng=3)
        assert float(free["value"][0]) == float(seeded["value"][0])
    assert evppi_rank(nb, x, se=False)["parameter"].tolist()[0] == "a"


def test_gaussian_process_fits_need_rng():
    nb, x = _linear_case()
    with pytest.raises(TypeError, match=REQUIRED):
        evppi(nb, x, "a", method="gp", se=False)
    with pytest.raises(TypeError, match=REQUIRED):
        fit_regression(x.to_numpy(), nb["new"].to_numpy(), "gp")


def test_nested_evppi_needs_rng():
    def sample(n, rng):
        return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})

    def model(df):
        return np.column_stack([np.zeros(len(df)), df["a"] + df["b"]])

    with pytest.raises(TypeError, match=REQUIRED):
        evppi_nested(model, sample, "a", n_outer=10, n_inner=10)
    with pytest.raises(TypeError, match=REQUIRED):
        evppi(method="nested", model=model, sample_inputs=sample, pars="a", n_outer=10)


def test_evsi_needs_rng_when_it_draws():
    rng = np.random.default_rng(8)
    theta = rng.normal(0.04, 0.03, 1000)
    nb = pd.DataFrame({"soc": np.zeros(1000), "new": 20000 * theta - 600})
    study = normal_mean("theta", sd=0.3)
    for method in ("regression", "is", "mm"):
        with pytest.raises(TypeError, match=REQUIRED):
            evsi(nb, {"theta": theta}, study=study, n=50, method=method)
    with pytest.raises(TypeError, match=REQUIRED):  # standard errors are drawn
        evsi(nb, {"theta": theta}, study=study, n=50, method="gaussian")
    # the Gaussian approximation with the design's conjugate n0 and no SE draws nothing
    free = evsi(nb, {"theta": theta}, study=study, n=50, method="gaussian", se=False)
    seeded = evsi(nb, {"theta": theta}, study=study, n=50, method="gaussian", se=False, rng=1)
    assert float(free["value"][0]) == float(seeded["value"][0])


def test_enbs_optimum_needs_rng():
    res = enbs(
        {10: 1.0, 100: 3.0, 1000: 4.0},
        pop_per_year=1000,
        horizon=5,
        discount=0,
        cost_fixed=100,
        cost_per_patient=1,
    )
    with pytest.raises(TypeError, match=REQUIRED):
        enbs_optimum(res)


@pytest.mark.parametrize(
    "design",
    [
        binary("p"),
        binary_two_arm("p", "q"),
        normal_mean("p", sd=0.2),
        survival_two_arm("r", "h", accrual=1.0, follow_up=1.0),
        custom_study(lambda df, n, rng: pd.DataFrame({"x": rng.normal(size=len(df))})),
    ],
    ids=lambda d: d.name,
)
def test_study_simulators_need_rng(design):
    draws = pd.DataFrame({"p": [0.2, 0.4], "q": [0.3, 0.5], "r": [0.1, 0.2], "h": [0.8, 0.9]})
    with pytest.raises(TypeError, match=REQUIRED):
        design.simulate(draws, 10)
    with pytest.raises(TypeError, match=REQUIRED):
        design.simulate_summary(draws, 10)
    assert len(design.simulate(draws, 10, rng=0)) == 2


def test_conjugate_posteriors_need_rng():
    draws = pd.DataFrame({"p": np.linspace(0.2, 0.4, 50)})
    with pytest.raises(TypeError, match=REQUIRED):
        binary("p").posterior(pd.DataFrame({"events": [3.0]}), 10, 5, None, draws)


def test_sample_fitted_needs_rng():
    nb, x = _linear_case()
    fit = fit_regression(x.to_numpy(), nb["new"].to_numpy(), "linear")
    with pytest.raises(TypeError, match=REQUIRED):
        fit.sample_fitted(3, None)


# --------------------------------------------------------------------------- the same numbers
def test_an_int_seed_is_the_generator_numpy_makes_of_it():
    """rng=7, rng=SeedSequence(7) and rng=np.random.default_rng(7) draw the same numbers."""
    nb, x = _linear_case()
    ref = evppi(nb, x, [["a"], ["a", "b"]], rng=np.random.default_rng(7))
    for rng in (7, np.random.SeedSequence(7)):
        out = evppi(nb, x, [["a"], ["a", "b"]], rng=rng)
        np.testing.assert_array_equal(out["se"].values, ref["se"].values)
        np.testing.assert_array_equal(out["value"].values, ref["value"].values)
    draws = pd.DataFrame({"p": np.full(1000, 0.3)})
    got = binary("p").simulate(draws, 20, rng=11)["events"].to_numpy()
    np.testing.assert_array_equal(got, np.random.default_rng(11).binomial(20, draws["p"]))


def test_one_generator_is_shared_across_groups():
    """An int seed makes one generator for the whole call: the SE draws of the second group
    continue the stream of the first (as a Generator passed in does), they do not restart."""
    nb, x = _linear_case()
    both = evppi(nb, x, [["a"], ["b"]], rng=4)
    first = evppi(nb, x, [["a"]], rng=4)
    assert float(both["se"][0]) == float(first["se"][0])
    g = np.random.default_rng(4)
    evppi(nb, x, [["a"]], rng=g)  # consumes the first group's draws
    second = evppi(nb, x, [["b"]], rng=g)
    assert float(both["se"][1]) == float(second["se"][0])


def test_bad_rng_values_are_refused():
    nb, x = _linear_case()
    with pytest.raises(ValueError, match="seed must be >= 0"):
        evppi(nb, x, "a", rng=-1)
    with pytest.raises(TypeError, match=r"expected a numpy\.random\.Generator"):
        evppi(nb, x, "a", rng=0.5)
    with pytest.raises(TypeError, match=r"expected a numpy\.random\.Generator"):
        evppi(nb, x, "a", rng=np.random.RandomState(0))
