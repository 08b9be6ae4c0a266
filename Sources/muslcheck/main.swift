import MuslcheckCLI
#if canImport(Glibc)
import Glibc
import CMalloc

// A batch run allocates and frees many large buffers (mapped files' facts, report fragments). glibc hands
// blocks over 128 KiB straight back to the kernel, and every such unmap in a process with a thread on each
// core costs a TLB shootdown on all of them; profiles showed that as a seventh of the run. Keeping them
// in the heap for reuse removes it. (32 MiB is the largest threshold glibc accepts.)
_ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
_ = mallopt(M_TRIM_THRESHOLD, 128 << 20)
#endif

CLI.main()
