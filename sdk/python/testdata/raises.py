from prefect import flow


@flow
def hello_world():
    pass


def helper():
    raise ValueError("boom at load time")


helper()
