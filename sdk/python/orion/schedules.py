"""Schedules for deployments: interval, cron and RFC 5545 recurrence rules.

These objects only validate and describe a schedule; the Orion server
computes the dates. Each serializes with :meth:`to_dict`:

* ``IntervalSchedule`` -> ``{"interval": seconds, "anchor_date": iso|None, "timezone": str|None}``
* ``CronSchedule``     -> ``{"cron": str, "timezone": str|None, "day_or": bool}``
* ``RRuleSchedule``    -> ``{"rrule": str, "timezone": str|None}``

``anchor_date`` is always written with a UTC offset: a naive anchor is read
as wall-clock time in ``timezone`` (UTC when no timezone is given).
Unlike Orion 2.0b1, and like Prefect 2.0, ``anchor_date`` and ``timezone`` may
be given together; an anchor carrying a named zone supplies the timezone
when none is given.

Inside a flow-run process (see :mod:`orion._context`) schedules skip
validation, so a schedule declared next to a flow can never break its runs.
"""

import datetime
import re

from orion import _context
from orion._util import validate_timezone, zoneinfo_or_none

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule", "Schedule"]

_CRON_KEYWORDS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/\-#]+$")
_CRON_FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")


class Schedule:
    """Base class of all schedules."""

    _fields = ()

    def to_dict(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash((type(self).__name__, repr(sorted(self.to_dict().items()))))

    def __repr__(self):
        args = ", ".join("%s=%r" % (f, getattr(self, f)) for f in self._fields)
        return "%s(%s)" % (type(self).__name__, args)


class IntervalSchedule(Schedule):
    """Run every ``interval`` starting from ``anchor_date``.

    Args:
        interval: a ``timedelta`` or a number of seconds; must be > 0.
        anchor_date: a ``datetime`` (or ISO 8601 string) the grid of runs is
            aligned to; a naive one is read in ``timezone``. The server
            defaults it to the time the schedule is stored, and keeps that
            anchor when the deployment is re-created with the same schedule.
        timezone: IANA zone name used to keep wall-clock times across DST.
    """

    _fields = ("interval", "anchor_date", "timezone")

    def __init__(self, interval, anchor_date=None, timezone=None):
        self.interval = interval
        self.anchor_date = anchor_date
        self.timezone = timezone
        if _context.is_inert():
            return
        self.interval = _validate_interval(interval)
        self.anchor_date = _validate_anchor(anchor_date)
        self.timezone = validate_timezone("timezone", timezone)
        if self.timezone is None and self.anchor_date is not None and self.anchor_date.tzinfo is not None:
            tzname = getattr(self.anchor_date.tzinfo, "key", None) or getattr(self.anchor_date.tzinfo, "zone", None)
            if isinstance(tzname, str):
                self.timezone = tzname
        self._anchor_iso = _localize_anchor(self.anchor_date, self.timezone)

    def to_dict(self):
        interval = self.interval
        if isinstance(interval, datetime.timedelta):
            interval = interval.total_seconds()
        return {
            "interval": float(interval),
            "anchor_date": getattr(self, "_anchor_iso", None),
            "timezone": self.timezone,
        }


class CronSchedule(Schedule):
    """Run on a 5-field cron expression (or an ``@hourly``-style keyword).

    Args:
        cron: ``"minute hour day-of-month month day-of-week"``.
        timezone: IANA zone name the expression is evaluated in (default UTC).
        day_or: True (default): day-of-month OR day-of-week, like cron;
            False: both must match.
    """

    _fields = ("cron", "timezone", "day_or")

    def __init__(self, cron, timezone=None, day_or=True):
        self.cron = cron
        self.timezone = timezone
        self.day_or = day_or
        if _context.is_inert():
            return
        self.cron = _validate_cron(cron)
        self.timezone = validate_timezone("timezone", timezone)
        if not isinstance(day_or, bool):
            raise ValueError("Invalid `day_or`: expected True or False, got %r" % (day_or,))

    def to_dict(self):
        return {"cron": self.cron, "timezone": self.timezone, "day_or": self.day_or}


class RRuleSchedule(Schedule):
    """Run on an RFC 5545 recurrence rule, e.g. ``"FREQ=WEEKLY;BYDAY=MO"``
    or ``"DTSTART:20220101T090000\\nRRULE:FREQ=DAILY"``.

    Args:
        rrule: the rule text (a ``dateutil`` rule object is also accepted).
        timezone: IANA zone used for floating DTSTART/UNTIL values.
    """

    _fields = ("rrule", "timezone")

    def __init__(self, rrule, timezone=None):
        self.rrule = rrule
        self.timezone = timezone
        if _context.is_inert():
            return
        self.rrule = _validate_rrule(rrule)
        self.timezone = validate_timezone("timezone", timezone)

    def to_dict(self):
        return {"rrule": self.rrule, "timezone": self.timezone}


# ---------------------------------------------------------------------------
# Validation helpers


def _validate_interval(value):
    if isinstance(value, bool):
        raise ValueError("Invalid `interval`: expected a timedelta or a number of seconds, got %r" % (value,))
    if isinstance(value, (int, float)):
        try:
            value = datetime.timedelta(seconds=value)
        except (OverflowError, ValueError) as exc:
            raise ValueError("Invalid `interval`: %s" % exc) from None
    if not isinstance(value, datetime.timedelta):
        raise ValueError(
            "Invalid `interval`: expected a timedelta or a number of seconds, got %s" % type(value).__name__
        )
    if value <= datetime.timedelta(0):
        raise ValueError("Invalid `interval`: must be greater than 0, got %r" % (value,))
    return value


def _validate_anchor(value):
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("Invalid `anchor_date`: %r is not an ISO 8601 date-time" % (value,)) from None
    elif isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        value = datetime.datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime.datetime):
        raise ValueError("Invalid `anchor_date`: expected a datetime, got %s" % type(value).__name__)
    return value


