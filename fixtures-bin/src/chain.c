/* A library that is fine itself but loads one that is not (libbad.so.1, beside it through $ORIGIN). */
int bad_flags(int fd);
int chain_flags(int fd) { return bad_flags(fd) + 1; }
