def cli():
    pass
