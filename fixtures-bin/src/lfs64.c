/* LFS64 names: stat64 and open64 are remapped by musl >= 1.2.4, posix_fallocate64 only from 1.2.6. */
#define _LARGEFILE64_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
    struct stat64 st;
    int fd = open64(argv[0], O_RDONLY);
    if (stat64(argv[0], &st) != 0) return 1;
    if (argc > 3) posix_fallocate64(fd, 0, 10);
    return fd < 0;
}
