/* A GNU indirect function in a PIE executable: the linker writes an IRELATIVE relocation musl cannot process. */
#include <stdio.h>
static int impl(void) { return 7; }
static int (*resolve(void))(void) { return impl; }
int pick(void) __attribute__((ifunc("resolve")));
int main(void) { printf("%d\n", pick()); return 0; }
