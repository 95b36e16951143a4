"""Write docs/assumptions.md: the regimes' assumptions, generated from the declarations.

Run after changing a parameter's default, source or plausible range:

    .venv/bin/python scripts/write_assumptions.py
"""

from __future__ import annotations

from pathlib import Path

from vraagvolgend.financing import assumptions_markdown

OUT = Path(__file__).resolve().parent.parent / "docs" / "assumptions.md"


def main() -> None:
    OUT.write_text(assumptions_markdown(), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
