"""The cost-effectiveness figures of decisionmodel.plots.cea and their data twins.

Every number of a twin is checked against a naive computation written here (loops over the
draws, numpy one-liners), and every figure's artists against its twin.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

import decisionmodel as dm
from decisionmodel.exceptions import CEAInputError, DecisionModelError, VOIInputError
from decisionmodel.plots import (
    ce_plane_data,
    ceac_data,
    evpi_curve_data,
    expected_loss_data,
    plot_ce_plane,
    plot_ceac,
    plot_evpi_curve,
    plot_expected_loss,
)

WHIPPLE = Path(dm.__file__).parent / "data" / "trees" / "whipple_pivot.yaml"

#: unsorted on purpose: the twins sort the grid
GRID = [50_000.0, 0.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0, 60_000.0, 80_000.0, 100_000.0]
WHIPPLE_GRID = np.linspace(0.0, 300_000.0, 31)


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------


def _synthetic() -> xr.Dataset:
    """Three strategies whose expected optimum switches at WTP 20,000 and 40,000."""
    rng = np.random.default_rng(20261207)
    n = 400
    cost = np.stack([rng.normal(1000, 100, n), rng.normal(5000, 500, n), rng.normal(9000, 800, n)])
    effect = np.stack([rng.normal(1.0, 0.1, n), rng.normal(1.2, 0.15, n), rng.normal(1.3, 0.2, n)])
    # centre each row exactly so the expected switches are where the docstring says
    cost += np.array([[1000.0], [5000.0], [9000.0]]) - cost.mean(axis=1, keepdims=True)
    effect += np.array([[1.0], [1.2], [1.3]]) - effect.mean(axis=1, keepdims=True)
    return xr.Dataset(
        {"cost": (("strategy", "sample"), cost), "effect": (("strategy", "sample"), effect)},
        coords={"strategy": ["watch", "surgery", "chemo"], "sample": np.arange(n)},
        attrs={"currency": "USD", "effect_unit": "QALY"},
    )


@pytest.fixture(scope="module")
def synthetic() -> xr.Dataset:
    return _synthetic()


@pytest.fixture(scope="module")
def whipple() -> xr.Dataset:
    ct = dm.load_compiled(WHIPPLE)
    params = dm.sample_parameters(ct.graph, 1000, 1)
    return dm.evaluate(ct, params)


def _cases(request: pytest.FixtureRequest, which: str) -> tuple[xr.Dataset, np.ndarray]:
    if which == "synthetic":
        return request.getfixturevalue("synthetic"), np.sort(np.asarray(GRID))
    return request.getfixturevalue("whipple"), WHIPPLE_GRID


CASES = pytest.mark.parametrize("which", ["synthetic", "whipple"], ids=["synthetic", "whipple"])


# ---------------------------------------------------------------------------------------
# naive references
# ---------------------------------------------------------------------------------------


def _arrays(out: xr.Dataset) -> tuple[list[str], np.ndarray, np.ndarray]:
    names = [str(s) for s in out["strategy"].values]
    cost = out["cost"].transpose("strategy", "sample").values
    effect = out["effect"].transpose("strategy", "sample").values
    return names, cost, effect


def _naive_p_ce(cost: np.ndarray, effect: np.ndarray, w: float) -> np.ndarray:
    """P(strategy has the highest NMB), counting draw by draw (ties shared)."""
    n_s, n = cost.shape
    counts = np.zeros(n_s)
    for j in range(n):
        nb = [w * effect[s, j] - cost[s, j] for s in range(n_s)]
        best = max(nb)
        winners = [s for s in range(n_s) if nb[s] == best]
        for s in winners:
            counts[s] += 1.0 / len(winners)
    return counts / n


def _naive_optimal(cost: np.ndarray, effect: np.ndarray, w: float) -> int:
    return int(np.argmax(w * effect.mean(axis=1) - cost.mean(axis=1)))


def _naive_evpi(cost: np.ndarray, effect: np.ndarray, w: float) -> float:
    nb = w * effect - cost
    return float(nb.max(axis=0).mean() - nb.mean(axis=1).max())  # E max - max E


# ---------------------------------------------------------------------------------------
# the cost-effectiveness plane
# ---------------------------------------------------------------------------------------


@CASES
def test_ce_plane_data_against_per_draw_differences(
    request: pytest.FixtureRequest, which: str
) -> None:
    out, _ = _cases(request, which)
    names, cost, effect = _arrays(out)
    ref = int(np.argmin([cost[s].mean() for s in range(len(names))]))
    d = ce_plane_data(out)
    assert d.attrs["reference"] == names[ref]
    others = [s for s in range(len(names)) if s != ref]
    assert d["strategy"].values.tolist() == [names[s] for s in others]
    for k, s in enumerate(others):
        inc_c = [cost[s, j] - cost[ref, j] for j in range(cost.shape[1])]
        inc_e = [effect[s, j] - effect[ref, j] for j in range(cost.shape[1])]
        np.testing.assert_allclose(d["inc_cost"].values[k], inc_c, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(d["inc_effect"].values[k], inc_e, rtol=1e-12, atol=1e-12)
        assert float(d["mean_inc_cost"].values[k]) == pytest.approx(
            cost[s].mean() - cost[ref].mean(), rel=1e-9, abs=1e-6
        )
        assert float(d["mean_inc_effect"].values[k]) == pytest.approx(
            effect[s].mean() - effect[ref].mean(), rel=1e-9, abs=1e-12
        )


def test_ce_plane_data_with_an_explicit_reference(synthetic: xr.Dataset) -> None:
    d = ce_plane_data(synthetic, reference="chemo")
    assert d.attrs["reference"] == "chemo"
    assert d["strategy"].values.tolist() == ["watch", "surgery"]
    np.testing.assert_allclose(
        d["inc_cost"].sel(strategy="watch").values,
        synthetic["cost"].sel(strategy="watch").values
        - synthetic["cost"].sel(strategy="chemo").values,
    )
    assert float(d["mean_inc_effect"].sel(strategy="surgery")) == pytest.approx(-0.1)
    assert d.attrs["currency"] == "USD"


@CASES
def test_plot_ce_plane_draws_the_twin(request: pytest.FixtureRequest, which: str) -> None:
    out, _ = _cases(request, which)
    d = ce_plane_data(out)
    k = d.sizes["strategy"]
    fig = plot_ce_plane(out, wtp=[30_000, 10_000], max_points=150)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.collections) == 2 * k
    for i in range(k):
        cloud = np.asarray(ax.collections[i].get_offsets())
        np.testing.assert_array_equal(cloud[:, 0], d["inc_effect"].values[i, :150])
        np.testing.assert_array_equal(cloud[:, 1], d["inc_cost"].values[i, :150])
        assert ax.collections[i].get_label() == d["strategy"].values[i]
        mean = np.asarray(ax.collections[k + i].get_offsets())
        assert mean.tolist() == [
            [float(d["mean_inc_effect"].values[i]), float(d["mean_inc_cost"].values[i])]
        ]
    # the WTP lines, ascending, through the origin with slope wtp
    for line, w in zip(ax.lines[:2], [10_000.0, 30_000.0], strict=True):
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        assert (y[1] - y[0]) / (x[1] - x[0]) == pytest.approx(w)
        assert y[0] == pytest.approx(w * x[0])
        assert tuple(x) == pytest.approx(ax.get_xlim())  # spans the window


def test_plot_ce_plane_shows_every_draw_with_max_points_none(synthetic: xr.Dataset) -> None:
    ax = plot_ce_plane(synthetic, max_points=None).axes[0]
    assert [len(c.get_offsets()) for c in ax.collections[:2]] == [400, 400]
    # no WTP line: only the two zero axes
    assert len(ax.lines) == 2
    assert ax.get_xlabel() == "incremental effect (QALY)"
    assert ax.get_ylabel() == "incremental cost (USD)"


# ---------------------------------------------------------------------------------------
# acceptability curves and frontier
# ---------------------------------------------------------------------------------------


@CASES
def test_ceac_data_against_counting(request: pytest.FixtureRequest, which: str) -> None:
    out, grid = _cases(request, which)
    names, cost, effect = _arrays(out)
    d = ceac_data(out, grid[::-1])  # any order in, ascending out
    assert d["wtp"].values.tolist() == sorted(grid.tolist())
    for i, w in enumerate(d["wtp"].values):
        p = _naive_p_ce(cost, effect, float(w))
        np.testing.assert_allclose(d["p_ce"].values[i], p, rtol=0, atol=1e-12)
        best = _naive_optimal(cost, effect, float(w))
        assert d["optimal"].values[i] == names[best]
        # the CEAF is the CEAC of the strategy with the highest expected NMB
        assert d["frontier"].values[i] == pytest.approx(p[best], abs=1e-12)


@CASES
def test_ceac_switches_are_where_expected_nmb_cross(
    request: pytest.FixtureRequest, which: str
) -> None:
    out, grid = _cases(request, which)
    names, cost, effect = _arrays(out)
    d = ceac_data(out, grid)
    opt = [names[_naive_optimal(cost, effect, float(w))] for w in grid]
    changes = [i for i in range(1, len(grid)) if opt[i] != opt[i - 1]]
    assert d["switch_from"].values.tolist() == [opt[i - 1] for i in changes]
    assert d["switch_to"].values.tolist() == [opt[i] for i in changes]
    for k, i in enumerate(changes):
        a, b = names.index(opt[i - 1]), names.index(opt[i])
        at = float(d["switch_wtp"].values[k])
        # the expected NMB of the two are equal there, inside the grid interval
        assert at * effect[a].mean() - cost[a].mean() == pytest.approx(
            at * effect[b].mean() - cost[b].mean(), rel=1e-9
        )
        assert grid[i - 1] - 1e-6 <= at <= grid[i] + 1e-6  # rounding at a grid value


def test_the_synthetic_optimum_switches_at_20000_and_40000(synthetic: xr.Dataset) -> None:
    d = ceac_data(synthetic, GRID)
    np.testing.assert_allclose(d["switch_wtp"].values, [20_000.0, 40_000.0], rtol=1e-9)
    assert d["switch_to"].values.tolist() == ["surgery", "chemo"]


@CASES
def test_plot_ceac_draws_the_twin(request: pytest.FixtureRequest, which: str) -> None:
    out, grid = _cases(request, which)
    d = ceac_data(out, grid)
    names = d["strategy"].values.tolist()
    ax = plot_ceac(out, grid).axes[0]
    for i, s in enumerate(names):
        assert ax.lines[i].get_label() == s
        np.testing.assert_array_equal(ax.lines[i].get_xdata(), d["wtp"].values)
        np.testing.assert_array_equal(ax.lines[i].get_ydata(), d["p_ce"].sel(strategy=s).values)
    ceaf_line = ax.lines[len(names)]
    assert ceaf_line.get_label() == "CEAF"
    np.testing.assert_array_equal(ceaf_line.get_ydata(), d["frontier"].values)
    switches = ax.lines[len(names) + 1 :]
    assert [float(line.get_xdata()[0]) for line in switches] == d["switch_wtp"].values.tolist()
    assert len(plot_ceac(out, grid, frontier=False).axes[0].lines) == len(names)


# ---------------------------------------------------------------------------------------
# expected loss and EVPI
# ---------------------------------------------------------------------------------------


@CASES
def test_expected_loss_data_against_a_loop(request: pytest.FixtureRequest, which: str) -> None:
    out, grid = _cases(request, which)
    names, cost, effect = _arrays(out)
    d = expected_loss_data(out, grid)
    for i, w in enumerate(grid):
        nb = w * effect - cost
        loss = [
            np.mean([nb[:, j].max() - nb[s, j] for j in range(nb.shape[1])])
            for s in range(len(names))
        ]
        scale = max(1.0, float(np.abs(nb).max()))
        np.testing.assert_allclose(
            d["expected_loss"].values[i], loss, rtol=1e-9, atol=1e-12 * scale
        )
        # the lower envelope is the EVPI: E max - max E
        assert float(d["evpi"].values[i]) == pytest.approx(
            _naive_evpi(cost, effect, float(w)), rel=1e-9, abs=1e-9 * scale
        )
        assert d["optimal"].values[i] == names[_naive_optimal(cost, effect, float(w))]


@CASES
def test_plot_expected_loss_draws_the_twin(request: pytest.FixtureRequest, which: str) -> None:
    out, grid = _cases(request, which)
    d = expected_loss_data(out, grid)
    names = d["strategy"].values.tolist()
    ax = plot_expected_loss(out, grid).axes[0]
    assert len(ax.lines) == len(names) + 1
    for i, s in enumerate(names):
        np.testing.assert_array_equal(
            ax.lines[i].get_ydata(), d["expected_loss"].sel(strategy=s).values
        )
    np.testing.assert_array_equal(ax.lines[-1].get_xdata(), d["wtp"].values)
    np.testing.assert_array_equal(ax.lines[-1].get_ydata(), d["evpi"].values)


@CASES
def test_evpi_curve_data_against_e_max_minus_max_e(
    request: pytest.FixtureRequest, which: str
) -> None:
    out, grid = _cases(request, which)
    _, cost, effect = _arrays(out)
    d = evpi_curve_data(out, grid)
    n = cost.shape[1]
    for i, w in enumerate(grid):
        nb = w * effect - cost
        scale = max(1.0, float(np.abs(nb).max()))
        loss = nb.max(axis=0) - nb[int(np.argmax(nb.mean(axis=1)))]
        se = float(np.std(loss, ddof=1) / np.sqrt(n))
        value = _naive_evpi(cost, effect, float(w))
        assert float(d["value"].values[i]) == pytest.approx(value, rel=1e-9, abs=1e-9 * scale)
        assert float(d["se"].values[i]) == pytest.approx(se, rel=1e-9, abs=1e-12)
        assert float(d["upper"].values[i]) == pytest.approx(
            value + 2 * se, rel=1e-9, abs=1e-9 * scale
        )
        assert float(d["lower"].values[i]) == pytest.approx(
            max(value - 2 * se, 0.0), rel=1e-9, abs=1e-9 * scale
        )
    assert d.attrs["population_multiplier"] == 1.0


def test_evpi_curve_data_scales_to_a_population(synthetic: xr.Dataset) -> None:
    base = evpi_curve_data(synthetic, GRID)
    by_number = evpi_curve_data(synthetic, GRID, population=5000)
    np.testing.assert_allclose(by_number["value"].values, 5000 * base["value"].values)
    np.testing.assert_allclose(by_number["se"].values, 5000 * base["se"].values)
    # continuous discounting: P / r * (1 - exp(-r T))
    m = 1000 / 0.035 * (1 - np.exp(-0.035 * 10))
    pop = {"pop_per_year": 1000, "horizon": 10, "discount": 0.035}
    by_keywords = evpi_curve_data(synthetic, GRID, population=pop)
    assert by_keywords.attrs["population_multiplier"] == pytest.approx(m)
    np.testing.assert_allclose(by_keywords["upper"].values, m * base["upper"].values)


@CASES
def test_plot_evpi_curve_draws_the_twin(request: pytest.FixtureRequest, which: str) -> None:
    out, grid = _cases(request, which)
    d = evpi_curve_data(out, grid, population=100)
    ax = plot_evpi_curve(out, grid, population=100).axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), d["wtp"].values)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), d["value"].values)
    vertices = np.concatenate([p.vertices for p in ax.collections[0].get_paths()])
    for w, lo, hi in zip(d["wtp"].values, d["lower"].values, d["upper"].values, strict=True):
        at_w = vertices[np.isclose(vertices[:, 0], w), 1]
        assert np.isclose(at_w, lo).any() and np.isclose(at_w, hi).any()
    assert ax.get_ylabel() == "EVPI, population (USD)" or "population" in ax.get_ylabel()


# ---------------------------------------------------------------------------------------
# figures: ax=, savefig
# ---------------------------------------------------------------------------------------

FIGURES = {
    "ce_plane": lambda out, ax=None: plot_ce_plane(out, wtp=20_000, ax=ax),
    "ceac": lambda out, ax=None: plot_ceac(out, GRID, ax=ax),
    "expected_loss": lambda out, ax=None: plot_expected_loss(out, GRID, ax=ax),
    "evpi_curve": lambda out, ax=None: plot_evpi_curve(out, GRID, ax=ax),
}


@pytest.mark.parametrize("kind", sorted(FIGURES), ids=sorted(FIGURES))
def test_savefig_writes_a_png(synthetic: xr.Dataset, kind: str, tmp_path: Path) -> None:
    fig = FIGURES[kind](synthetic)
    path = tmp_path / f"{kind}.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", sorted(FIGURES), ids=sorted(FIGURES))
def test_draws_on_a_given_ax_of_a_subfigure(synthetic: xr.Dataset, kind: str) -> None:
    root = Figure()
    sub = root.subfigures(1, 2)[1]
    ax = sub.add_subplot(1, 1, 1)
    assert FIGURES[kind](synthetic, ax) is root
    assert ax.has_data()


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------

BAD = {
    "unknown_reference": (lambda out: ce_plane_data(out, reference="nope"), "reference"),
    "plot_unknown_reference": (lambda out: plot_ce_plane(out, reference="nope"), "reference"),
    "negative_plane_wtp": (lambda out: plot_ce_plane(out, wtp=-1.0), "wtp"),
    "zero_max_points": (lambda out: plot_ce_plane(out, max_points=0), "max_points"),
    "empty_ceac_grid": (lambda out: ceac_data(out, []), "wtp_grid"),
    "negative_ceac_grid": (lambda out: plot_ceac(out, [0.0, -5.0]), "wtp_grid"),
    "repeated_loss_grid": (lambda out: expected_loss_data(out, [1.0, 1.0]), "wtp_grid"),
    "empty_evpi_grid": (lambda out: plot_evpi_curve(out, []), "wtp_grid"),
    "nan_evpi_grid": (lambda out: evpi_curve_data(out, [np.nan]), "wtp_grid"),
    "not_a_dataset": (lambda out: ceac_data(out["cost"], [1.0]), "outcomes"),
    "no_effect": (lambda out: ceac_data(out[["cost"]], [1.0]), "outcomes"),
    "one_strategy": (lambda out: ce_plane_data(out.isel(strategy=[0])), "outcomes"),
}


@pytest.mark.parametrize("case", sorted(BAD), ids=sorted(BAD))
def test_bad_input_names_the_argument(synthetic: xr.Dataset, case: str) -> None:
    call, argument = BAD[case]
    with pytest.raises(CEAInputError, match=f"^{argument}:"):
        call(synthetic)


BAD_POPULATION = {
    "negative": -1.0,
    "zero": 0,
    "text": "many",
    "bool": True,
    "missing_keys": {"pop_per_year": 1000},
    "bad_discount": {"pop_per_year": 1000, "horizon": 10, "discount": 3.5},
}


@pytest.mark.parametrize("case", sorted(BAD_POPULATION), ids=sorted(BAD_POPULATION))
def test_bad_population_names_the_argument(synthetic: xr.Dataset, case: str) -> None:
    with pytest.raises(VOIInputError, match=r"^population:") as info:
        evpi_curve_data(synthetic, GRID, population=BAD_POPULATION[case])  # type: ignore[arg-type]
    assert isinstance(info.value, DecisionModelError)
