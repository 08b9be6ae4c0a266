/* A library with no RPATH/RUNPATH of its own that loads libgreet.so.1: musl finds it with the search path
   of what loads this library (see relayapp.c). */
int greet(const char *who);
int relay(const char *who) { return greet(who); }
