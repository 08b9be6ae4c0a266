/* Weak references never block loading; a glibc-only one silently turns a feature off on musl. */
#include <stdio.h>
extern const char *gnu_get_libc_version(void) __attribute__((weak));
int main(void) {
    if (gnu_get_libc_version) printf("%s\n", gnu_get_libc_version());
    return 0;
}
