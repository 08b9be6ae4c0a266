/* glibc-only functions: gnu_get_libc_version, error, backtrace, and a fortified printf (-O2 -D_FORTIFY_SOURCE=2). */
#include <stdio.h>
#include <error.h>
#include <execinfo.h>
#include <gnu/libc-version.h>
int main(int argc, char **argv) {
    void *frames[8];
    int n = backtrace(frames, 8);
    printf("glibc %s, %d frames, %s\n", gnu_get_libc_version(), n, argv[0]);
    if (argc > 5) error(1, 0, "too many arguments");
    return 0;
}
