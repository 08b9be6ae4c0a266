/* A Python-style extension module: loads libchain.so.1 from ../pkg.libs, which loads libbad.so.1. */
int chain_flags(int fd);
int PyInit_mod(void) { return chain_flags(0); }
