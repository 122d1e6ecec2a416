from stepcode.cli import main

main()
