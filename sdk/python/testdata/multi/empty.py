def not_a_flow():
    pass
