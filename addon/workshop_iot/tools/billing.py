"""Billing arithmetic, kept free of the ORM so the rounding rules are unit-testable on their own.

Units are whole billing units of ``unit_minutes`` each. The minimum applies only to sessions that
have billable time at all: a session that was only in standby under a "working time" policy bills 0.
"""

import math

# Durations are sums of float seconds: 900 s may arrive as 899.9999999. Anything within this
# tolerance of a unit boundary counts as exactly on it, so "up" does not bill a phantom unit.
_EPSILON = 1e-6

ROUNDING_METHODS = ("up", "nearest", "down")
BASES = ("working", "working_standby")


def billable_seconds(working_s, standby_s, basis):
    """Seconds the policy bills: working time only, or working + standby."""
    if basis == "working":
        return max(working_s or 0.0, 0.0)
    return max(working_s or 0.0, 0.0) + max(standby_s or 0.0, 0.0)


def billing_units(seconds, unit_minutes, rounding, min_units=0):
    """Whole units for ``seconds`` of billable time.

    >>> billing_units(16 * 60, 15, "up"), billing_units(16 * 60, 15, "down"), billing_units(22.5 * 60, 15, "nearest")
    (2, 1, 2)
    """
    if seconds <= 0 or unit_minutes <= 0:
        return 0
    ratio = seconds / (unit_minutes * 60.0)
    if rounding == "up":
        units = math.ceil(ratio - _EPSILON)
    elif rounding == "down":
        units = math.floor(ratio + _EPSILON)
    elif rounding == "nearest":
        units = math.floor(ratio + 0.5 + _EPSILON)  # half up: 7.5 min of a 15 min unit bills 1
    else:
        raise ValueError(f"unknown rounding {rounding!r}")
    return max(int(units), int(min_units or 0))
