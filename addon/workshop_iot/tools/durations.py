"""The rounding rule for shown durations, the same as the dashboard's (web/src/model/format.ts):
whole seconds, half a second rounds up, negative or missing time is zero. Working time is rounded,
standby is the rounded working + standby minus the rounded working time, so the shown parts add up;
the total is rounded and never shown shorter than the two parts."""

import math


def whole_seconds(seconds):
    """Nearest whole second (half up); None, NaN or negative -> 0."""
    if not seconds or not math.isfinite(seconds) or seconds < 0:
        return 0
    return math.floor(seconds + 0.5)


def shown_parts(total_s, working_s, standby_s):
    """(total, working, standby) in whole seconds as displayed, with working + standby <= total."""
    working = whole_seconds(working_s)
    both = whole_seconds(max(working_s or 0.0, 0.0) + max(standby_s or 0.0, 0.0))
    standby = max(both - working, 0)
    return max(whole_seconds(total_s), working + standby), working, standby


def format_hms(seconds):
    """'H:MM:SS', the one duration format of the product (the dashboard's formatDuration and the
    workshop_duration widget): whole seconds, hours unpadded and unbounded (e.g. '0:00:47', '27:03:10')."""
    total = whole_seconds(seconds)
    return "%d:%02d:%02d" % (total // 3600, total % 3600 // 60, total % 60)
