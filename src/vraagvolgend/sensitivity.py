"""Global sensitivity analysis with SALib (Sobol and Morris) over named uncertainties.

SALib is an optional extra (``pip install 'vraagvolgend[sensitivity]'``), imported when used.
The design comes from SALib, runs as an ordinary :class:`~vraagvolgend.experiments.Experiment`
with a user-supplied design table (so it is resumable and runs on any executor), and the
indices are computed from each point's outcome averaged over replications.

Example:
    >>> import vraagvolgend as vv, tempfile
    >>> from vraagvolgend.sensitivity import sobol
    >>> s = vv.Scenario.default().with_changes(n_households=300, burn_in_months=3)
    >>> u = [vv.Uncertainty("provisions.wmo.individual_support.cost_month", 300, 600),
    ...      vv.Uncertainty("support.strain_level", 0.2, 0.8)]
    >>> table = sobol(u, "supply-driven", tempfile.mkdtemp(), samples=4, scenario=s, months=12,
    ...               executor="serial")
    >>> list(table.columns)
    ['parameter', 'S1', 'S1_conf', 'ST', 'ST_conf']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import run_table
from .experiments import Experiment, Uncertainty, run_experiment
from .parameters import ParameterError

__all__ = ["morris", "sobol"]


def _salib():
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise ImportError(
            "sensitivity analysis needs SALib: pip install 'vraagvolgend[sensitivity]'"
        ) from None


def _problem(uncertainties, *, distributions: bool = True) -> dict:
    """SALib's problem: the ranges, and each input's distribution where SALib's sampler takes
    it (``distributions``: Sobol does, Morris's grid does not)."""
    dists = []
    for u in uncertainties:
        if u.values is not None or u.by_policy is not None:
            raise ParameterError(u.name, "Sobol and Morris need ranges (low, high), not lists")
        if u.distribution == "point":
            raise ParameterError(u.name, "a point does not vary: leave it out of the analysis")
        if u.distribution == "triangular":
            if not distributions:
                raise ParameterError(
                    f"{u.name}.distribution", "Morris samples a grid: give uniform ranges"
                )
            if u.mode is None:
                raise ParameterError(f"{u.name}.mode", "give the triangular's mode")
        dists.append("triang" if u.distribution == "triangular" else "unif")
    problem = {
        "num_vars": len(uncertainties),
        "names": [u.name for u in uncertainties],
        "bounds": [[u.low, u.high] for u in uncertainties],
    }
    if "triang" in dists:
        # SALib's triangular: low, high and the peak as a share of the width
        problem["bounds"] = [
            [u.low, u.high, (u.mode - u.low) / (u.high - u.low)] if d == "triang" else b
            for u, d, b in zip(uncertainties, dists, problem["bounds"], strict=True)
        ]
        problem["dists"] = dists
    return problem


def _outcome(experiment, results, column: str) -> np.ndarray:
    runs = run_table(results)
    if column not in runs.columns:
        raise ParameterError("outcome", f"{column!r} is not in the run table")
    per_point = runs.groupby("point")[column].mean()
    return per_point.reindex(range(len(experiment.scenario_points()))).to_numpy(dtype=float)


def _run_design(name, policy, uncertainties, design, store, outcome, seed, options) -> np.ndarray:
    """Run a SALib design as an experiment; the outcome per design point (mean over
    replications), in the design's order."""
    options = dict(options)
    run_options = {k: options.pop(k) for k in ("executor", "workers", "recompute") if k in options}
    experiment = Experiment(
        name,
        [policy],
        tuple(uncertainties),
        design=design,
        seed=seed,
        replications=options.pop("replications", 1),
        **options,
    )
    results = run_experiment(experiment, store, progress=False, **run_options)
    return _outcome(experiment, results, outcome)


def sobol(
    uncertainties: list[Uncertainty],
    policy,
    store,
    *,
    samples: int = 64,
    outcome: str = "cost_external_total",
    name: str = "sobol",
    seed: int = 0,
    **experiment_options,
) -> pd.DataFrame:
    """First-order and total Sobol indices of ``outcome`` for each uncertainty.

    Args:
        uncertainties: Ranges to analyse (uniform, or triangular with a mode: sampled so).
        policy: The policy (object or name).
        store: Result store (folder); the analysis resumes like any experiment.
        samples: SALib's base sample size N (runs: N × (d + 2) × replications).
        outcome: A column of :func:`~vraagvolgend.analysis.run_table`.
        name: Experiment name in the store.
        seed: Seed of the sample and of the runs.
        **experiment_options: Passed to :class:`Experiment` (``replications``, ``months``,
            ``scenario``) and to :func:`run_experiment` (``executor``, ``workers``,
            ``recompute``).
    """
    _salib()
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = _problem(uncertainties)
    design = pd.DataFrame(
        sample.sample(problem, samples, calc_second_order=False, seed=seed),
        columns=problem["names"],
    )
    y = _run_design(name, policy, uncertainties, design, store, outcome, seed, experiment_options)
    indices = analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    return pd.DataFrame(
        {
            "parameter": problem["names"],
            "S1": indices["S1"],
            "S1_conf": indices["S1_conf"],
            "ST": indices["ST"],
            "ST_conf": indices["ST_conf"],
        }
    )


def morris(
    uncertainties: list[Uncertainty],
    policy,
    store,
    *,
    trajectories: int = 10,
    levels: int = 4,
    outcome: str = "cost_external_total",
    name: str = "morris",
    seed: int = 0,
    **experiment_options,
) -> pd.DataFrame:
    """Morris elementary effects (mu*, sigma) of ``outcome`` for each uncertainty."""
    _salib()
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    problem = _problem(uncertainties, distributions=False)
    x = sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    design = pd.DataFrame(x, columns=problem["names"])
    y = _run_design(name, policy, uncertainties, design, store, outcome, seed, experiment_options)
    indices = analyze.analyze(problem, x, y, num_levels=levels, seed=seed)
    return pd.DataFrame(
        {
            "parameter": problem["names"],
            "mu_star": indices["mu_star"],
            "mu_star_conf": indices["mu_star_conf"],
            "sigma": indices["sigma"],
        }
    )
