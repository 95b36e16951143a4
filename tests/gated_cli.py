"""The command line with the test regime ``held`` registered (see gates.py); for tests'
child processes: ``python tests/gated_cli.py sweep FILE ...``."""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    import gates  # noqa: F401 - registers the regime
    from vraagvolgend.cli import main

    sys.exit(main(sys.argv[1:]))
