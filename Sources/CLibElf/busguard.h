// A guard for reading a mapped file that another process may truncate meanwhile: a read of a page past the
// new end of the file raises SIGBUS, which would end the whole batch without a report. Within the guarded
// range (one per thread) the handler maps a zero page over the faulting one and records the fault, so the
// read goes on and its result is thrown away as "changed while read"; any other SIGBUS goes to the handler
// that was there before, or gets the default action (the crash it would have been).
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// The state lives in function-local statics: Swift's importer emits those with the functions that use
// them, but not file-scope statics of a header.
struct muslcheck_guard_range { uintptr_t start, end; volatile sig_atomic_t faulted; };
static inline struct muslcheck_guard_range *muslcheck_guard_this_thread(void) {
    static __thread struct muslcheck_guard_range range;
    return &range;
}
struct muslcheck_guard_process { struct sigaction previous; uintptr_t page; };
static inline struct muslcheck_guard_process *muslcheck_guard_process(void) {
    static struct muslcheck_guard_process process;
    return &process;
}

static void muslcheck_guard_handler(int sig, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    struct muslcheck_guard_range *range = muslcheck_guard_this_thread();
    struct muslcheck_guard_process *process = muslcheck_guard_process();
    if (address >= range->start && address < range->end) {
        uintptr_t page = address & ~(process->page - 1);
        if (mmap((void *)page, process->page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
            range->faulted = 1;
            return;
        }
    }
    if (process->previous.sa_flags & SA_SIGINFO) {
        process->previous.sa_sigaction(sig, info, context);
    } else if (process->previous.sa_handler != SIG_DFL && process->previous.sa_handler != SIG_IGN) {
        process->previous.sa_handler(sig);
    } else {
        signal(sig, SIG_DFL);  // returning repeats the fault, now with the default action
    }
}

/// Installs the handler (once per process); 0 on success.
static inline int muslcheck_guard_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = muslcheck_guard_handler;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    long page = sysconf(_SC_PAGESIZE);
    muslcheck_guard_process()->page = page > 0 ? (uintptr_t)page : 4096;
    return sigaction(SIGBUS, &action, &muslcheck_guard_process()->previous);
}

/// Guards [start, start + size) on this thread.
static inline void muslcheck_guard_begin(const void *start, size_t size) {
    struct muslcheck_guard_range *range = muslcheck_guard_this_thread();
    range->faulted = 0;
    range->start = (uintptr_t)start;
    range->end = (uintptr_t)start + size;
}

/// Ends this thread's guard; nonzero when a page of the range lay past the end of the file.
static inline int muslcheck_guard_finish(void) {
    struct muslcheck_guard_range *range = muslcheck_guard_this_thread();
    range->start = 0;
    range->end = 0;
    return range->faulted;
}
