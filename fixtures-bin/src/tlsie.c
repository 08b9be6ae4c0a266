/* A library whose thread-local counter is reached with initial-exec accesses. */
__attribute__((tls_model("initial-exec"))) __thread int tls_counter;
static __attribute__((tls_model("initial-exec"))) __thread int tls_hidden;
int tls_bump(void) { tls_hidden++; return ++tls_counter; }
