#include <zlib.h>
#include <lzma.h>
#include <zstd.h>
#if defined(__GLIBC__)
/* malloc_trim: the archive reader gives the heap's free room back before holding a large member. */
#include <malloc.h>
#endif
