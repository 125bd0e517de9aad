from prefect import flow


@flow
def never_reached():
    pass


def explode():
    raise RuntimeError("broken flow script")


explode()
