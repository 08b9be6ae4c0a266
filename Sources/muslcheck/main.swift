// The executable: Sources/CStartup has already run (the /proc check, allocator settings) when this starts.
import CStartup
import MuslcheckCLI

precondition(muslcheck_started() != 0, "the start-up constructor did not run")
CLI.main()
