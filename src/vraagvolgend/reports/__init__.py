"""Reports: an HTML report (and the same in Markdown) of a comparison, for a policy adviser.

The report opens with a plain-language headline generated from the numbers and their 95%
intervals: what each alternative costs per year against the baseline (in total and per
inhabitant), whether households are better or worse off, and what drives the difference; a
difference whose interval includes zero is called "not established". Every compared number
carries its interval (costs, outcomes, ZRM levels, concentration, groups of households). The
pages are rendered from jinja2 templates (package data) with tables from pandas' Styler; plots
are drawn with matplotlib's object API (an optional extra, ``pip install
'vraagvolgend[plots]'``), so the user's matplotlib backend is never changed, and sized for the
page's width with text of at least 10 pt.

One concept per module: :mod:`~vraagvolgend.reports.numbers` (number formats, paired
statistics), :mod:`~vraagvolgend.reports.text` (the headline and the notes),
:mod:`~vraagvolgend.reports.tables`, :mod:`~vraagvolgend.reports.assumptions` (what the
comparison rests on), :mod:`~vraagvolgend.reports.figures` and
:mod:`~vraagvolgend.reports.page` (the pages themselves).

Example:
    >>> import vraagvolgend as vv, tempfile
    >>> s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=6)
    >>> c = vv.compare(["supply-driven", "demand-driven"], s, replications=2, months=12,
    ...                progress=False)
    >>> write_report(c, tempfile.mkdtemp()).name
    'report.html'
"""

from ..vocabulary import LABELS
from .figures import _RC, report_figures  # noqa: F401 - _RC: the dashboard draws in its style
from .numbers import (
    GROUPS,
    MIN_FONT_PT,
    OUTCOME_FORMAT,
    PAGE_WIDTH_IN,
    fmt_number,
    label,
)
from .page import write_report
from .tables import _table, report_tables  # noqa: F401 - _table: the dashboard renders with it
from .text import headline

__all__ = [
    "GROUPS",
    "LABELS",
    "MIN_FONT_PT",
    "OUTCOME_FORMAT",
    "PAGE_WIDTH_IN",
    "fmt_number",
    "headline",
    "label",
    "report_figures",
    "report_tables",
    "write_report",
]
