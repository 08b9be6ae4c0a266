/* A private library that defines a name glibc also exports (as man-db's libman does with argp_parse),
   without symbol versions: programs linked against it import the name unversioned. */
int argp_parse(const void *argp, int argc, char **argv, unsigned flags, int *index, void *input) {
    (void)argp; (void)argv; (void)flags; (void)index; (void)input; return argc;
}
