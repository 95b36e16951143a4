"""The command line: ``vraagvolgend <subcommand>`` (also ``python -m vraagvolgend``).

Subcommands: ``run`` (one policy, result tables), ``compare`` (several policies on common
random numbers, summary and report), ``sweep`` (an experiment file on a local or Dask
executor, resumable), ``report`` (the report of a comparison folder), ``household`` (the cost
picture of one household of a run folder), ``scenario`` and ``policy`` (print the defaults as
TOML, or validate a file). Invalid input ends with one line on standard error naming the file,
the key, the value and what is allowed, and exit status 2. Ctrl-C ends with one line saying
what is stored and how to resume, and exit status 130; SIGTERM does the same with exit status
143. A process started with SIGINT ignored (``cmd &`` in a script, ``nohup``) cannot be
reached by Ctrl-C: stop it with ``kill PID`` (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import warnings
from pathlib import Path

from .folders import prepare_output
from .inputs import _policy, _scenario, load_experiment
from .parameters import ParameterError, _short, printable

__all__ = ["build_parser", "load_experiment", "main", "one_line_errors"]

EXIT_INVALID = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (like every other invalid input)."""

    def error(self, message: str):
        self.exit(EXIT_INVALID, f"{self.prog}: error: {printable(message)} (see --help)\n")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default once, and only when it says something."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _count(lo: int, hi: int | None = None):
    """An argparse type: a whole number from ``lo`` (to ``hi``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_short(text)} is not a whole number") from None
        if value < lo or (hi is not None and value > hi):
            allowed = f"{lo} … {hi:,}" if hi is not None else f"at least {lo}"
            raise argparse.ArgumentTypeError(f"{value} is out of range: must be {allowed}")
        return value

    parse.__name__ = "whole number"
    return parse


def _cmd_run(args) -> int:
    from .simulation import run
    from .vocabulary import format_number, label, plural

    scenario = _scenario(args.scenario, args.households)
    policy = _policy(args.policy)
    out, _ = prepare_output(args.out, args.force)
    result = run(
        scenario, policy, seed=args.seed, months=args.months, check_memory=not args.no_memory_check
    )
    result.save(out, csv=args.csv)
    print(
        f"{plural(len(result.households), 'household')}, {plural(args.months, 'month')}, "
        f"policy {args.policy}: tables written to {out}"
    )
    if result._care is not None:
        indicators = result.indicators().rename(columns=label).rename(columns={"year": "Year"})
        print(indicators.to_string(index=False, float_format=format_number))
    return 0


def _cmd_compare(args) -> int:
    from .comparison import compare
    from .experiments import SweepInterrupted
    from .reports import write_report

    policies = [_policy(p) for p in args.policies]
    if any(p is None for p in policies):
        raise ParameterError("--policies", "'none' has no costs to compare")
    scenario = _scenario(args.scenario, args.households)
    out, resumed = prepare_output(args.out, args.force, resume="comparison")
    if not resumed:
        # Marks the folder as the library's (and unfinished) before any work: an interrupted
        # comparison is resumed by the same command, and --force may replace it.
        out.mkdir(parents=True, exist_ok=True)
        manifest = {"kind": "comparison", "status": "running"}
        (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    store = out / "replications"
    uncertain = {}
    if args.uncertain is not None:
        from .inputs import load_uncertainty

        uncertain = load_uncertainty(args.uncertain, scenario, policies)
    if args.uncertainty is not None:
        uncertain["uncertainty"] = args.uncertainty
    if uncertain and "uncertainty" not in uncertain:
        raise ParameterError("--uncertainty", "give the number of draws (or draws = N in the file)")
    try:
        executor = _executor(args)
        comparison = compare(
            policies,
            scenario,
            replications=args.replications,
            seed=args.seed,
            months=args.months,
            executor=executor,
            workers=args.workers,
            store=store,
            recompute=args.recompute,
            check_memory=not args.no_memory_check,
            baseline=args.baseline,
            burn_in=args.burn_in,
            **uncertain,
        )
        if args.decompose is not None:
            from .decomposition import decompose_comparison

            try:
                decompose_comparison(
                    comparison,
                    replications=min(args.decompose, args.replications),
                    executor=None if executor == "serial" else executor,  # None: a pool if large
                    workers=args.workers,
                )
            except KeyboardInterrupt:
                n = args.replications
                raise SweepInterrupted(n, n, store, "replications", "the decomposition") from None
    finally:
        if getattr(args, "_client", None) is not None:
            args._client.close()
    print(comparison)
    if comparison.uncertainty is not None:
        print()
        print(comparison.uncertainty)
        _drivers(comparison, args, executor)
    if comparison.decomposition is not None:
        print()
        print(comparison.decomposition)
    comparison.save(out)
    report = write_report(comparison, out, plots=not args.no_plots)
    print(f"\nReport: {report} (and report.md, with the plots beside it)")
    return 0


def _drivers(comparison, args, executor) -> None:
    """What decides the probabilistic comparison (printed, and kept for the report); with too
    few draws to read drivers from, a line that says so."""
    from .drivers import analyse
    from .drivers.indices import MIN_DRAWS

    draws = comparison.uncertainty.info["draws"]
    if draws < MIN_DRAWS:
        print(f"(What decides it needs at least {MIN_DRAWS} draws; this run has {draws}.)")
        return
    drivers = analyse(
        comparison,
        break_even=args.break_even,
        executor=executor,
        workers=args.workers,
    )
    print(drivers)


def _executor(args):
    """The executor named by --executor / --scheduler (a Dask client for --scheduler)."""
    if not getattr(args, "scheduler", None):
        return args.executor
    try:
        from dask.distributed import Client
    except ImportError:
        raise ImportError(
            "--scheduler needs Dask: pip install 'vraagvolgend[experiments]'"
        ) from None
    try:
        client = Client(args.scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as err:
        raise ParameterError("--scheduler", f"cannot reach {args.scheduler}: {err}") from None
    args._client = client
    return client


def _cmd_sweep(args) -> int:
    import numpy as np

    from .analysis import policy_summary
    from .experiments import run_experiment, variant_label
    from .outputs import OUTCOMES, PRIMARY
    from .vocabulary import format_interval, format_number, label, plural, text_table

    experiment = load_experiment(args.experiment)
    executor = _executor(args)
    try:
        results = run_experiment(
            experiment,
            args.store,
            executor=executor,
            workers=args.workers,
            recompute=args.recompute,
            check_memory=not args.no_memory_check,
        )
    finally:
        if getattr(args, "_client", None) is not None:
            args._client.close()
    failed = results[results["error"].notna()] if "error" in results.columns else results[:0]
    if len(failed) < len(experiment.runs()):
        summary = policy_summary(results, columns=["cost_external_total", PRIMARY])
        rows = []
        for _, r in summary.iterrows():
            outcome = OUTCOMES.get(r["outcome"])
            if outcome is None:  # a cost line: EUR
                mean = f"€{format_number(r['mean'], 0)}"
                ci = format_interval(r["ci_low"], r["ci_high"], 0)
            else:
                mean = outcome.text(r["mean"])
                ci = (
                    f"{outcome.text(max(r['ci_low'], 0))} – {outcome.text(r['ci_high'])}"
                    if np.isfinite(r["ci_low"])
                    else ""
                )
            rows.append(
                {
                    "policy": variant_label(r["policy"]),
                    "outcome": label(r["outcome"].removeprefix("cost_")),
                    "mean": mean,
                    "95% interval": ci,
                    "runs": r["runs"],
                }
            )
        print(text_table(rows))
    n = len(experiment.runs()) - len(failed)
    print(f"\n{plural(n, 'run')} in {Path(args.store) / experiment.name}")
    if len(failed):
        print(f"{plural(len(failed), 'run')} failed (retried when you run the sweep again):")
        print(failed[["point", "policy", "replication", "error"]].to_string(index=False))
        return 1
    return 0


def _cmd_report(args) -> int:
    from .comparison import Comparison
    from .reports import write_report

    comparison = Comparison.load(args.folder)
    report = write_report(comparison, args.out or args.folder, plots=not args.no_plots)
    print(f"Report: {report}")
    return 0


def _cmd_household(args) -> int:
    from .results import Result

    sys.stdout.write(str(Result.load(args.folder).household(args.household_id)))
    return 0


def _cmd_scenario(args) -> int:
    if args.validate:
        scenario = _scenario(args.validate)
        print(
            f"{args.validate}: valid scenario {scenario.name!r} "
            f"({scenario.n_households:,} households)"
        )
        return 0
    sys.stdout.write(_scenario(None).to_toml())
    return 0


def _cmd_policy(args) -> int:
    from .financing import Policy

    if args.validate:
        policy = Policy.from_toml(Path(args.validate))
        print(f"{args.validate}: valid {policy.regime} policy {policy.name!r}")
        return 0
    policy = _policy(args.name)
    if policy is None:
        raise ParameterError("name", "'none' is no policy: it means no formal care")
    sys.stdout.write(policy.to_toml())
    return 0


def _cmd_dashboard(args) -> int:
    from .dashboard import check_address, serve

    check_address(args.host, args.port)  # before the optional extra is imported

    serve(args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option's default shows once in ``--help``)."""
    from importlib.metadata import PackageNotFoundError, version

    from .parameters import MAX_MONTHS

    try:
        __version__ = version("vraagvolgend")
    except PackageNotFoundError:  # pragma: no cover - a source tree without installing
        __version__ = "0+unknown"

    fmt = _Help
    parser = _Parser(
        prog="vraagvolgend",
        description="Agent-based simulation of supply- and demand-driven financing of the "
        "Dutch municipal social domain.",
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    def common(p, months=60, min_months=1):
        p.add_argument(
            "--scenario",
            metavar="FILE",
            default=None,
            help="scenario TOML file (default: the embedded default municipality)",
        )
        p.add_argument(
            "--households",
            type=_count(1),
            default=None,
            metavar="N",
            help="number of households (default: the scenario's)",
        )
        p.add_argument("--seed", type=_count(0), default=0, help="root seed")
        p.add_argument(
            "--months",
            type=_count(min_months, MAX_MONTHS),
            default=months,
            help="months after burn-in",
        )
        p.add_argument("--out", metavar="DIR", help="result folder")
        p.add_argument(
            "--force",
            action="store_true",
            help="replace the result folder if it exists (only a folder vraagvolgend wrote, "
            "holding only what it writes)",
        )
        p.add_argument(
            "--no-memory-check",
            action="store_true",
            help="run even when the estimated peak memory exceeds what is available",
        )

    def recompute(p):
        p.add_argument(
            "--recompute",
            action="store_true",
            help="compute again stored runs made with another definition (scenario, policy, "
            "months, seed or the model's code) instead of refusing",
        )

    def executors(p, default):
        p.add_argument(
            "--executor",
            choices=["processes", "serial", "dask"],
            default=default,
            help="local process pool, serial, or a local Dask cluster",
        )
        p.add_argument(
            "--scheduler",
            default=None,
            metavar="ADDRESS",
            help="a running Dask scheduler, e.g. tcp://host:8786 (overrides --executor)",
        )
        p.add_argument(
            "--workers",
            type=_count(1),
            default=None,
            help="worker processes (default: the cores)",
        )

    p = sub.add_parser(
        "run", help="run one policy on one scenario; write the result tables", formatter_class=fmt
    )
    common(p)
    p.set_defaults(out="out/run")
    p.add_argument(
        "--policy",
        default="supply-driven",
        help="supply-driven (aanbodgericht), demand-driven (vraagvolgend), none (no formal "
        "care) or a TOML file",
    )
    p.add_argument("--csv", action="store_true", help="also write the tables as CSV")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "compare",
        help="compare policies on common random numbers; write a report",
        formatter_class=fmt,
    )
    common(p, min_months=12)
    p.set_defaults(out="out/compare")
    p.add_argument(
        "--policies",
        nargs="+",
        default=["supply-driven", "demand-driven"],
        metavar="POLICY",
        help="names or TOML files",
    )
    p.add_argument(
        "--baseline",
        default=None,
        metavar="NAME",
        help="the policy whose year-1 spending sets the budget and against which differences "
        "are taken (default: supply-driven if compared, else the first policy)",
    )
    p.add_argument(
        "--replications", type=_count(1, 100_000), default=10, help="replications per policy"
    )
    p.add_argument(
        "--burn-in",
        choices=["baseline", "each"],
        default="baseline",
        help="baseline: every policy continues from one municipality burnt in under the "
        "baseline (from today); each: every policy burns in under itself (steady state)",
    )
    p.add_argument("--no-plots", action="store_true", help="tables only, no PNG plots")
    p.add_argument(
        "--decompose",
        type=_count(1, 100_000),
        nargs="?",
        const=2,
        default=None,
        metavar="N",
        help="explain the difference between the baseline and the first other policy by "
        "mechanism (Shapley "
        "values over their rules and settings) on the first N replications, on a process pool "
        "(N: 2 if omitted; not done by default%(default).0s)",
    )
    p.add_argument(
        "--uncertainty",
        type=_count(1, 100_000),
        default=None,
        metavar="N",
        help="also draw N parameter sets from the plausible ranges (Latin hypercube) and run "
        "every policy on each: the probability the alternative is cheaper, or worse for "
        "households, and the cost-effectiveness plane (not done by default%(default).0s)",
    )
    p.add_argument(
        "--break-even",
        type=_count(0, 10),
        default=2,
        metavar="K",
        help="with --uncertainty: break-even values of the K most influential inputs, each a "
        "few paired comparisons (default 2; 0: none)",
    )
    p.add_argument(
        "--uncertain",
        metavar="FILE",
        default=None,
        help="a TOML file with an [uncertainty] table: the inputs (ranges, distributions, "
        "fixed), draws, design and replications per draw",
    )
    executors(p, "serial")
    recompute(p)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("sweep", help="run an experiment file; resumable", formatter_class=fmt)
    p.add_argument("experiment", metavar="FILE", help="experiment TOML file")
    p.add_argument("--store", default="out/store", metavar="DIR", help="result store folder")
    executors(p, "processes")
    recompute(p)
    p.add_argument(
        "--no-memory-check",
        action="store_true",
        help="run even when the largest run's estimated peak memory exceeds what is available",
    )
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser(
        "report", help="write the report of a comparison folder", formatter_class=fmt
    )
    p.add_argument("folder", metavar="DIR", help="a folder written by 'compare'")
    p.add_argument("--out", default=None, metavar="DIR", help="report folder (default: DIR)")
    p.add_argument("--no-plots", action="store_true", help="tables only, no PNG plots")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "household", help="the cost picture of one household of a run folder", formatter_class=fmt
    )
    p.add_argument("folder", metavar="DIR", help="a folder written by 'run'")
    p.add_argument("household_id", type=_count(0), metavar="ID", help="the household")
    p.set_defaults(func=_cmd_household)

    p = sub.add_parser(
        "scenario",
        help="print the default scenario as TOML, or validate a file",
        formatter_class=fmt,
    )
    p.add_argument("--validate", metavar="FILE", default=None, help="validate this file")
    p.set_defaults(func=_cmd_scenario)

    p = sub.add_parser(
        "policy", help="print a named policy as TOML, or validate a file", formatter_class=fmt
    )
    p.add_argument("name", nargs="?", default="supply-driven", help="a policy name")
    p.add_argument("--validate", metavar="FILE", default=None, help="validate this file")
    p.set_defaults(func=_cmd_policy)

    p = sub.add_parser(
        "dashboard",
        help="serve the dashboard in the browser (extra 'dashboard')",
        formatter_class=fmt,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=_count(1, 65535), default=8765, help="port to listen on")
    p.set_defaults(func=_cmd_dashboard)
    return parser


