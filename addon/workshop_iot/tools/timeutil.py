"""Timestamps on the wire are ISO-8601 UTC strings ending in ``Z``; Odoo stores naive UTC datetimes."""

from datetime import datetime, timezone


def parse_wire_ts(value):
    """``'2026-11-25T12:00:00.250Z'`` -> naive UTC ``datetime`` (Odoo's storage convention)."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


def to_wire_ts(value):
    """Naive UTC ``datetime`` (or False/None) -> ``'YYYY-MM-DDTHH:MM:SS.mmmZ'`` or None."""
    if not value:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)


def utcnow():
    """Naive UTC now, as Odoo's ``fields.Datetime.now()`` but usable outside the ORM."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
