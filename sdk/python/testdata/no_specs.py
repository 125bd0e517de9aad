from prefect import flow


@flow
def lonely():
    pass