def _one_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"vraagvolgend: warning: {printable(message)}", file=sys.stderr)


class _Signals:
    """SIGTERM handled like Ctrl-C: finished runs kept, one line, exit status 143.

    Ctrl-C arrives as SIGINT. A process that inherited SIGINT *ignored* (started with ``&``
    from a script, under ``nohup``, by some batch runners) never sees it: Python installs no
    handler then, by design, so that a terminal's Ctrl-C does not reach background jobs. Such
    a run is stopped with SIGTERM (``kill PID``), which this handler turns into the same
    orderly stop. The previous handler is restored afterwards (``main`` may run in a test).
    """

    def __init__(self):
        self.terminated = False
        self.previous = None

    def _on_term(self, signum, frame):
        if self.terminated:  # a second SIGTERM while shutting down: let the shutdown finish
            return
        self.terminated = True
        raise KeyboardInterrupt

    def __enter__(self):
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._on_term)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


@contextlib.contextmanager
def one_line_errors(program: str):
    """For scripts (the examples): invalid input ends with one line and exit status 2, Ctrl-C
    or SIGTERM with one line and 130 or 143, as on the command line; never a traceback.

    Use it around a script's work: ``with one_line_errors(__file__): main()``.
    """
    name = Path(program).name
    signals = _Signals()
    try:
        with signals:
            yield
    except (ParameterError, OSError, ImportError) as err:
        print(f"{name}: error: {printable(err)}", file=sys.stderr)
        sys.exit(EXIT_INVALID)
    except KeyboardInterrupt as err:
        what = "terminated" if signals.terminated else "interrupted"
        detail = str(err) if str(err) else "nothing was kept"
        print(f"{name}: {what}: {printable(detail).removeprefix('interrupted: ')}", file=sys.stderr)
        sys.exit(EXIT_TERMINATED if signals.terminated else EXIT_INTERRUPTED)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from .experiments import SweepInterrupted

    args = build_parser().parse_args(argv)
    signals = _Signals()
    try:
        with warnings.catch_warnings(), signals:  # the caller's settings are restored after
            warnings.showwarning = _one_line  # e.g. a damaged store file: one line each
            return args.func(args)
    except (ParameterError, OSError, IndexError, ImportError) as err:
        print(f"vraagvolgend: error: {printable(err)}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt as err:
        status = EXIT_TERMINATED if signals.terminated else EXIT_INTERRUPTED
        what = "terminated" if signals.terminated else "interrupted"
        if isinstance(err, SweepInterrupted):
            during = f" during {err.during}" if err.during else ""
            print(
                f"vraagvolgend: {what}{during}: {err.stored:,} of {err.total:,} {err.unit} are "
                f"stored in {err.folder}; run the same command again to resume",
                file=sys.stderr,
            )
        else:
            print(f"vraagvolgend: {what}: nothing was stored", file=sys.stderr)
        return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
