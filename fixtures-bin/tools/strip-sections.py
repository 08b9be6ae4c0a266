#!/usr/bin/env python3
"""Copy an ELF file without its section header table, as sstrip does: e_shoff, e_shnum and
e_shstrndx become 0 and the file ends where the last segment's bytes end."""
import struct, sys

src, dst = sys.argv[1], sys.argv[2]
data = bytearray(open(src, 'rb').read())
is64 = data[4] == 2
end = '<' if data[5] == 1 else '>'
if is64:
    phoff, = struct.unpack_from(end + 'Q', data, 0x20)
    phentsize, phnum = struct.unpack_from(end + 'HH', data, 0x36)
    struct.pack_into(end + 'Q', data, 0x28, 0)
    struct.pack_into(end + 'HH', data, 0x3C, 0, 0)
else:
    phoff, = struct.unpack_from(end + 'I', data, 0x1C)
    phentsize, phnum = struct.unpack_from(end + 'HH', data, 0x2A)
    struct.pack_into(end + 'I', data, 0x20, 0)
    struct.pack_into(end + 'HH', data, 0x30, 0, 0)
last = phoff + phentsize * phnum
for i in range(phnum):
    at = phoff + i * phentsize
    if is64:
        off, = struct.unpack_from(end + 'Q', data, at + 8)
        filesz, = struct.unpack_from(end + 'Q', data, at + 32)
    else:
        off, filesz = struct.unpack_from(end + 'I', data, at + 4)[0], struct.unpack_from(end + 'I', data, at + 16)[0]
    last = max(last, off + filesz)
open(dst, 'wb').write(data[:last])
