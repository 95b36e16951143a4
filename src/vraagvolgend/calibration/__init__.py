"""Calibration: targets from public figures, a fit table, and fitting scenario parameters.

A :class:`Target` names a *statistic* (a registered function of a
:class:`~vraagvolgend.results.Result`), the public value, an acceptable range and the source.
The default targets live in the package's ``data/targets.toml`` (:func:`load_targets`): the
levels the default municipality is calibrated to (youth care, Wmo clients, social assistance,
cost per inhabitant), who uses provisions (by income and household type), youth-care
trajectory lengths (survival estimates that treat trajectories still running at the end of a
run as censored) and referral channels, and the cost split between youth care and Wmo.

:func:`fit_table` runs a scenario and policy for some replications and compares every target
with the model's value and its 95% interval. :func:`calibrate` fits named *scenario*
parameters (population heterogeneity, onset, recovery, help-seeking) to targets with
:func:`scipy.optimize.differential_evolution` or Nelder–Mead on a loss of standardised
distances to the target ranges, every candidate on the same seeds (common random numbers) and
the runs spread over the experiments executor (serial, a process pool or Dask). Policy,
regime and contract parameters are refused: they keep their sourced values, so that no regime
is fitted to land somewhere.

Example:
    >>> import vraagvolgend as vv
    >>> targets = vv.load_targets(names=["youth_care_share", "youth_care_income_ratio"])
    >>> [t.name for t in targets]
    ['youth_care_share', 'youth_care_income_ratio']

One concept per module: :mod:`~vraagvolgend.calibration.statistics` (statistics of a result),
:mod:`~vraagvolgend.calibration.targets` (targets and fit tables) and
:mod:`~vraagvolgend.calibration.fit` (the optimiser).
"""

from .fit import Fit, _changes, calibrate, format_table, plot_fit_table  # noqa: F401 - tests
from .statistics import (
    FITTABLE_SECTIONS,
    STATISTICS,
    benefit_spells,
    register_statistic,
    trajectories,
    trajectory_survival,
)
from .targets import Target, evaluate, fit_table, load_targets

__all__ = [
    "FITTABLE_SECTIONS",
    "STATISTICS",
    "Fit",
    "Target",
    "benefit_spells",
    "calibrate",
    "evaluate",
    "fit_table",
    "format_table",
    "load_targets",
    "plot_fit_table",
    "register_statistic",
    "trajectories",
    "trajectory_survival",
]
