#include <zlib.h>
#include <lzma.h>
#include <zstd.h>
