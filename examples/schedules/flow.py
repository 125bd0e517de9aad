# A Prefect Orion-era deployment file with schedules; it loads unchanged
# with `orion deployment create examples/schedules/flow.py`.
from datetime import datetime, timedelta

from prefect import flow
from prefect.deployments import DeploymentSpec
from prefect.orion.schemas.schedules import CronSchedule, IntervalSchedule


@flow
def nightly_report(region="emea"):
    print(f"Report for {region}")


# Every day at 07:30 New York time: a whole-day interval keeps the wall
# clock across daylight-saving changes (EST -05:00, EDT -04:00).
DeploymentSpec(
    flow=nightly_report,
    name="daily-730-new-york",
    schedule=IntervalSchedule(
        interval=timedelta(days=1),
        anchor_date=datetime(2024, 1, 1, 7, 30),
        timezone="America/New_York",
    ),
)

# Every 6 hours from midnight Sydney time, with cron's local-time rules.
DeploymentSpec(
    flow=nightly_report,
    name="every-6-hours-sydney",
    parameters={"region": "apac"},
    schedule=CronSchedule(cron="0 */6 * * *", timezone="Australia/Sydney"),
)
