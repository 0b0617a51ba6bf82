from pesdc.cli.main import main

main()