def _localize_anchor(anchor, timezone):
    """Return ``anchor`` as ISO 8601 text that always carries a UTC offset."""
    if anchor is None:
        return None
    if anchor.tzinfo is None or anchor.tzinfo.utcoffset(anchor) is None:
        if timezone is None or timezone.upper() == "UTC":
            anchor = anchor.replace(tzinfo=datetime.timezone.utc)
        else:
            zone = zoneinfo_or_none(timezone)
            if zone is None:
                raise ValueError(
                    "Invalid `anchor_date`: cannot read a naive anchor in %r because no time zone "
                    "database is installed; pass a timezone-aware datetime" % (timezone,)
                )
            anchor = anchor.replace(tzinfo=zone)
    offset = anchor.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        # Historic local-mean-time offsets such as +00:09:21 are not valid
        # RFC 3339; the same instant in UTC is.
        anchor = anchor.astimezone(datetime.timezone.utc)
    return anchor.isoformat()


def _validate_cron(value):
    if not isinstance(value, str):
        raise ValueError("Invalid `cron`: expected a string, got %s" % type(value).__name__)
    text = " ".join(value.split())
    if text.startswith("@"):
        if text.lower() in _CRON_KEYWORDS:
            return text.lower()
        raise ValueError(
            "Invalid `cron`: unknown keyword %r; expected one of %s" % (value, ", ".join(_CRON_KEYWORDS))
        )
    fields = text.split(" ") if text else []
    if len(fields) != 5:
        raise ValueError(
            "Invalid `cron`: %r has %d field(s); expected 5 (minute hour day-of-month month day-of-week) "
            "or an @keyword such as @daily" % (value, len(fields))
        )
    for name, field in zip(_CRON_FIELD_NAMES, fields):
        if not _CRON_FIELD.match(field):
            raise ValueError("Invalid `cron`: bad %s field %r in %r" % (name, field, value))
    return text


def _validate_rrule(value):
    if not isinstance(value, str) and type(value).__module__.startswith("dateutil"):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("Invalid `rrule`: expected a string, got %s" % type(value).__name__)
    text = value.strip()
    upper = text.upper()
    if "FREQ=" not in upper and "RDATE" not in upper:
        raise ValueError("Invalid `rrule`: %r is not an RFC 5545 rule (no FREQ= or RDATE)" % (value,))
    if len(text) > 6500:
        raise ValueError("Invalid `rrule`: longer than 6500 characters")
    return text
