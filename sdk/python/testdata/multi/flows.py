from prefect import flow


@flow
def alpha():
    return "a"


@flow(name="beta")
def second_flow(n: int):
    return n
