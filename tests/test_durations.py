"""Durations: every written form from DESIGN.md, and clear errors."""

import pytest

from engine.durations import format_clock, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("6h", 21600), ("2d", 172800), ("01:30:00", 5400), ("1h30m", 5400),
     ("0.5s", 0.5), ("12:05", 43500), ("1d 02:00:00", 93600), (" 10s ", 10), ("2w", 1209600)],
)
def test_accepted_forms(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "ten minutes", "5 parsecs", "1h30", "01:61:00", "-5s", 90])
def test_rejected_forms_explain_what_is_accepted(text):
    with pytest.raises(ValueError, match="90s"):
        parse_duration(text)


def test_formatting_round_trips_through_the_parser():
    for seconds in (0, 45, 90, 3600, 5400, 86400 + 3 * 3600):
        assert parse_duration(format_duration(seconds)) == seconds
    assert format_clock(93784) == "1d+02:03:04"
