from pesdc.cli.entry import run

run()
