from prefect import flow
from prefect.deployments import DeploymentSpec
from prefect.orion.schemas.schedules import CronSchedule


@flow
def hello_world():
    pass


DeploymentSpec(flow=hello_world, name="bad-cron", schedule=CronSchedule(cron="* * *"))
