// Start-up work that must happen before the Swift runtime's own initialisers run. A constructor with
// priority 101 comes before every default-priority initialiser (.init_array.00101 is sorted first), and in
// the static executable the runtime is one of those.
#include "CStartup.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// The exit status when nothing could be assessed (ExitStatus.inputError): a tool error is never 0.
enum { exit_input_error = 2 };

static int started;

int muslcheck_started(void) { return started; }

static void say(const char *text) {
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t n = write(2, text, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text += n;
        left -= (size_t)n;
    }
}

__attribute__((constructor(101)))
static void muslcheck_startup(void) {
    // The statically linked Swift runtime finds itself through /proc/self/exe and reads its arguments
    // from /proc/self/cmdline; without /proc it aborts with "Unable to obtain Swift runtime path" before
    // main. Say what is missing instead (containers always mount /proc; bare chroots may not).
    char target[1];
    if (readlink("/proc/self/exe", target, sizeof target) < 0) {
        say("muslcheck: cannot read /proc/self/exe (");
        say(strerror(errno));
        say("): mount /proc, e.g. mount -t proc proc /proc\n");
        _exit(exit_input_error);
    }
#if defined(__GLIBC__)
    // A batch run allocates and frees many large buffers (mapped files' facts, report fragments). glibc
    // hands blocks over 128 KiB straight back to the kernel, and every such unmap in a process with a
    // thread on each core costs a TLB shootdown on all of them; profiles showed that as a seventh of the
    // run. Keeping them in the heap for reuse removes it. (32 MiB is the largest threshold glibc accepts.)
    // In the shipped static executable mallopt is part of the binary, not an import.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    // One heap for all threads: with an arena per thread, each kept the room its own busiest moment
    // needed (freed memory is reused only by its arena), and the run's peak was their sum (86 MiB rather
    // than 71 over /usr). Small blocks come from each thread's own cache, so the lock costs no CPU time.
    mallopt(M_ARENA_MAX, 1);
#endif
    started = 1;
}
