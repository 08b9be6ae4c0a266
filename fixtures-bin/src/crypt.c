/* NEEDED libcrypt.so.1: musl has crypt in libc, but the file name must exist (libc6-compat or gcompat). */
#include <crypt.h>
#include <stdio.h>
int main(void) { puts(crypt("secret", "$6$salt$")); return 0; }
