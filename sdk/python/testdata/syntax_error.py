from prefect import flow

def broken(:
    pass
