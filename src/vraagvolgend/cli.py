"""The command line: ``vraagvolgend <subcommand>`` (also ``python -m vraagvolgend``).

Subcommands: ``run`` (one policy, result tables), ``compare`` (several policies on common
random numbers, summary and report), ``sweep`` (an experiment file on a local or Dask
executor, resumable), ``report`` (the report of a comparison folder), ``household`` (the cost
picture of one household of a run folder), ``scenario`` and ``policy`` (print the defaults as
TOML, or validate a file). Invalid input ends with one line naming the file, the key, the
value and what is allowed, and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from .parameters import ParameterError, _unknown_key

__all__ = ["main"]

EXIT_INVALID = 2


def _scenario(path: str | None):
    from .scenario import Scenario

    return Scenario.default() if path is None else Scenario.from_toml(Path(path))


def _policy(spec: str):
    """A policy from a name or a TOML file; ``none`` means no formal care."""
    from .financing import _REGIMES, Policy

    if spec == "none":
        return None
    if spec in _REGIMES:
        return _REGIMES[spec]()
    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        return Policy.from_toml(path)
    raise ParameterError(
        "--policy", f"{spec!r} is neither a policy name ({', '.join(_REGIMES)}, none) nor a file"
    )


def _cmd_run(args) -> int:
    from .simulation import run

    result = run(_scenario(args.scenario), _policy(args.policy), seed=args.seed, months=args.months)
    out = result.save(args.out, csv=args.csv)
    print(
        f"{len(result.households):,} households, {args.months} months, policy "
        f"{args.policy}: tables written to {out}"
    )
    if result._care is not None:
        print(result.indicators().round(4).to_string(index=False))
    return 0


def _cmd_compare(args) -> int:
    from .comparison import compare
    from .reports import write_report

    policies = [_policy(p) for p in args.policies]
    if any(p is None for p in policies):
        raise ParameterError("--policies", "'none' has no costs to compare")
    comparison = compare(
        policies,
        _scenario(args.scenario),
        replications=args.replications,
        seed=args.seed,
        months=args.months,
    )
    print(comparison)
    print("\nMean annual cost, EUR thousand:")
    print(comparison.table().round(0).to_string())
    comparison.save(args.out)
    report = write_report(comparison, args.out, plots=not args.no_plots)
    print(f"\nReport: {report} (and report.md, with the plots beside it)")
    return 0


EXPERIMENT_KEYS = (
    "name",
    "policies",
    "uncertainties",
    "levers",
    "replications",
    "months",
    "design",
    "samples",
    "levels",
    "seed",
    "scenario",
)


def load_experiment(path: str | Path):
    """Read an experiment file (TOML); policy and scenario files are relative to it."""
    from .experiments import Experiment, Lever, Uncertainty

    path = Path(path)
    if not path.exists():
        raise ParameterError(str(path), "file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ParameterError(str(path), f"is not valid TOML: {err}") from None
    try:
        for key in data:
            if key not in EXPERIMENT_KEYS:
                raise _unknown_key("", key, EXPERIMENT_KEYS)
        policies = [
            p if not str(p).endswith(".toml") else _policy(str(path.parent / p))
            for p in data.get("policies", ["supply-driven", "demand-driven"])
        ]
        scenario = data.get("scenario")
        items = {}
        for kind, cls in (("uncertainties", Uncertainty), ("levers", Lever)):
            items[kind] = []
            for i, entry in enumerate(data.get(kind, [])):
                unknown = set(entry) - {"name", "low", "high", "values"}
                if unknown:
                    raise _unknown_key(
                        f"{kind}[{i}]", sorted(unknown)[0], ["name", "low", "high", "values"]
                    )
                if "name" not in entry:
                    raise ParameterError(f"{kind}[{i}].name", "is missing")
                items[kind].append(cls(**entry))
        options = {
            k: data[k]
            for k in ("replications", "months", "design", "samples", "levels", "seed")
            if k in data
        }
        return Experiment(
            data.get("name", path.stem),
            policies,
            items["uncertainties"],
            items["levers"],
            scenario=None if scenario is None else _scenario(str(path.parent / scenario)),
            **options,
        )
    except ParameterError as err:
        raise ParameterError(f"{path}: {err.field}", err.message) from None


def _cmd_sweep(args) -> int:
    from .analysis import policy_summary
    from .experiments import run_experiment

    experiment = load_experiment(args.experiment)
    executor = args.executor
    client = None
    if args.scheduler:
        from dask.distributed import Client

        client = executor = Client(args.scheduler)
    try:
        results = run_experiment(experiment, args.store, executor=executor, workers=args.workers)
    finally:
        if client is not None:
            client.close()
    failed = results[results["error"].notna()] if "error" in results.columns else results[:0]
    summary = policy_summary(results, columns=["cost_external_total", "mean_severity"])
    print(summary.round(4).to_string(index=False))
    print(f"\n{len(experiment.runs()) - len(failed)} runs in {Path(args.store) / experiment.name}")
    if len(failed):
        print(f"{len(failed)} runs failed (they are retried when you run the sweep again):")
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
    from .results import SavedRun

    print(SavedRun(args.folder).household(args.household_id))
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
    from .dashboard import serve

    serve(args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option's default shows in ``--help``)."""
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="vraagvolgend",
        description="Agent-based simulation of supply- and demand-driven financing of the "
        "Dutch municipal social domain.",
        formatter_class=fmt,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p, months=60):
        p.add_argument(
            "--scenario",
            metavar="FILE",
            default=None,
            help="scenario TOML file (default: the embedded default municipality)",
        )
        p.add_argument("--seed", type=int, default=0, help="root seed")
        p.add_argument("--months", type=int, default=months, help="months after burn-in")

    p = sub.add_parser(
        "run", help="run one policy on one scenario; write the result tables", formatter_class=fmt
    )
    common(p)
    p.add_argument(
        "--policy",
        default="supply-driven",
        help="supply-driven, demand-driven, none (no formal care) or a TOML file",
    )
    p.add_argument("--out", default="out/run", metavar="DIR", help="result folder")
    p.add_argument("--csv", action="store_true", help="also write the tables as CSV")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "compare",
        help="compare policies on common random numbers; write a report",
        formatter_class=fmt,
    )
    common(p)
    p.add_argument(
        "--policies",
        nargs="+",
        default=["supply-driven", "demand-driven"],
        metavar="POLICY",
        help="names or TOML files; the first is the baseline",
    )
    p.add_argument("--replications", type=int, default=10, help="replications per policy")
    p.add_argument("--out", default="out/compare", metavar="DIR", help="result folder")
    p.add_argument("--no-plots", action="store_true", help="tables only, no PNG plots")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("sweep", help="run an experiment file; resumable", formatter_class=fmt)
    p.add_argument("experiment", metavar="FILE", help="experiment TOML file")
    p.add_argument("--store", default="out/store", metavar="DIR", help="result store folder")
    p.add_argument(
        "--executor",
        choices=["processes", "serial", "dask"],
        default="processes",
        help="local process pool, serial, or a local Dask cluster",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://host:8786 (overrides --executor)",
    )
    p.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: the cores)"
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
    p.add_argument("household_id", type=int, metavar="ID", help="the household")
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
    p.add_argument(
        "name", nargs="?", default="supply-driven", help="supply-driven or demand-driven"
    )
    p.add_argument("--validate", metavar="FILE", default=None, help="validate this file")
    p.set_defaults(func=_cmd_policy)

    p = sub.add_parser(
        "dashboard",
        help="serve the dashboard in the browser (extra 'dashboard')",
        formatter_class=fmt,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8765, help="port to listen on")
    p.set_defaults(func=_cmd_dashboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ParameterError, FileNotFoundError, IndexError, ImportError) as err:
        print(f"vraagvolgend: error: {err}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
