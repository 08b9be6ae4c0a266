/* A bundled library that needs a rebuild: fcntl64 exists in neither musl nor Alpine's gcompat. */
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
int bad_flags(int fd) { return fcntl(fd, F_GETFL); }
