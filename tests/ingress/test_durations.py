"""``?delay=`` spellings parse exactly as Restate Server 1.7.12 parses them (values measured on the real server)."""

from __future__ import annotations

import pytest

from restate_lab.rules.durations import InvalidDuration, fits_execution_time, parse_duration_ms

FRIENDLY = 'failed to parse input in the "friendly" duration format: '


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("0", 0),
        ("0s", 0),
        ("-0s", 0),
        ("1s ", 1000),
        ("1,5s", 1500),
        ("1.5s", 1500),
        ("1.5h", 5_400_000),
        ("1h2m", 3_720_000),
        ("1h 2m", 3_720_000),
        ("1h, 2m", 3_720_000),
        ("1 h 2 m", 3_720_000),
        ("2 hours 3 mins", 7_380_000),
        ("1:02:03", 3_723_000),
        ("P1W", 604_800_000),
        ("p1w", 604_800_000),
        ("P1W1D", 691_200_000),
        ("PT1,5S", 1500),
        ("pT1s", 1000),
        ("PT1.5H", 5_400_000),
        ("1000000d", 86_400_000_000_000),
        ("2wks", 1_209_600_000),
        ("1µs", 0),
        ("1500ms", 1500),
        ("10s10ms", 10_010),
    ],
)
def test_accepted_spellings_parse_to_the_servers_duration(text: str, ms: int) -> None:
    """Spellings the real server accepts give the same number of milliseconds."""
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'an empty string is not a valid duration in either the ISO 8601 format or Jiff\'s "friendly" format'),
        (
            " 1s",
            FRIENDLY + "expected duration to start with a unit value (a decimal integer) after an optional sign, "
            "but no integer was found",
        ),
        ("2", FRIENDLY + "expected to find unit designator suffix (e.g., `years` or `secs`) after parsing integer"),
        ("1H", FRIENDLY + "expected to find unit designator suffix (e.g., `years` or `secs`) after parsing integer"),
        ("1h,2m", FRIENDLY + "expected whitespace after comma, but found `2`"),
        ("1.5d", FRIENDLY + "fractional days are not supported"),
        ("1y", "please use units of days or smaller"),
        ("P1M", "please use units of days or smaller"),
        ("1s ago", "negative signed durations cannot be converted to an unsigned duration"),
        ("-1s ago", FRIENDLY + "expected to find either a prefix sign (+/-) or a suffix sign (`ago`), but found both"),
        (
            "5s5s",
            FRIENDLY + "found value with unit second after unit second, but units must be written from largest "
            "to smallest (and they can't be repeated)",
        ),
        ("1mon", FRIENDLY + "parsed value 'P1M', but unparsed input \"n\" remains (expected no unparsed input)"),
        ("1.s", FRIENDLY + "found decimal after seconds component, but did not find any digits after decimal"),
        ("99999999999999999999s", FRIENDLY + "number too big to parse into 64-bit integer"),
        (
            "584542y",
            FRIENDLY + "failed to set value for year unit on span: parameter 'years' is not in the required "
            "range of -19998..=19998",
        ),
        ("P", "no parsed duration components"),
        ("PT", "found a time designator (`T` or `t`) in an ISO 8601 duration string, but did not find any time units"),
        ("P1.5D", "expected to find date unit designator suffix (`Y`, `M`, `W` or `D`), but found `.` instead"),
        ("PT1S1", "expected to find time unit designator suffix (`H`, `M` or `S`), but found end of input"),
        (
            "PT1M1H",
            "found value with unit hour after unit minute, but units must be written from largest to smallest "
            "(and they can't be repeated)",
        ),
    ],
)
def test_refused_spellings_give_the_servers_message(text: str, message: str) -> None:
    """Spellings the real server refuses are refused with its message, word for word."""
    with pytest.raises(InvalidDuration) as refused:
        parse_duration_ms(text)
    assert str(refused.value) == message


