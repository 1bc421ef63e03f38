"""An event's time reads in its own zone, with the offset, across daylight-saving changes."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import force_locale

from campaign.events.display import event_when, event_when_short, utc_offset_label

TORONTO = ZoneInfo("America/Toronto")


def local(*parts):
    return datetime(*parts, tzinfo=TORONTO)


def test_six_pm_in_toronto_is_22z_in_summer_and_23z_in_winter(ctx):
    summer, winter = local(2027, 7, 27, 18), local(2027, 1, 15, 18)
    assert summer.astimezone(UTC).hour == 22 and winter.astimezone(UTC).hour == 23
    assert "6:00\u202fPM – 8:00\u202fPM (UTC−04:00, America/Toronto)" in event_when(
        summer, local(2027, 7, 27, 20), "America/Toronto")
    assert "(UTC−05:00, America/Toronto)" in event_when(winter, local(2027, 1, 15, 20),
                                                         "America/Toronto")


def test_the_time_is_shown_in_the_events_zone_whatever_zone_it_is_given_in(ctx):
    starts = datetime(2027, 7, 27, 22, tzinfo=UTC)
    ends = datetime(2027, 7, 28, 0, tzinfo=UTC)
    assert event_when(starts, ends, "America/Toronto") == event_when(
        starts.isoformat(), ends.isoformat(), "America/Toronto")
    assert "Tuesday, July 27, 2027" in event_when(starts, ends, "America/Toronto")


def test_an_all_night_vigil_across_the_fall_back_change_shows_both_offsets(ctx):
    # Clocks go back from 02:00 EDT to 01:00 EST on 7 November 2027.
    starts, ends = local(2027, 11, 6, 22), local(2027, 11, 7, 6)
    assert (ends - starts).total_seconds() == 8 * 3600 + 0  # wall-clock difference
    assert (ends.astimezone(UTC) - starts.astimezone(UTC)).total_seconds() == 9 * 3600
    text = event_when(starts.astimezone(UTC), ends.astimezone(UTC), "America/Toronto")
    assert "(UTC−04:00 / UTC−05:00, America/Toronto)" in text
    assert "Saturday, November 6, 2027" in text and "Sunday, November 7, 2027" in text


def test_the_spring_forward_day_keeps_local_times_right(ctx):
    # 14 March 2027: 02:00 EST becomes 03:00 EDT; an event from 01:00 to 04:00 lasts two hours.
    starts = local(2027, 3, 14, 1).astimezone(UTC)
    ends = local(2027, 3, 14, 4).astimezone(UTC)
    assert (ends - starts).total_seconds() == 2 * 3600
    assert "1:00\u202fAM – 4:00\u202fAM (UTC−05:00 / UTC−04:00" in event_when(
        starts, ends, "America/Toronto")


def test_times_read_in_french(ctx):
    starts = datetime(2027, 7, 27, 22, tzinfo=UTC)
    with force_locale("fr_CA"):
        text = event_when(starts, datetime(2027, 7, 28, 0, tzinfo=UTC), "America/Toronto")
        short = event_when_short(starts, "America/Toronto")
    assert "mardi 27 juillet 2027" in text and "18 h 00" in text
    assert "(UTC−04:00)" in short


def test_offsets_read_plainly():
    assert utc_offset_label(datetime(2027, 1, 1, tzinfo=UTC)) == "UTC"
    assert utc_offset_label(datetime(2027, 1, 1, tzinfo=ZoneInfo("Asia/Kolkata"))) == "UTC+05:30"
    assert utc_offset_label(datetime(2027, 1, 1, tzinfo=ZoneInfo("America/St_Johns"))) == "UTC−03:30"
