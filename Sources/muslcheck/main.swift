import MuslcheckCLI

CLI.main()
