from vnnews.cli import cli

cli()
