from emotioncot.cli import main

main()
