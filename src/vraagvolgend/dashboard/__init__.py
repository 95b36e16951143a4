"""An interactive dashboard in the browser: ``vraagvolgend dashboard``.

Two pages, built on Solara (an optional extra, ``pip install 'vraagvolgend[dashboard]'``; its
front-end assets come from the installed ``solara-assets`` package, so the page renders with
no network):

* *Municipality*: one model month by month under one policy, with play/step/reset, controls
  for the main scenario values and policy levers, and a household inspector;
* *Compare*: two or more policies on common random numbers in a worker process, with a
  progress bar, the report's tables and plots, and downloads of the result folder and report;
  with an uncertainty analysis (parameter draws), how sure the answer is: the probabilities
  that the alternative is cheaper and that it leaves households worse off, the interval over
  both sources beside the simulation-only one, the cost-effectiveness plane and the drivers.

The model-side parts (:class:`MonthlyHistory`, :class:`CompareJob`, the control validation)
import without Solara, so they can be used and tested on their own.
"""

from __future__ import annotations

import os

from .controls import POLICY_DEFAULTS, SCENARIO_DEFAULTS, build_policy, build_scenario, one_line
from .history import MonthlyHistory
from .jobs import CompareJob

__all__ = [
    "POLICY_DEFAULTS",
    "SCENARIO_DEFAULTS",
    "CompareJob",
    "MonthlyHistory",
    "build_policy",
    "build_scenario",
    "check_address",
    "one_line",
    "serve",
]

APP = "vraagvolgend.dashboard.app"


def check_address(host: str, port: int) -> None:
    """Check where the dashboard is to listen, before anything starts.

    Raises:
        ParameterError: ``host`` is empty or blank (which would listen on every interface),
            or ``port`` is not a whole number from 1 to 65535.
    """
    from ..parameters import ParameterError, _short

    if not isinstance(host, str) or not host.strip():
        raise ParameterError(
            "--host",
            f"{_short(host)} is empty: give an address such as 127.0.0.1 (this computer only) "
            "or 0.0.0.0 (every interface, on purpose)",
        )
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ParameterError("--port", f"{_short(port)} is out of range: must be 1 … 65535")


def serve(host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the dashboard until interrupted; prints the local address first.

    Raises:
        ParameterError: an empty host or a port outside 1 … 65535.
        ImportError: When the ``dashboard`` extra (Solara) is not installed.
    """
    check_address(host, port)
    try:
        import solara  # noqa: F401
        import uvicorn
    except ImportError:
        raise ImportError(
            "the dashboard needs the 'dashboard' extra: pip install 'vraagvolgend[dashboard]'"
        ) from None
    # Solara reads its settings from the environment when its server module is imported:
    # no telemetry (no network), production mode, this package's app.
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_MODE", "production")
    os.environ["SOLARA_APP"] = APP
    from solara.server.starlette import app

    print(f"vraagvolgend dashboard: http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
