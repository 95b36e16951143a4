"""The README's numbers come from a run: compute the default answer and write it in.

Runs the default comparison (supply- against demand-driven financing on the built-in default
municipality, 24,000 households, 60 months, 10 replications, seed 0: the comparison of
``make demo``), keeps its numbers in ``docs/default_answer.json`` and writes the paragraph
between the README's ``default-answer`` markers, with the command that produced it.
``tests/test_readme.py`` checks that the README holds what this script last wrote (fast) and
that a fresh run gives the same numbers (slow).

Run:  .venv/bin/python scripts/readme_numbers.py [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RECORD = ROOT / "docs" / "default_answer.json"
START, END = "<!-- default-answer:start -->", "<!-- default-answer:end -->"
COMMAND = ".venv/bin/python scripts/readme_numbers.py"
SETTINGS = {"replications": 10, "months": 60, "seed": 0}
LAWS = ("jeugdwet", "wmo", "participatiewet", "collective", "access")


def compute(workers: int | None = None) -> dict:
    """The default comparison's numbers (EUR a year; outcome differences in their units)."""
    import vraagvolgend as vv

    c = vv.compare(
        [vv.SupplyDriven(), vv.DemandDriven()],
        vv.Scenario.default(),
        executor="processes" if (workers or 0) > 1 else "serial",
        workers=workers,
        progress=False,
        **SETTINGS,
    )
    s = c.summary.set_index(["policy", "line"])
    o = c.outcomes.set_index(["policy", "outcome"])
    base, alt = "supply-driven", "demand-driven"

    def diff(table, key):
        r = table.loc[(alt, key)]
        return [
            float(r["difference"]),
            float(r["difference_ci_low"]),
            float(r["difference_ci_high"]),
        ]

    return {
        "settings": {**SETTINGS, "households": vv.Scenario.default().n_households},
        "baseline_external_total": float(s.loc[(base, "external_total"), "mean"]),
        "difference_external_total": diff(s, "external_total"),
        "difference_by_line": {line: diff(s, line) for line in (*LAWS, "benefit")},
        "difference_outcomes": {
            k: diff(o, k) for k in ("mean_severity", "share_3plus_problems", "carers_under_strain")
        },
        "baseline_mean_severity": float(o.loc[(base, "mean_severity"), "mean"]),
    }


def _m(x: float) -> str:
    return f"€{abs(x) / 1e6:.2f}M"


def render(n: dict) -> str:
    """The README paragraph for the numbers (a pure function of them)."""
    from vraagvolgend.vocabulary import label

    d, lo, hi = n["difference_external_total"]
    base = n["baseline_external_total"]
    way = "less" if d < 0 else "more"
    established = lo > 0 or hi < 0

    def name(key: str) -> str:
        text = label(key).split(" (")[0]
        return text if text.startswith("Wmo") else text[:1].lower() + text[1:]

    benefit = n["difference_by_line"]["benefit"][0]
    lines = sorted(
        ((k, v) for k, v in n["difference_by_line"].items() if k != "benefit"),
        key=lambda kv: kv[1][0],
    )
    cheaper = [f"{name(k)} {_m(v[0])}" for k, v in lines if v[0] < 0]
    dearer = [f"{name(k)} {_m(v[0])}" for k, v in lines if v[0] > 0]
    sev, sev_lo, sev_hi = n["difference_outcomes"]["mean_severity"]
    three, three_lo, three_hi = n["difference_outcomes"]["share_3plus_problems"]
    settings = n["settings"]
    verdict = (
        f"demand-driven costs {_m(d)} ({100 * abs(d) / base:.1f}%) a year {way}"
        if established
        else f"the difference ({'−' if d < 0 else '+'}{_m(d)}) is not established"
    )
    text = (
        f"**The default answer** ({settings['households']:,} households, "
        f"{settings['months'] // 12} years, {settings['replications']} replications, seed "
        f"{settings['seed']}; written by `{COMMAND}`): supply-driven costs {_m(base)} a year in "
        f"external social-domain cost; {verdict} (95% interval "
        f"{'−' if lo < 0 else '+'}{_m(lo)} to {'−' if hi < 0 else '+'}{_m(hi)}). "
    )
    if cheaper:
        text += "Less is spent on " + ", ".join(cheaper) + "; "
    if dearer:
        text += "more on " + ", ".join(dearer) + ". "
    text += (
        f"The benefit, paid from a national budget, {'rises' if benefit > 0 else 'falls'} by "
        f"{_m(benefit)}. "
        f"Mean problem severity differs by {sev:+.5f} (95% interval {sev_lo:+.5f} to "
        f"{sev_hi:+.5f}, on a 0–1 scale where supply-driven is at "
        f"{n['baseline_mean_severity']:.4f}), households with 3+ problems by "
        f"{100 * three:+.2f} percentage points ({100 * three_lo:+.2f} to {100 * three_hi:+.2f}). "
        "These intervals are simulation noise only, for the default assumptions; the report "
        "says what the difference rests on."
    )
    return "\n".join(_wrap(text, 100))


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


def block(n: dict) -> str:
    return f"{START}\n{render(n)}\n{END}"


def write(n: dict) -> None:
    RECORD.parent.mkdir(exist_ok=True)
    RECORD.write_text(json.dumps(n, indent=2) + "\n", encoding="utf-8")
    text = README.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{README}: no {START} … {END} markers to write between")
    README.write_text(pattern.sub(lambda _: block(n), text), encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes; default: 2")
    parser.add_argument(
        "--render", action="store_true", help="only write the README again from the record"
    )
    args = parser.parse_args()
    if args.render:
        numbers = json.loads(RECORD.read_text(encoding="utf-8"))
    else:
        numbers = compute(args.workers)
    write(numbers)
    print(render(numbers))
