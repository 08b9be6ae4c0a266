/* Links against libgreet.so.1, found through RPATH or RUNPATH with $ORIGIN. */
int greet(const char *who);
int greet_loudly(const char *who);
int main(void) { greet("a"); return greet_loudly("b") < 0; }
