/* Linked against the glibc loader itself (NEEDED ld-linux-x86-64.so.2): only gcompat's loader answers to that name. */
#include <stdio.h>
int main(void) { puts("ldso"); return 0; }
