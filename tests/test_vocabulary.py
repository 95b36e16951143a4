"""The output vocabulary: one order of laws, labels for every identifier, one number format."""

from __future__ import annotations

import vraagvolgend as vv
from vraagvolgend import outputs
from vraagvolgend import vocabulary as v


def test_every_identifier_a_table_shows_has_a_label():
    keys = [*outputs.COST_LINES, *outputs.OUTCOMES, *vv.DOMAINS, *vv.HOUSEHOLD_TYPES]
    keys += v.ALL_CHANNELS
    for key in keys:
        text = v.label(key)
        assert text != key and "_" not in text, key


def test_number_format_never_uses_scientific_notation():
    for x in (0.000012, 1.5e-3, 12.0, 1466.0, 14660.4, 2e3, 1.2e9, -3.5e7):
        text = v.format_number(x)
        assert "e" not in text.lower(), text
    assert v.format_number(14660.4) == "14,660"
    assert v.format_interval(5750, 6200) == "5,750 – 6,200"
    assert v.plural(1, "month") == "1 month" and v.plural(1200, "household") == "1,200 households"


def test_calendar():
    assert [v.year_of(m) for m in (1, 12, 13, 24, 25)] == [1, 1, 2, 2, 3]
    assert [m for m in range(-12, 37) if v.is_year_end(m)] == [12, 24, 36]