def test_execution_time_must_fit_before_the_year_10000() -> None:
    """1 000 000 days from 2026 is still writable; 5 000 000 days is past 9999-12-31."""
    now_ms = 1_795_000_000_000  # late 2026
    assert fits_execution_time(now_ms, parse_duration_ms("1000000d"))
    assert not fits_execution_time(now_ms, parse_duration_ms("5000000d"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # A comma right after a designator is read before the unit is taken, and must lead to another unit.
        ("3m 1.5 mo,x", FRIENDLY + "expected whitespace after comma, but found `x`"),
        ("0.5y,x", FRIENDLY + "expected whitespace after comma, but found `x`"),
        ("1h, ", FRIENDLY + "found comma at the end of duration, but a comma indicates at least one more unit follows"),
        (
            "1h, x",
            FRIENDLY + "found comma at the end of duration, but a comma indicates at least one more unit follows",
        ),
        (
            "1.5h, 3m",
            FRIENDLY + "found comma at the end of duration, but a comma indicates at least one more unit follows",
        ),
        ("1h,\x0b2m", FRIENDLY + "expected whitespace after comma, but found `\\x0B`"),
        # Nanoseconds take no fraction; a fraction's missing digits are named after seconds.
        ("1.5ns", FRIENDLY + "fractional nanoseconds are not supported"),
        ("2h 2,5ns", FRIENDLY + "fractional nanoseconds are not supported"),
        ("1.123456789ns ago", FRIENDLY + "fractional nanoseconds are not supported"),
        ("1.h", FRIENDLY + "found decimal after seconds component, but did not find any digits after decimal"),
        # ``ago`` is whatever follows the whitespace after the last unit; what is left after it is unparsed.
        ("1h ago ", FRIENDLY + "parsed value '-PT1H', but unparsed input \" \" remains (expected no unparsed input)"),
        ("1h agox", FRIENDLY + "parsed value '-PT1H', but unparsed input \"x\" remains (expected no unparsed input)"),
        ("0s ago ", FRIENDLY + "parsed value 'PT0S', but unparsed input \" \" remains (expected no unparsed input)"),
        (
            "+1h ago",
            FRIENDLY + "expected to find either a prefix sign (+/-) or a suffix sign (`ago`), but found both",
        ),
        ("1:30:00 ago", "negative signed durations cannot be converted to an unsigned duration"),
        # The parsed value spreads a fraction over the smaller units.
        (
            "0.25 min 0.25years",
            FRIENDLY + "parsed value 'PT15S', but unparsed input \"0.25years\" remains (expected no unparsed input)",
        ),
        ("1.5h x", FRIENDLY + "parsed value 'PT1H30M', but unparsed input \"x\" remains (expected no unparsed input)"),
        ("1h\x0b", FRIENDLY + "parsed value 'PT1H', but unparsed input \"\\x0b\" remains (expected no unparsed input)"),
        # H:M:S after days (or larger) too; its seconds take a fraction after ``.`` or ``,``.
        (
            "1h 2:30:00",
            FRIENDLY + "found `HH:MM:SS` after unit hour, but `HH:MM:SS` can only appear after years, months, weeks "
            "or days",
        ),
        ("1:30:00, 5s", FRIENDLY + "found decimal after seconds component, but did not find any digits after decimal"),
        ("2:", FRIENDLY + "when parsing the `HH:MM:SS` format, expected to parse minute following hour"),
        ("2:30", FRIENDLY + "when parsing the `HH:MM:SS` format, expected to parse `:` following minute"),
        # A time unit past its bound spills into the smaller units; only past nanoseconds is it refused.
        (
            "200000000h x",
            FRIENDLY + "parsed value 'PT175307616H1481543040M', but unparsed input \"x\" remains (expected no unparsed "
            "input)",
        ),
        (
            "631107417601s x",
            FRIENDLY + "parsed value 'PT631107417601S', but unparsed input \"x\" remains (expected no unparsed input)",
        ),
        (
            "1000000000000h",
            FRIENDLY
            + "failed to set value for hour unit on span: failed to set nanosecond value from fractional component",
        ),
    ],
)
def test_jiff_grammar_edges_are_refused_in_the_servers_words(text: str, message: str) -> None:
    """Commas, ``ago``, ``H:M:S``, fractions and enormous values, each answered as Restate Server 1.7.12 answered."""
    with pytest.raises(InvalidDuration) as caught:
        parse_duration_ms(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1:3:00", 3_780_000),
        ("1d 2:30:00", 95_400_000),
        ("1 h, 2 m", 3_720_000),
        ("1h,\t 2m", 3_720_000),
        ("1h\n", 3_600_000),
    ],
)
def test_jiff_grammar_edges_that_the_server_accepts(text: str, ms: int) -> None:
    """One-digit H:M:S fields, H:M:S after days, a comma and then more whitespace, a trailing newline."""
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "+P200000000D0,25dt0S",
            "expected to find date unit designator suffix (`Y`, `M`, `W` or `D`), but found `,` instead",
        ),
        (
            "+P200000000D007Mt10M",
            "found value with unit month after unit day, but units must be written from largest to smallest "
            "(and they can't be repeated)",
        ),
        (
            "+P2YT1.123456789123H1.S",
            "expected to find time unit designator suffix (`H`, `M` or `S`), but found `1` instead",
        ),
        ("+PT1.s1.m ", "found decimal after seconds component, but did not find any digits after decimal"),
        ("+P99999999999999999999D007W ago", "number too big to parse into 64-bit integer"),
        (
            "+P0MT200000000H200000000M ",
            "parsed value 'PT175307616H200000000M', but unparsed input \" \" remains (expected no unparsed input)",
        ),
    ],
)
def test_iso_durations_are_read_in_order_as_the_server_reads_them(text: str, message: str) -> None:
    """Each unit's designator and order as it is read, the bounds (time units spill) once all is read, then the rest."""
    with pytest.raises(InvalidDuration) as caught:
        parse_duration_ms(text)
    assert str(caught.value) == message
