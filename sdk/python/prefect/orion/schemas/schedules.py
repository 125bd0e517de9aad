"""``prefect.orion.schemas.schedules`` compatibility module (see :mod:`orion.schedules`)."""

from orion.schedules import CronSchedule, IntervalSchedule, RRuleSchedule, Schedule

SCHEDULE_TYPES = (IntervalSchedule, CronSchedule, RRuleSchedule)

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule", "SCHEDULE_TYPES", "Schedule"]
