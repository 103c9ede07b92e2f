"""Study designs for the expected value of sample information (EVSI).

A design describes a proposed study whose data would inform some of the model's
parameters. It is a plain dataclass naming the columns of the parameter sample
(``inputs``) it uses, and it can

* **simulate** one data set per PSA draw, given that draw's parameter values and a
  sample size ``n`` — vectorised over draws (arrays of shape (N, n) built in chunks of
  draws, never a Python loop per draw);
* reduce the data to **summary statistics** (an (N, k) array) for the regression
  estimator of EVSI (Strong et al. 2015);
* give the **log-likelihood** of simulated data sets under every PSA draw, an (S, N)
  array up to an additive constant per data set, for importance sampling
  (Menzies 2016) and for moment matching without a model function;
* optionally sample the **posterior** of its parameters given one data set (conjugate
  designs; for moment matching, Heath et al. 2018) and give its **prior effective
  sample size** n0 (for the Gaussian approximation, Jalal & Alarid-Escudero 2018).

Built-in designs (``n`` is the number of patients, per arm for two-arm designs):

=========================  ============================================================
:func:`binary`             single arm, events ~ Binomial(n, p)
:func:`binary_two_arm`     two arms, events_j ~ Binomial(n, p_j)
:func:`normal_mean`        mean of n Normal(mu, sd²) observations; sd known (a number) or
                           a PSA column, optionally estimated from the data
:func:`survival_two_arm`   randomised trial with time-to-event outcome: exponential or
                           Weibull survival, control rate and hazard ratio from the PSA,
                           uniform accrual plus fixed follow-up (administrative
                           censoring), optional exponential drop-out
:func:`custom_study`       the user's own data-generating function (and likelihood)
=========================  ============================================================

:func:`get_study` turns a name as used by the R package voi (``"binary"``,
``"trial_binary"``, ``"normal_known"``, ...) and a list of columns into a design.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> inputs = pd.DataFrame({"p_t1": rng.beta(53, 60, 5), "p_t2": rng.beta(12, 25, 5)})
>>> design = binary_two_arm(p1="p_t1", p2="p_t2")
>>> data = design.simulate(inputs, n=100, rng=rng)
>>> list(data.columns), design.summary(data, 100).shape
(['events1', 'events2'], (5, 2))
>>> design.loglik(data.iloc[:2], inputs, 100).shape    # 2 data sets x 5 draws
(2, 5)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import pandas as pd

from decisionmodel.exceptions import VOIInputError
from decisionmodel.rng import RNGLike
from decisionmodel.voi.inputs import _required_generator

__all__ = [
    "BinaryStudy",
    "BinaryTwoArmStudy",
    "CustomStudy",
    "NormalMeanStudy",
    "StudyDesign",
    "SurvivalTwoArmStudy",
    "binary",
    "binary_two_arm",
    "custom_study",
    "get_study",
    "normal_mean",
    "survival_two_arm",
]

#: Largest number of patient-level values held in memory at once by simulators.
_CHUNK_ELEMENTS = 2_000_000
#: Stand-in for log(0): exp() of it is exactly 0 and 0 times it is 0 (unlike -inf).
_LOG_ZERO = -1e10


def _sample_size(n: Any, minimum: int = 1) -> int:
    try:
        v = float(n)
    except (TypeError, ValueError):
        raise VOIInputError(f"sample size n must be a positive integer, got {n!r}") from None
    if not np.isfinite(v) or v != round(v) or v < minimum:
        raise VOIInputError(f"sample size n must be an integer >= {minimum}, got {n!r}")
    return round(v)


def _column(inputs: pd.DataFrame, name: str, design: str) -> np.ndarray:
    if name not in inputs.columns:
        raise VOIInputError(
            f"{design}: parameter {name!r} is not a column of inputs "
            f"(available: {', '.join(map(str, inputs.columns))})"
        )
    return inputs[name].to_numpy(dtype=float)


def _beta_moments(x: np.ndarray, what: str) -> tuple[float, float]:
    """Beta(a, b) with the mean and variance of the draws ``x`` (method of moments)."""
    m, v = float(np.mean(x)), float(np.var(x, ddof=1))
    if not 0.0 < m < 1.0 or v <= 0.0 or v >= m * (1.0 - m):
        raise VOIInputError(
            f"cannot fit a Beta prior to the draws of {what} (mean {m:.4g}, variance {v:.4g})"
        )
    s = m * (1.0 - m) / v - 1.0
    return m * s, (1.0 - m) * s


def _safe_log(x: np.ndarray) -> np.ndarray:
    """log(x) with log(0) replaced by a large finite negative number (no warnings, 0·log 0 = 0)."""
    out = np.full(np.shape(x), _LOG_ZERO)
    np.log(x, out=out, where=np.asarray(x) > 0)
    return out


def _outer_sum(
    data_terms: Sequence[np.ndarray],
    par_terms: Sequence[np.ndarray],
    offset: np.ndarray | None = None,
) -> np.ndarray:
    """Σ_j outer(data_terms[j], par_terms[j]) (+ offset per draw): an (S, N) log-likelihood.

    Written as in-place updates through one scratch buffer; for the few terms of these
    likelihoods this is faster than a rank-k matrix product.
    """
    S, N = len(data_terms[0]), len(par_terms[0])
    out = np.multiply.outer(
        np.asarray(data_terms[0], dtype=float), np.asarray(par_terms[0], dtype=float)
    )
    tmp = np.empty((S, N)) if len(data_terms) > 1 else None
    for a, b in zip(data_terms[1:], par_terms[1:], strict=True):
        np.multiply(
            np.asarray(a, dtype=float)[:, None], np.asarray(b, dtype=float)[None, :], out=tmp
        )
        out += tmp
    if offset is not None:
        out += np.asarray(offset, dtype=float)[None, :]
    return out


def _binomial_terms(p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """logit-type slope log p − log(1−p) and offset n·log(1−p) of the binomial log-likelihood
    x·log p + (n−x)·log(1−p), with log 0 a large finite negative number."""
    p = np.asarray(p, dtype=float)
    log_p, log_q = _safe_log(p), _safe_log(1.0 - p)
    return log_p - log_q, n * log_q


class StudyDesign:
    """Base class of study designs. Subclasses are dataclasses; see the module docstring.

    Attributes a design provides: ``pars`` (the PSA columns it uses, in order),
    ``summary_names`` and ``name``. Methods: :meth:`simulate`, :meth:`summary`,
    :meth:`loglik`, :meth:`posterior`, :meth:`prior_n0`. Every method that draws takes
    ``rng`` (see :mod:`decisionmodel.rng`) and refuses ``None``.

    Examples
    --------
    >>> import pandas as pd
    >>> design = get_study("binary", "p")
    >>> isinstance(design, StudyDesign), design.pars, design.has_likelihood
    (True, ('p',), True)
    >>> design.simulate(pd.DataFrame({"p": [0.1, 0.9]}), 10)
    Traceback (most recent call last):
    ...
    TypeError: rng is required: pass a numpy.random.Generator, a SeedSequence or an int seed (e.g. rng=1)
    """

    name: str = "study"

    @property
    def pars(self) -> tuple[str, ...]:
        """The columns of ``inputs`` the design uses (its parameters of interest)."""
        raise NotImplementedError

    @property
    def summary_names(self) -> tuple[str, ...]:
        """Names of the columns of :meth:`summary` (empty when not known in advance)."""
        return ()

    @property
    def has_likelihood(self) -> bool:
        """Whether :meth:`loglik` is available (needed for importance sampling)."""
        return True

    @property
    def has_posterior(self) -> bool:
        """Whether :meth:`posterior` can sample the posterior (conjugate designs)."""
        return False

    @property
    def min_n(self) -> int:
        """Smallest admissible sample size."""
        return 1

    def check_n(self, n: Any) -> int:
        """Validate one sample size.

        Parameters
        ----------
        n : int
            The sample size (per arm for two-arm designs); a float with a whole value is
            accepted.

        Returns
        -------
        int

        Raises
        ------
        VOIInputError
            ``n`` is not a whole number of at least :attr:`min_n`.
        """
        return _sample_size(n, self.min_n)

    def validate(self, inputs: pd.DataFrame) -> None:
        """Check that ``inputs`` holds the design's columns, with values in their range.

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws, one row per draw (N rows).

        Raises
        ------
        VOIInputError
            A column is missing or a value is out of range.
        """
        for p in self.pars:
            _column(inputs, p, self.name)

    def simulate(self, inputs: pd.DataFrame, n: int, rng: RNGLike | None = None) -> pd.DataFrame:
        """One simulated data set per row of ``inputs``, from that row's parameter values.

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws, one row per draw (N rows), with the design's columns.
        n : int
            Sample size (per arm for two-arm designs).
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).

        Returns
        -------
        pandas.DataFrame
            N rows: the simulated data of each draw.
        """
        raise NotImplementedError

    def summary(self, data: pd.DataFrame, n: int) -> np.ndarray:
        """Summary statistics of simulated data: the regressors of the regression method.

        The default is the data themselves.

        Parameters
        ----------
        data : pandas.DataFrame
            Data sets from :meth:`simulate` (N rows).
        n : int
            Their sample size.

        Returns
        -------
        numpy.ndarray
            Shape (N, k), columns :attr:`summary_names`.
        """
        return data.to_numpy(dtype=float)

    def simulate_summary(
        self, inputs: pd.DataFrame, n: int, rng: RNGLike | None = None
    ) -> np.ndarray:
        """The summary statistics of one data set per draw: :meth:`simulate`, then :meth:`summary`.

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws (N rows).
        n : int
            Sample size.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).

        Returns
        -------
        numpy.ndarray
            Shape (N, k).
        """
        n = self.check_n(n)
        return self.summary(self.simulate(inputs, n, rng), n)

    def loglik(self, data: pd.DataFrame, inputs: pd.DataFrame, n: int) -> np.ndarray:
        """Log-likelihood (S, N) of S data sets (rows of ``data``) under N parameter draws.

        Constants that do not depend on the parameters may be dropped (importance weights are
        normalised per data set).

        Parameters
        ----------
        data : pandas.DataFrame
            S simulated data sets (rows of a :meth:`simulate` frame).
        inputs : pandas.DataFrame
            N parameter draws.
        n : int
            The sample size the data sets were simulated with.

        Returns
        -------
        numpy.ndarray
            Shape (S, N).

        Raises
        ------
        VOIInputError
            The design has no likelihood (:attr:`has_likelihood` is False).
        """
        raise VOIInputError(f"study {self.name!r} has no likelihood; importance sampling needs one")

    def posterior(
        self,
        data: pd.DataFrame,
        n: int,
        size: int,
        rng: RNGLike | None,
        inputs: pd.DataFrame,
    ) -> pd.DataFrame:
        """``size`` draws of the design's parameters given one data set (a one-row frame).

        Parameters
        ----------
        data : pandas.DataFrame
            One data set (a one-row frame of :meth:`simulate`'s columns).
        n : int
            Its sample size.
        size : int
            Posterior draws.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).
        inputs : pandas.DataFrame
            The PSA sample, from which priors are fitted when not given.

        Returns
        -------
        pandas.DataFrame
            ``size`` rows, columns :attr:`pars`.

        Raises
        ------
        VOIInputError
            The design has no posterior sampler (:attr:`has_posterior` is False).
        """
        raise VOIInputError(f"study {self.name!r} has no built-in posterior sampler")

    def prior_n0(self, inputs: pd.DataFrame) -> dict[str, float] | None:
        """Prior effective sample size of each parameter, where the design knows it.

        Parameters
        ----------
        inputs : pandas.DataFrame
            The PSA draws.

        Returns
        -------
        dict or None
            ``{parameter: n0}``, or None (the default) when the design does not know it.
        """
        return None

    def describe(self) -> str:
        """A one-line description (used in result attributes).

        Returns
        -------
        str
        """
        return repr(self)


# --------------------------------------------------------------------------- binary


@dataclass(frozen=True)
class BinaryStudy(StudyDesign):
    """Single-arm study of a binary outcome: events ~ Binomial(n, p).

    Parameters
    ----------
    p : str
        Column of ``inputs`` holding the event probability.
    prior : (float, float), optional
        Beta(a, b) prior used by the conjugate posterior sampler and for n0 = a + b;
        by default fitted to the PSA draws of ``p`` by moments.

    Examples
    --------
    >>> import pandas as pd
    >>> study = BinaryStudy("p", prior=(2.0, 8.0))
    >>> study.prior_n0(pd.DataFrame({"p": [0.1, 0.3]}))
    {'p': 10.0}
    >>> study.loglik(pd.DataFrame({"events": [0.0]}), pd.DataFrame({"p": [0.5, 0.0]}), 2)
    array([[-1.38629436,  0.        ]])
    """

    p: str
    prior: tuple[float, float] | None = None
    name: str = field(default="binary", init=False)

    @property
    def pars(self) -> tuple[str, ...]:
        """The one column of the design: ``(p,)``."""
        return (self.p,)

    @property
    def summary_names(self) -> tuple[str, ...]:
        """``("events",)``: the number of events is sufficient for ``p``."""
        return ("events",)

    @property
    def has_posterior(self) -> bool:
        """True: the Beta prior is conjugate."""
        return True

    def validate(self, inputs: pd.DataFrame) -> None:
        """Check that column ``p`` exists and holds probabilities in [0, 1].

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws, one row per draw (N rows).

        Raises
        ------
        VOIInputError
            A column is missing or a value is out of range.
        """
        p = _column(inputs, self.p, self.name)
        if (p < 0).any() or (p > 1).any():
            raise VOIInputError(
                f"{self.name}: probabilities in column {self.p!r} must lie in [0, 1]"
            )

    def simulate(self, inputs: pd.DataFrame, n: int, rng: RNGLike | None = None) -> pd.DataFrame:
        """Events ~ Binomial(n, p) for each draw.

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws (N rows) with the column ``p``.
        n : int
            Sample size (patients).
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).

        Returns
        -------
        pandas.DataFrame
            One simulated data set per draw (N rows), column ``events``.
        """
        n = self.check_n(n)
        p = _column(inputs, self.p, self.name)
        return pd.DataFrame({"events": _required_generator(rng).binomial(n, p).astype(float)})

    def loglik(self, data: pd.DataFrame, inputs: pd.DataFrame, n: int) -> np.ndarray:
        """Log-likelihood (S, N) of S data sets under N draws: x·log p + (n − x)·log(1 − p).

        Parameters
        ----------
        data : pandas.DataFrame
            S simulated data sets (rows of :meth:`simulate`'s frame: ``events``).
        inputs : pandas.DataFrame
            N parameter draws.
        n : int
            The sample size the data sets were simulated with.

        Returns
        -------
        numpy.ndarray
            Shape (S, N), up to a constant per data set.
        """
        slope, offset = _binomial_terms(_column(inputs, self.p, self.name), n)
        return _outer_sum([data["events"].to_numpy()], [slope], offset)

    def _prior(self, inputs: pd.DataFrame) -> tuple[float, float]:
        return (
            self.prior
            if self.prior is not None
            else _beta_moments(inputs[self.p].to_numpy(), self.p)
        )

    def posterior(
        self,
        data: pd.DataFrame,
        n: int,
        size: int,
        rng: RNGLike | None,
        inputs: pd.DataFrame,
    ) -> pd.DataFrame:
        """Draws from the Beta(a + x, b + n − x) posterior of ``p`` given x events.

        Parameters
        ----------
        data : pandas.DataFrame
            One data set (a one-row frame of :meth:`simulate`'s columns).
        n : int
            Its sample size.
        size : int
            Posterior draws.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).
        inputs : pandas.DataFrame
            The PSA draws, to which the prior is fitted by moments when none was given.

        Returns
        -------
        pandas.DataFrame
            ``size`` draws of the design's parameters (columns :attr:`pars`).
        """
        a, b = self._prior(inputs)
        x = float(np.asarray(data["events"])[0])
        return pd.DataFrame({self.p: _required_generator(rng).beta(a + x, b + n - x, size)})

    def prior_n0(self, inputs: pd.DataFrame) -> dict[str, float]:
        """n0 = a + b of the Beta(a, b) prior.

        Parameters
        ----------
        inputs : pandas.DataFrame
            The PSA draws (the prior is fitted to them by moments when none was given).

        Returns
        -------
        dict
            ``{parameter: n0}``.
        """
        a, b = self._prior(inputs)
        return {self.p: a + b}


@dataclass(frozen=True)
class BinaryTwoArmStudy(StudyDesign):
    """Two-arm trial of a binary outcome, ``n`` patients per arm: events_j ~ Binomial(n, p_j).

    Parameters
    ----------
    p1, p2 : str
        Columns holding the event probability in arm 1 and arm 2.
    prior1, prior2 : (float, float), optional
        Beta priors per arm (default: fitted to the PSA draws by moments).

    Examples
    --------
    >>> import pandas as pd
    >>> study = BinaryTwoArmStudy("p1", "p2")
    >>> study.simulate(pd.DataFrame({"p1": [0.0, 1.0], "p2": [1.0, 0.0]}), 5, rng=1)
       events1  events2
    0      0.0      5.0
    1      5.0      0.0
    """

    p1: str
    p2: str
    prior1: tuple[float, float] | None = None
    prior2: tuple[float, float] | None = None
    name: str = field(default="binary_two_arm", init=False)

    @property
    def pars(self) -> tuple[str, ...]:
        """The two columns of the design: ``(p1, p2)``."""
        return (self.p1, self.p2)

    @property
    def summary_names(self) -> tuple[str, ...]:
        """``("events1", "events2")``: the events per arm."""
        return ("events1", "events2")

    @property
    def has_posterior(self) -> bool:
        """True: the Beta priors are conjugate."""
        return True

    def validate(self, inputs: pd.DataFrame) -> None:
        """Check that ``p1`` and ``p2`` are two different columns of probabilities in [0, 1].

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws, one row per draw (N rows).

        Raises
        ------
        VOIInputError
            A column is missing or a value is out of range.
        """
        if self.p1 == self.p2:
            raise VOIInputError(f"{self.name}: p1 and p2 name the same column {self.p1!r}")
        for col in self.pars:
            p = _column(inputs, col, self.name)
            if (p < 0).any() or (p > 1).any():
                raise VOIInputError(
                    f"{self.name}: probabilities in column {col!r} must lie in [0, 1]"
                )

    def simulate(self, inputs: pd.DataFrame, n: int, rng: RNGLike | None = None) -> pd.DataFrame:
        """Events ~ Binomial(n, p_j) in each arm j, for each draw.

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws (N rows) with the columns ``p1`` and ``p2``.
        n : int
            Sample size per arm.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).

        Returns
        -------
        pandas.DataFrame
            One simulated data set per draw (N rows), columns ``events1`` and ``events2``.
        """
        n = self.check_n(n)
        rng = _required_generator(rng)
        p1 = _column(inputs, self.p1, self.name)
        p2 = _column(inputs, self.p2, self.name)
        return pd.DataFrame(
            {
                "events1": rng.binomial(n, p1).astype(float),
                "events2": rng.binomial(n, p2).astype(float),
            }
        )

    def loglik(self, data: pd.DataFrame, inputs: pd.DataFrame, n: int) -> np.ndarray:
        """Log-likelihood (S, N) of S data sets under N draws: Σ_j x_j·log p_j + (n − x_j)·log(1 − p_j).

        Parameters
        ----------
        data : pandas.DataFrame
            S simulated data sets (rows of :meth:`simulate`'s frame: ``events1``, ``events2``).
        inputs : pandas.DataFrame
            N parameter draws.
        n : int
            The sample size the data sets were simulated with.

        Returns
        -------
        numpy.ndarray
            Shape (S, N), up to a constant per data set.
        """
        s1, o1 = _binomial_terms(inputs[self.p1].to_numpy(), n)
        s2, o2 = _binomial_terms(inputs[self.p2].to_numpy(), n)
        return _outer_sum(
            [data["events1"].to_numpy(), data["events2"].to_numpy()], [s1, s2], o1 + o2
        )

    def _priors(self, inputs):
        a = (
            self.prior1
            if self.prior1 is not None
            else _beta_moments(inputs[self.p1].to_numpy(), self.p1)
        )
        b = (
            self.prior2
            if self.prior2 is not None
            else _beta_moments(inputs[self.p2].to_numpy(), self.p2)
        )
        return a, b

    def posterior(
        self,
        data: pd.DataFrame,
        n: int,
        size: int,
        rng: RNGLike | None,
        inputs: pd.DataFrame,
    ) -> pd.DataFrame:
        """Independent Beta(a_j + x_j, b_j + n − x_j) posterior draws of ``p1`` and ``p2``.

        Parameters
        ----------
        data : pandas.DataFrame
            One data set (a one-row frame of :meth:`simulate`'s columns).
        n : int
            Its sample size.
        size : int
            Posterior draws.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).
        inputs : pandas.DataFrame
            The PSA draws, to which the prior is fitted by moments when none was given.

        Returns
        -------
        pandas.DataFrame
            ``size`` draws of the design's parameters (columns :attr:`pars`).
        """
        (a1, b1), (a2, b2) = self._priors(inputs)
        rng = _required_generator(rng)
        x1 = float(np.asarray(data["events1"])[0])
        x2 = float(np.asarray(data["events2"])[0])
        return pd.DataFrame(
            {
                self.p1: rng.beta(a1 + x1, b1 + n - x1, size),
                self.p2: rng.beta(a2 + x2, b2 + n - x2, size),
            }
        )

    def prior_n0(self, inputs: pd.DataFrame) -> dict[str, float]:
        """n0 = a_j + b_j of each arm's Beta prior.

        Parameters
        ----------
        inputs : pandas.DataFrame
            The PSA draws (the prior is fitted to them by moments when none was given).

        Returns
        -------
        dict
            ``{parameter: n0}``.
        """
        (a1, b1), (a2, b2) = self._priors(inputs)
        return {self.p1: a1 + b1, self.p2: a2 + b2}


# --------------------------------------------------------------------------- normal


@dataclass(frozen=True)
class NormalMeanStudy(StudyDesign):
    """Study of a normally distributed outcome: n observations X_i ~ Normal(mu, sd²).

    Parameters
    ----------
    mu : str
        Column holding the mean.
    sd : float or str
        The individual-level standard deviation: a known number, or a column of
        ``inputs`` when it is itself uncertain.
    estimate_sd : bool
        If False (default) the summary is the sample mean, sufficient for ``mu`` when
        ``sd`` is known. If True the study also reports the sample SD ``s``, with
        (n−1)s²/sd² ~ χ²(n−1) (needs n ≥ 2); its likelihood is the full normal one.
    prior : (float, float), optional
        Normal prior (mean, sd) of ``mu`` for the conjugate posterior (known ``sd``
        only); default: fitted to the PSA draws by moments.

    Examples
    --------
    >>> import pandas as pd
    >>> study = NormalMeanStudy("mu", sd=2.0, prior=(0.0, 1.0))
    >>> study.prior_n0(pd.DataFrame({"mu": [0.0, 1.0]}))        # sd² / prior variance
    {'mu': 4.0}
    >>> post = study.posterior(pd.DataFrame({"xbar": [1.0]}), 4, 20000, 3, None)
    >>> round(float(post["mu"].mean()), 1)                    # (4·1/4) / (1 + 4/4) = 0.5
    0.5
    """

    mu: str
    sd: float | str = 1.0
    estimate_sd: bool = False
    prior: tuple[float, float] | None = None
    name: str = field(default="normal_mean", init=False)

    @property
    def pars(self) -> tuple[str, ...]:
        """``(mu,)``, or ``(mu, sd)`` when ``sd`` is a column."""
        return (self.mu, self.sd) if isinstance(self.sd, str) else (self.mu,)

    @property
    def min_n(self) -> int:
        """2 when the sample SD is reported (``estimate_sd``), else 1."""
        return 2 if self.estimate_sd else 1

    @property
    def has_posterior(self) -> bool:
        """True for a known numeric ``sd`` without ``estimate_sd`` (the normal prior is conjugate)."""
        return not isinstance(self.sd, str) and not self.estimate_sd

    def _sd(self, inputs: pd.DataFrame) -> np.ndarray:
        if isinstance(self.sd, str):
            return _column(inputs, self.sd, self.name)
        return np.full(len(inputs), float(self.sd))

    def validate(self, inputs: pd.DataFrame) -> None:
        """Check that ``mu`` is a column and that ``sd`` is positive (a number or a column).

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws, one row per draw (N rows).

        Raises
        ------
        VOIInputError
            A column is missing or a value is out of range.
        """
        _column(inputs, self.mu, self.name)
        if not isinstance(self.sd, str) and not (
            np.isfinite(float(self.sd)) and float(self.sd) > 0
        ):
            raise VOIInputError(
                f"{self.name}: sd must be a positive number or a column name, got {self.sd!r}"
            )
        if (self._sd(inputs) <= 0).any():
            raise VOIInputError(
                f"{self.name}: standard deviations in column {self.sd!r} must be > 0"
            )

    @property
    def summary_names(self) -> tuple[str, ...]:
        """``("xbar",)``, or ``("xbar", "s")`` with ``estimate_sd``."""
        return ("xbar", "s") if self.estimate_sd else ("xbar",)

    def simulate(self, inputs: pd.DataFrame, n: int, rng: RNGLike | None = None) -> pd.DataFrame:
        """The sample mean of n Normal(mu, sd²) observations (and the sample SD), per draw.

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws (N rows) with the column ``mu`` (and ``sd`` if it is a column).
        n : int
            Sample size (observations).
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).

        Returns
        -------
        pandas.DataFrame
            One simulated data set per draw (N rows), column ``xbar`` (and ``s``).
        """
        n = self.check_n(n)
        rng = _required_generator(rng)
        mu = _column(inputs, self.mu, self.name)
        sd = self._sd(inputs)
        out = {"xbar": mu + sd / np.sqrt(n) * rng.standard_normal(len(mu))}
        if self.estimate_sd:
            out["s"] = sd * np.sqrt(rng.chisquare(n - 1, len(mu)) / (n - 1))
        return pd.DataFrame(out)

    def loglik(self, data: pd.DataFrame, inputs: pd.DataFrame, n: int) -> np.ndarray:
        """Log-likelihood (S, N) of S data sets under N draws: −k·log sd − [n·(x̄ − mu)² + (n − 1)·s²]/(2·sd²), k = 1 for the mean alone and n with the sample SD.

        Parameters
        ----------
        data : pandas.DataFrame
            S simulated data sets (rows of :meth:`simulate`'s frame: ``xbar`` (and ``s``)).
        inputs : pandas.DataFrame
            N parameter draws.
        n : int
            The sample size the data sets were simulated with.

        Returns
        -------
        numpy.ndarray
            Shape (S, N), up to a constant per data set.
        """
        # -k log sd - [n (xbar - mu)^2 + (n-1) s^2] / (2 sd^2); k = 1 for the mean alone (its
        # sd is sd/sqrt(n)), n with the sample SD.
        mu = inputs[self.mu].to_numpy(dtype=float)
        x = data["xbar"].to_numpy(dtype=float)
        sd = self._sd(inputs)
        if not isinstance(self.sd, str) and not self.estimate_sd:
            out = np.subtract.outer(x, mu)
            out *= out
            out *= -n / (2.0 * float(self.sd) ** 2)
            return out
        # sd varies by draw: expand the square (centred at c to avoid cancellation)
        c = float(np.mean(mu))
        mu, x = mu - c, x - c
        h = 1.0 / (2.0 * sd**2)
        feats = [x**2, x]
        pars = [-n * h, 2 * n * h * mu]
        offset = -n * h * mu**2 - (n if self.estimate_sd else 1) * np.log(sd)
        if self.estimate_sd:
            feats.append(data["s"].to_numpy(dtype=float) ** 2)
            pars.append(-(n - 1) * h)
        return _outer_sum(feats, pars, offset)

    def _prior(self, inputs):
        if self.prior is not None:
            return self.prior
        x = inputs[self.mu].to_numpy(dtype=float)
        return float(np.mean(x)), float(np.std(x, ddof=1))

    def posterior(
        self,
        data: pd.DataFrame,
        n: int,
        size: int,
        rng: RNGLike | None,
        inputs: pd.DataFrame,
    ) -> pd.DataFrame:
        """Draws from the conjugate normal posterior of ``mu`` given the sample mean (known ``sd``).

        Parameters
        ----------
        data : pandas.DataFrame
            One data set (a one-row frame of :meth:`simulate`'s columns).
        n : int
            Its sample size.
        size : int
            Posterior draws.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).
        inputs : pandas.DataFrame
            The PSA draws, to which the prior is fitted by moments when none was given.

        Returns
        -------
        pandas.DataFrame
            ``size`` draws of the design's parameters (columns :attr:`pars`).

        Raises
        ------
        VOIInputError
            ``sd`` is a column or ``estimate_sd`` is set (no conjugate posterior).
        """
        if not self.has_posterior:
            raise VOIInputError(
                f"{self.name}: the built-in posterior needs a known (numeric) sd and estimate_sd=False"
            )
        m0, s0 = self._prior(inputs)
        xbar = float(np.asarray(data["xbar"])[0])
        prec = 1 / s0**2 + n / float(self.sd) ** 2
        mean = (m0 / s0**2 + n * xbar / float(self.sd) ** 2) / prec
        return pd.DataFrame(
            {self.mu: mean + _required_generator(rng).standard_normal(size) / np.sqrt(prec)}
        )

    def prior_n0(self, inputs: pd.DataFrame) -> dict[str, float]:
        """n0 = sd² / Var(mu) (the prior's variance in units of one observation).

        Parameters
        ----------
        inputs : pandas.DataFrame
            The PSA draws (the prior is fitted to them by moments when none was given).

        Returns
        -------
        dict
            ``{parameter: n0}``.
        """
        _, s0 = self._prior(inputs)
        sd2 = float(np.mean(self._sd(inputs) ** 2))
        return {self.mu: sd2 / s0**2}


# --------------------------------------------------------------------------- survival


@dataclass(frozen=True)
class SurvivalTwoArmStudy(StudyDesign):
    """Randomised two-arm trial with a time-to-event outcome and administrative censoring.

    ``n`` patients per arm enter uniformly over ``accrual`` time units and are followed
    until ``follow_up`` units after the last entry, so patient i is censored at
    accrual + follow_up − entry_i ~ Uniform(follow_up, accrual + follow_up) (and earlier
    by exponential drop-out at rate ``dropout``, if given). Survival is Weibull with
    cumulative hazard H(t) = λ t^shape in the control arm and λ·HR·t^shape in the
    experimental arm (proportional hazards; shape = 1 is exponential).

    The data per arm are the number of events ``d`` and the exposure Σ y_i^shape
    (y_i the observed time), which with a known shape are sufficient for (λ, HR): the
    log-likelihood is Σ_arms d log λ_arm − λ_arm · exposure_arm.

    Parameters
    ----------
    rate : str
        Column with the control-arm rate λ (per time unit; with shape ≠ 1, the Weibull
        rate in H(t) = λ t^shape).
    hr : str
        Column with the hazard ratio (experimental vs control), or its logarithm when
        ``log_hr`` is True.
    accrual, follow_up : float
        Accrual period and minimum follow-up (same time unit as ``rate``).
    shape : float
        Known Weibull shape (1 = exponential).
    log_hr : bool
        Whether the ``hr`` column holds log hazard ratios.
    dropout : float
        Rate of non-informative exponential drop-out (0 = none).
    summary : {"rates", "counts", "loghr"}
        Regressors for the regression method: ``"rates"`` (default) the estimated log
        control rate log((d_c + ½)/E_c) and log hazard ratio; ``"counts"`` the events and
        exposure per arm; ``"loghr"`` the log-HR estimate and its standard error
        √(1/(d_c+½) + 1/(d_t+½)) (use when the decision depends on the HR only).

    Examples
    --------
    >>> study = SurvivalTwoArmStudy("rate", "hr", accrual=2.0, follow_up=1.0)
    >>> study.pars, study.summary_names
    (('rate', 'hr'), ('log_rate_control', 'log_hr'))
    """

    rate: str
    hr: str
    accrual: float = 1.0
    follow_up: float = 1.0
    shape: float = 1.0
    log_hr: bool = False
    dropout: float = 0.0
    summary_type: str = "rates"
    name: str = field(default="survival_two_arm", init=False)

    @property
    def pars(self) -> tuple[str, ...]:
        """``(rate, hr)``."""
        return (self.rate, self.hr)

    @property
    def summary_names(self) -> tuple[str, ...]:
        """The regressors of the chosen ``summary`` (see the class docstring)."""
        return {
            "rates": ("log_rate_control", "log_hr"),
            "counts": ("events_control", "exposure_control", "events_treated", "exposure_treated"),
            "loghr": ("log_hr", "se_log_hr"),
        }[self.summary_type]

    def validate(self, inputs: pd.DataFrame) -> None:
        """Check the columns (positive rates and hazard ratios, unless ``log_hr``) and the trial settings.

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws, one row per draw (N rows).

        Raises
        ------
        VOIInputError
            A column is missing or a value is out of range.
        """
        if self.rate == self.hr:
            raise VOIInputError(f"{self.name}: rate and hr name the same column {self.rate!r}")
        rate = _column(inputs, self.rate, self.name)
        hr = _column(inputs, self.hr, self.name)
        if (rate <= 0).any():
            raise VOIInputError(f"{self.name}: rates in column {self.rate!r} must be > 0")
        if not self.log_hr and (hr <= 0).any():
            raise VOIInputError(
                f"{self.name}: hazard ratios in column {self.hr!r} must be > 0 (set log_hr=True for log HRs)"
            )
        for what, v in (
            ("accrual", self.accrual),
            ("follow_up", self.follow_up),
            ("dropout", self.dropout),
        ):
            if not (np.isfinite(v) and v >= 0):
                raise VOIInputError(f"{self.name}: {what} must be a finite number >= 0, got {v!r}")
        if self.accrual + self.follow_up <= 0:
            raise VOIInputError(f"{self.name}: accrual + follow_up must be > 0")
        if not (np.isfinite(self.shape) and self.shape > 0):
            raise VOIInputError(f"{self.name}: shape must be > 0, got {self.shape!r}")
        if self.summary_type not in ("rates", "counts", "loghr"):
            raise VOIInputError(
                f"{self.name}: summary must be 'rates', 'counts' or 'loghr', got {self.summary_type!r}"
            )

    def _rates(self, inputs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        lam = inputs[self.rate].to_numpy(dtype=float)
        h = inputs[self.hr].to_numpy(dtype=float)
        return lam, (np.exp(h) if self.log_hr else h)

    def _arm(
        self, lam: np.ndarray, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Events and exposure Σ y^shape for one arm, per draw; chunks of draws bound memory."""
        size = len(lam)
        events = np.empty(size)
        exposure = np.empty(size)
        step = max(1, _CHUNK_ELEMENTS // n)
        k = self.shape
        for start in range(0, size, step):
            stop = min(size, start + step)
            m = stop - start
            # cumulative hazard of the event time is Exp(1): H(T) = lam T^k  =>  T^k = E / lam
            tk = rng.standard_exponential((m, n)) / lam[start:stop, None]
            c = self.follow_up + self.accrual * rng.random((m, n))
            if self.dropout > 0:
                c = np.minimum(c, rng.standard_exponential((m, n)) / self.dropout)
            ck = c if k == 1.0 else c**k
            event = tk <= ck
            events[start:stop] = event.sum(axis=1)
            exposure[start:stop] = np.where(event, tk, ck).sum(axis=1)
        return events, exposure

    def simulate(self, inputs: pd.DataFrame, n: int, rng: RNGLike | None = None) -> pd.DataFrame:
        """Events and exposure per arm of one trial per draw (every patient simulated).

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws (N rows) with the columns ``rate`` and ``hr``.
        n : int
            Sample size per arm.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).

        Returns
        -------
        pandas.DataFrame
            One simulated data set per draw (N rows), columns ``events_control``,
            ``exposure_control``, ``events_treated``, ``exposure_treated``.
        """
        n = self.check_n(n)
        rng = _required_generator(rng)
        lam, h = self._rates(inputs)
        dc, ec = self._arm(lam, n, rng)
        dt, et = self._arm(lam * h, n, rng)
        return pd.DataFrame(
            {
                "events_control": dc,
                "exposure_control": ec,
                "events_treated": dt,
                "exposure_treated": et,
            }
        )

    def summary(self, data: pd.DataFrame, n: int) -> np.ndarray:
        """The regressors of ``summary``: log rates, counts or the log-HR estimate and its SE.

        Parameters
        ----------
        data : pandas.DataFrame
            Trials from :meth:`simulate` (N rows).
        n : int
            Patients per arm.

        Returns
        -------
        numpy.ndarray
            Shape (N, k), columns :attr:`summary_names`.
        """
        dc, ec, dt, et = (
            data[c].to_numpy(dtype=float)
            for c in ("events_control", "exposure_control", "events_treated", "exposure_treated")
        )
        if self.summary_type == "counts":
            return np.column_stack([dc, ec, dt, et])
        log_rc = np.log((dc + 0.5) / ec)
        log_hr = np.log((dt + 0.5) / et) - log_rc
        if self.summary_type == "rates":
            return np.column_stack([log_rc, log_hr])
        return np.column_stack([log_hr, np.sqrt(1 / (dc + 0.5) + 1 / (dt + 0.5))])

    def loglik(self, data: pd.DataFrame, inputs: pd.DataFrame, n: int) -> np.ndarray:
        """Log-likelihood (S, N) of S data sets under N draws: Σ_arms d·log λ_arm − λ_arm·exposure_arm.

        Parameters
        ----------
        data : pandas.DataFrame
            S simulated data sets (rows of :meth:`simulate`'s frame: events and exposure per arm).
        inputs : pandas.DataFrame
            N parameter draws.
        n : int
            The sample size the data sets were simulated with.

        Returns
        -------
        numpy.ndarray
            Shape (S, N), up to a constant per data set.
        """
        lam, h = self._rates(inputs)
        dc, ec, dt, et = (
            data[c].to_numpy(dtype=float)
            for c in ("events_control", "exposure_control", "events_treated", "exposure_treated")
        )
        return _outer_sum([dc + dt, dt, -ec, -et], [np.log(lam), np.log(h), lam, lam * h])

    def event_probability(self, rate: np.ndarray | float) -> np.ndarray:
        """Probability that a patient's event is observed (exponential, no drop-out).

        With censoring time C ~ Uniform(f, a + f): P = 1 − (e^{−λf} − e^{−λ(a+f)})/(λa),
        or 1 − e^{−λf} when a = 0. Used to check the simulator.

        Parameters
        ----------
        rate : float or array
            The event rate λ of the arm.

        Returns
        -------
        numpy.ndarray
            P, in the shape of ``rate``.

        Raises
        ------
        VOIInputError
            Weibull survival (shape ≠ 1) or drop-out, for which there is no closed form here.

        Examples
        --------
        >>> trial = survival_two_arm("rate", "hr", accrual=0.0, follow_up=2.0)
        >>> round(float(trial.event_probability(0.5)), 6)          # 1 - exp(-1)
        0.632121
        """
        if self.shape != 1.0 or self.dropout > 0:
            raise VOIInputError(
                "event_probability is only available for exponential survival without drop-out"
            )
        lam = np.asarray(rate, dtype=float)
        a, f = self.accrual, self.follow_up
        if a == 0:
            return 1 - np.exp(-lam * f)
        return 1 - (np.exp(-lam * f) - np.exp(-lam * (a + f))) / (lam * a)


# --------------------------------------------------------------------------- custom


@dataclass(frozen=True)
class CustomStudy(StudyDesign):
    """A study given by the user's data-generating function.

    Parameters
    ----------
    simulate_fn : callable
        ``f(inputs, n, rng)`` with ``inputs`` the full DataFrame of PSA draws: returns a
        DataFrame (or an array of shape (N,) or (N, k)) of summary statistics, one row
        per draw — data simulated from that row's parameter values.
    parameters : tuple of str, optional
        The columns the study informs (required by importance sampling, moment
        matching and the Gaussian approximation).
    loglik_fn : callable, optional
        ``loglik(data, inputs, n)`` with ``data`` S rows of the simulated frame: returns
        the (S, N) log-likelihood of each data set under each draw (constants may be
        dropped). Needed for importance sampling.
    posterior_fn : callable, optional
        ``posterior(data, n, size, rng)`` with ``data`` a one-row frame: returns a
        DataFrame of ``size`` posterior draws of ``pars``. Used by moment matching.
    label : str
        Name shown in results.

    Examples
    --------
    >>> import pandas as pd
    >>> study = CustomStudy(lambda df, n, rng: rng.normal(df["mu"], 1.0), ("mu",), label="x")
    >>> study.simulate(pd.DataFrame({"mu": [0.0, 1.0, 2.0]}), 5, rng=0).columns.tolist()
    ['x1']
    >>> study.describe(), study.has_likelihood
    ("custom_study('x', pars=['mu'])", False)
    """

    simulate_fn: Callable[..., Any]
    parameters: tuple[str, ...] | None = None
    loglik_fn: Callable[..., Any] | None = None
    posterior_fn: Callable[..., Any] | None = None
    label: str = "custom"

    @property
    def name(self) -> str:  # type: ignore[override]
        """The ``label`` given to :func:`custom_study`."""
        return self.label

    @property
    def pars(self) -> tuple[str, ...]:
        """The columns named by ``pars`` (empty if none were given)."""
        return tuple(self.parameters or ())

    @property
    def has_likelihood(self) -> bool:
        """Whether a likelihood function was given."""
        return self.loglik_fn is not None

    @property
    def has_posterior(self) -> bool:
        """Whether a posterior sampler was given."""
        return self.posterior_fn is not None

    def simulate(self, inputs: pd.DataFrame, n: int, rng: RNGLike | None = None) -> pd.DataFrame:
        """The user's function ``f(inputs, n, rng)``, its output checked: one finite row per draw,
        no parameter columns.

        Parameters
        ----------
        inputs : pandas.DataFrame
            PSA draws (N rows).
        n : int
            Sample size.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError). The generator is passed to the function.

        Returns
        -------
        pandas.DataFrame
            N rows of float statistics (array output gets the columns ``x1``, ``x2``, ...).

        Raises
        ------
        VOIInputError
            The output has the wrong number of rows, holds parameter columns or non-finite
            values, or is not a table.
        """
        n = self.check_n(n)
        out = self.simulate_fn(inputs, n, _required_generator(rng))
        if isinstance(out, pd.Series):
            out = out.to_frame()
        if not isinstance(out, pd.DataFrame):
            arr = np.asarray(out, dtype=float)
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2:
                raise VOIInputError(
                    f"study {self.label!r}: the data-generating function must return a table (draws x statistics)"
                )
            out = pd.DataFrame(arr, columns=[f"x{i + 1}" for i in range(arr.shape[1])])
        if len(out) != len(inputs):
            raise VOIInputError(
                f"study {self.label!r}: the data-generating function returned {len(out)} rows for {len(inputs)} draws"
            )
        clash = sorted(set(map(str, out.columns)) & set(map(str, inputs.columns)))
        if clash:
            raise VOIInputError(
                f"study {self.label!r}: the data-generating function returns parameter columns ({', '.join(clash)}); "
                "it should return simulated data"
            )
        values = out.to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise VOIInputError(
                f"study {self.label!r}: the simulated data contain NaN or infinite values"
            )
        return pd.DataFrame(values, columns=[str(c) for c in out.columns])

    def loglik(self, data: pd.DataFrame, inputs: pd.DataFrame, n: int) -> np.ndarray:
        """The user's likelihood ``loglik(data, inputs, n)``, its shape checked.

        Parameters
        ----------
        data : pandas.DataFrame
            S simulated data sets.
        inputs : pandas.DataFrame
            N parameter draws.
        n : int
            Sample size.

        Returns
        -------
        numpy.ndarray
            Shape (S, N).

        Raises
        ------
        VOIInputError
            No likelihood was given, or it returned another shape.
        """
        if self.loglik_fn is None:
            return super().loglik(data, inputs, n)
        ll = np.asarray(self.loglik_fn(data, inputs, n), dtype=float)
        if ll.shape != (len(data), len(inputs)):
            raise VOIInputError(
                f"study {self.label!r}: the likelihood returned shape {ll.shape}, expected "
                f"({len(data)}, {len(inputs)}) (data sets x draws)"
            )
        return ll

    def posterior(
        self,
        data: pd.DataFrame,
        n: int,
        size: int,
        rng: RNGLike | None,
        inputs: pd.DataFrame,
    ) -> pd.DataFrame:
        """The user's posterior sampler ``posterior(data, n, size, rng)``, checked to return ``pars``.

        Parameters
        ----------
        data : pandas.DataFrame
            One data set (a one-row frame).
        n : int
            Its sample size.
        size : int
            Posterior draws.
        rng : numpy.random.Generator, SeedSequence or int
            Random numbers, normalised by :func:`decisionmodel.rng.as_generator`; required
            (``None`` raises its TypeError).
        inputs : pandas.DataFrame
            The PSA draws (not passed to the sampler).

        Returns
        -------
        pandas.DataFrame
            ``size`` draws with a column for each of :attr:`pars`.

        Raises
        ------
        VOIInputError
            No sampler was given, or it did not return every parameter.
        """
        if self.posterior_fn is None:
            return super().posterior(data, n, size, rng, inputs)
        out = pd.DataFrame(self.posterior_fn(data, n, size, _required_generator(rng)))
        missing = [p for p in self.pars if p not in out.columns]
        if missing:
            raise VOIInputError(
                f"study {self.label!r}: the posterior sampler did not return {', '.join(missing)}"
            )
        return out

    def describe(self) -> str:
        """``custom_study('label', pars=[...])``.

        Returns
        -------
        str
        """
        return f"custom_study({self.label!r}, pars={list(self.pars)})"


# --------------------------------------------------------------------------- constructors


def binary(p: str, *, prior: tuple[float, float] | None = None) -> BinaryStudy:
    """Single-arm study of a binary outcome, events ~ Binomial(n, p).

    Parameters
    ----------
    p : str
        Column of the inputs holding the event probability.
    prior : (float, float), optional
        Beta(a, b) prior of ``p`` (default: fitted to its PSA draws by moments).

    Returns
    -------
    BinaryStudy

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = binary("p")
    >>> x = d.simulate(pd.DataFrame({"p": np.full(20000, 0.3)}), n=50, rng=0)["events"]
    >>> round(float(x.mean()) / 50, 2)
    0.3
    """
    return BinaryStudy(p, prior)


def binary_two_arm(
    p1: str,
    p2: str,
    *,
    prior1: tuple[float, float] | None = None,
    prior2: tuple[float, float] | None = None,
) -> BinaryTwoArmStudy:
    """Two-arm trial of a binary outcome with ``n`` patients per arm.

    Parameters
    ----------
    p1, p2 : str
        Columns holding the event probability in arm 1 and arm 2 (voi's ``trial_binary``).
    prior1, prior2 : (float, float), optional
        Beta priors per arm (default: fitted to the PSA draws by moments).

    Returns
    -------
    BinaryTwoArmStudy

    Examples
    --------
    >>> binary_two_arm(p1="p_side_effects_t1", p2="p_side_effects_t2").pars
    ('p_side_effects_t1', 'p_side_effects_t2')
    """
    return BinaryTwoArmStudy(p1, p2, prior1, prior2)


def normal_mean(
    mu: str,
    sd: float | str = 1.0,
    *,
    estimate_sd: bool = False,
    prior: tuple[float, float] | None = None,
) -> NormalMeanStudy:
    """Study measuring a normal outcome on ``n`` patients; see :class:`NormalMeanStudy`.

    Parameters
    ----------
    mu : str
        Column holding the mean.
    sd : float or str
        The individual-level standard deviation: a number, or a column of the inputs.
    estimate_sd : bool
        Report the sample SD too (needs n >= 2).
    prior : (float, float), optional
        Normal prior (mean, sd) of ``mu`` (default: fitted to the PSA draws).

    Returns
    -------
    NormalMeanStudy

    Examples
    --------
    >>> import pandas as pd
    >>> design = normal_mean("theta", sd=0.3)      # n0 = sd² / Var(theta)
    >>> round(design.prior_n0(pd.DataFrame({"theta": [0.0, 0.06]}))["theta"], 6)
    50.0
    """
    return NormalMeanStudy(mu, sd, estimate_sd, prior)


def survival_two_arm(
    rate: str,
    hr: str,
    *,
    accrual: float,
    follow_up: float,
    shape: float = 1.0,
    log_hr: bool = False,
    dropout: float = 0.0,
    summary: str = "rates",
) -> SurvivalTwoArmStudy:
    """Randomised time-to-event trial, e.g. metastasectomy vs no metastasectomy.

    See :class:`SurvivalTwoArmStudy`. ``n`` is the number of patients per arm.

    Parameters
    ----------
    rate, hr : str
        Columns of the control-arm rate and the hazard ratio (or log hazard ratio).
    accrual, follow_up : float
        Accrual period and minimum follow-up, in the time unit of ``rate``.
    shape : float
        Known Weibull shape (1 = exponential).
    log_hr : bool
        Whether the ``hr`` column holds log hazard ratios.
    dropout : float
        Rate of exponential drop-out (0 = none).
    summary : {"rates", "counts", "loghr"}
        The regressors of the regression method (see :class:`SurvivalTwoArmStudy`).

    Returns
    -------
    SurvivalTwoArmStudy

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> trial = survival_two_arm("rate_no_surgery", "hr_surgery", accrual=3.0, follow_up=2.0)
    >>> draws = pd.DataFrame({"rate_no_surgery": np.full(4000, 0.4), "hr_surgery": np.full(4000, 0.7)})
    >>> data = trial.simulate(draws, n=100, rng=1)
    >>> expected = 100 * trial.event_probability(0.4)          # closed form
    >>> bool(abs(data["events_control"].mean() - expected) < 0.5)
    True
    """
    return SurvivalTwoArmStudy(rate, hr, accrual, follow_up, shape, log_hr, dropout, summary)


def custom_study(
    simulate: Callable[..., Any],
    *,
    pars: Sequence[str] | str | None = None,
    loglik: Callable[..., Any] | None = None,
    posterior: Callable[..., Any] | None = None,
    name: str = "custom",
) -> CustomStudy:
    """Wrap a user data-generating function ``f(inputs, n, rng)`` as a design.

    Parameters
    ----------
    simulate : callable
        ``f(inputs, n, rng)``: one row of simulated summary statistics per row of
        ``inputs`` (a DataFrame, Series or array), drawn with the generator ``rng``.
    pars : str or sequence of str, optional
        The columns the study informs (needed by importance sampling, moment matching
        and the Gaussian approximation).
    loglik : callable, optional
        ``loglik(data, inputs, n)``: the (S, N) log-likelihood of S data sets under N
        draws (for importance sampling).
    posterior : callable, optional
        ``posterior(data, n, size, rng)``: ``size`` posterior draws of ``pars`` given a
        one-row data set (for moment matching).
    name : str
        The name shown in results.

    Returns
    -------
    CustomStudy

    Raises
    ------
    VOIInputError
        ``simulate``, ``loglik`` or ``posterior`` is not callable.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> def f(inputs, n, rng):
    ...     return pd.DataFrame({"xbar": rng.normal(inputs["mu"], 1 / np.sqrt(n))})
    >>> s = custom_study(f, pars="mu", name="normal")
    >>> s.simulate(pd.DataFrame({"mu": [0.0, 1.0]}), n=10, rng=0).shape
    (2, 1)
    """
    if not callable(simulate):
        raise VOIInputError("custom_study: simulate must be a function f(inputs, n, rng)")
    for what, f in (("loglik", loglik), ("posterior", posterior)):
        if f is not None and not callable(f):
            raise VOIInputError(f"custom_study: {what} must be a function")
    if isinstance(pars, str):
        pars = (pars,)
    return CustomStudy(simulate, tuple(pars) if pars is not None else None, loglik, posterior, name)


_BUILTIN: dict[str, tuple[Callable[..., StudyDesign], int]] = {
    "binary": (binary, 1),
    "trial_binary": (binary_two_arm, 2),
    "binary_two_arm": (binary_two_arm, 2),
    "normal_known": (normal_mean, 1),
    "normal_mean": (normal_mean, 1),
    "survival_two_arm": (survival_two_arm, 2),
}


def get_study(study: Any, pars: Sequence[str] | str | None = None, **args: Any) -> StudyDesign:
    """Resolve ``study`` to a design.

    ``study`` may be a :class:`StudyDesign`, a function ``f(inputs, n, rng)`` (wrapped by
    :func:`custom_study` with ``pars``), or the name of a built-in design — ``"binary"``,
    ``"trial_binary"`` / ``"binary_two_arm"``, ``"normal_known"`` / ``"normal_mean"``,
    ``"survival_two_arm"`` — whose parameter columns are given, in order, by ``pars``
    (as in R voi) and whose other settings by ``args`` (e.g. ``sd=0.3``).

    Parameters
    ----------
    study : StudyDesign, callable or str
        The design, a data-generating function or a built-in name.
    pars : str or sequence of str, optional
        With a name: the design's columns, in order; with a function: the columns it
        informs.
    **args
        Settings of a built-in design (or of :func:`custom_study` for a function).

    Returns
    -------
    StudyDesign

    Raises
    ------
    VOIInputError
        An unknown name, the wrong number of columns, settings the design does not take,
        or settings given with a design object.

    Examples
    --------
    >>> get_study("trial_binary", ["p1", "p2"]).pars
    ('p1', 'p2')
    >>> get_study("normal_known", "theta", sd=0.3).sd
    0.3
    """
    if isinstance(study, StudyDesign):
        if args:
            raise VOIInputError(
                f"study settings {sorted(args)} are only used with a built-in study name"
            )
        return study
    if isinstance(study, str):
        if study not in _BUILTIN:
            raise VOIInputError(
                f"unknown study design {study!r}; built-in designs: {', '.join(sorted(_BUILTIN))}"
            )
        ctor, npar = _BUILTIN[study]
        cols = [pars] if isinstance(pars, str) else list(pars or [])
        if len(cols) != npar or not all(isinstance(c, str) for c in cols):
            raise VOIInputError(
                f"study {study!r} needs pars naming {npar} column(s) of inputs, got {pars!r}"
            )
        try:
            return ctor(*cols, **args)
        except TypeError as exc:
            raise VOIInputError(f"study {study!r}: {exc}") from None
    if callable(study):
        return custom_study(study, pars=pars, **args)
    raise VOIInputError(
        f"study must be a study design, a function f(inputs, n, rng) or a design name; got {type(study).__name__}"
    )


@overload
def as_mapping(d: None, pars: Sequence[str]) -> None: ...
@overload
def as_mapping(d: Mapping[str, float] | float, pars: Sequence[str]) -> dict[str, float]: ...
def as_mapping(
    d: Mapping[str, float] | float | None, pars: Sequence[str]
) -> dict[str, float] | None:
    """Expand a scalar or a mapping to one value per parameter (None stays None).

    Parameters
    ----------
    d : mapping, float or None
        One value for all parameters, or ``{parameter: value}`` covering every one.
    pars : sequence of str
        The parameters.

    Returns
    -------
    dict or None
        ``{parameter: float}`` in the order of ``pars``.

    Raises
    ------
    VOIInputError
        A mapping that lacks a parameter.

    Examples
    --------
    >>> as_mapping(4, ["a", "b"]), as_mapping({"a": 1, "b": 2, "c": 3}, ["b"])
    ({'a': 4.0, 'b': 4.0}, {'b': 2.0})
    """
    if d is None:
        return None
    if isinstance(d, Mapping):
        missing = [p for p in pars if p not in d]
        if missing:
            raise VOIInputError(f"no value given for parameter(s) {', '.join(missing)}")
        return {p: float(d[p]) for p in pars}
    return {p: float(d) for p in pars}
