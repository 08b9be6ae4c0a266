/* Imports argp_parse from its own library (RUNPATH $ORIGIN/lib), not from libc, and printf from libc. */
#include <stdio.h>
int argp_parse(const void *argp, int argc, char **argv, unsigned flags, int *index, void *input);
int main(int argc, char **argv) { printf("x\n"); return argp_parse(0, argc, argv, 0, 0, 0); }
