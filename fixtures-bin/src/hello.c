/* The smallest libc user: one printf. Built for every libc, linkage and architecture. */
#include <stdio.h>
int main(void) { printf("hello %d\n", 42); return 0; }
