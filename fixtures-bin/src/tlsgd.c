/* The same library with the default model for PIC code (general dynamic): musl can dlopen it. */
__thread int tls_counter;
int tls_bump(void) { return ++tls_counter; }
