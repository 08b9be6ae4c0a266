/* Needs a recent glibc: arc4random (GLIBC_2.36) and fcntl64 (GLIBC_2.28, from _FILE_OFFSET_BITS=64). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int flags = fcntl(0, F_GETFL);
    printf("%u %d\n", arc4random(), flags);
    return 0;
}
