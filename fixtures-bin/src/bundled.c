/* A program shipped with its own libraries in ../lib (RUNPATH $ORIGIN/../lib), like a wheel's pkg.libs. */
int greet(const char *who);
int bad_flags(int fd);
int main(void) { greet("bundle"); return bad_flags(0) < 0; }
