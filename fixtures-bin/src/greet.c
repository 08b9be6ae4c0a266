/* A versioned shared library (see greet.map) with a SONAME. */
#include <stdio.h>
int greet(const char *who) { return printf("hi %s\n", who); }
int greet_loudly(const char *who) { return printf("HI %s!\n", who); }
