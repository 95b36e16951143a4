"""The worker process of a dashboard comparison: ``python -m vraagvolgend.dashboard.worker DIR``.

Reads ``DIR/job.json`` (policy files, replications, months, seed, and the draws of an
uncertainty analysis with their replications) and ``DIR/scenario.toml``, runs
:func:`vraagvolgend.compare`, telling its progress on stderr (one line per finished task:
:data:`PROGRESS` and ``[phase, done, total]`` as JSON), saves the comparison to ``DIR/result``
(with ``decomposition.parquet`` when the comparison carries a decomposition) and writes the
report there. A bad input ends with the command line's one-line error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["PROGRESS", "main"]

#: The start of a progress line on the worker's stderr.
PROGRESS = "vraagvolgend progress: "


def _tell(phase: str, done: int, total: int) -> None:
    print(PROGRESS + json.dumps([phase, done, total]), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the job in the folder given as the only argument; returns the exit status."""
    from ..comparison import compare
    from ..financing import Policy
    from ..parameters import ParameterError
    from ..reports import write_report
    from ..scenario import Scenario

    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    try:
        spec = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        scenario = Scenario.from_toml(folder / "scenario.toml")
        policies = [Policy.from_toml(Path(p)) for p in spec["policies"]]
        comparison = compare(
            policies,
            scenario,
            replications=spec["replications"],
            months=spec["months"],
            seed=spec["seed"],
            progress=False,
            on_progress=_tell,
            # 0 draws: no uncertainty analysis (a negative number is refused by compare)
            uncertainty=spec.get("draws") or None,
            draw_replications=spec.get("draw_replications"),
        )
        out = folder / "result"
        comparison.save(out)
        table = getattr(getattr(comparison, "decomposition", None), "table", None)
        if table is not None:
            table.to_parquet(out / "decomposition.parquet", index=False)
        write_report(comparison, out)
    except (ParameterError, ValueError, FileNotFoundError, ImportError) as err:
        print(f"vraagvolgend: error: {err}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
