import pytest

from videovision.errors import ConfigError
from videovision.timecode import file_stamp, format_time, parse_time, time_label


@pytest.mark.parametrize(
    "text, seconds",
    [("75", 75.0), ("75.5", 75.5), ("75s", 75.0), ("01:15", 75.0), ("1:15.250", 75.25),
     ("01:00:00", 3600.0), ("1:02:03.5", 3723.5), (12, 12.0), ("0", 0.0)],
)
def test_parse_time_accepts_seconds_and_clock(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["abc", "-5", "1:75", "1:2:3:4", "", "nan", "inf"])
def test_parse_time_rejects_with_config_error(bad):
    with pytest.raises(ConfigError):
        parse_time(bad)


def test_format_time_edges():
    assert format_time(0) == "00:00.000"
    assert format_time(65.2049) == "01:05.205"
    assert format_time(3723.5, precision=1) == "01:02:03.5"
    assert format_time(59.96, precision=1) == "01:00.0"  # rounding carries into minutes
    assert time_label(65.2) == "[00:01:05.2]"


def test_file_stamp_sorts_like_time():
    stamps = [file_stamp(t) for t in (0.0, 5.5, 65.25, 3600.0)]
    assert stamps == sorted(stamps)
    assert file_stamp(65.25) == "00h01m05.250s"
