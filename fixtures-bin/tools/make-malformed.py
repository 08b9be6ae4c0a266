#!/usr/bin/env python3
"""Derive damaged files from one ELF64 little-endian fixture: truncations, offsets past the end,
counts that lie, and version chains that wrap around. Each must give an error or a gap, never a crash."""
import os, struct, sys

src, outdir = sys.argv[1], sys.argv[2]
base = open(src, 'rb').read()
assert base[4] == 2 and base[5] == 1, 'expects ELF64 little-endian'

def write(name, data):
    open(os.path.join(outdir, name), 'wb').write(bytes(data))

def u16(d, o): return struct.unpack_from('<H', d, o)[0]
def u32(d, o): return struct.unpack_from('<I', d, o)[0]
def u64(d, o): return struct.unpack_from('<Q', d, o)[0]

phoff, shoff = u64(base, 0x20), u64(base, 0x28)
phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from('<HHHHH', base, 0x36)

def sections(d):
    names_off = u64(d, shoff + shstrndx * shentsize + 24)
    for i in range(shnum):
        at = shoff + i * shentsize
        name_at = names_off + u32(d, at)
        name = d[name_at:d.index(b'\0', name_at)].decode()
        yield name, at, u64(d, at + 24), u64(d, at + 32)

secs = {name: (at, off, size) for name, at, off, size in sections(base)}
def phdr(kind):
    for i in range(phnum):
        at = phoff + i * phentsize
        if u32(base, at) == kind:
            return at

d = bytearray(base); write('empty', b'')
write('magic-only', base[:4])
write('truncated-ehdr', base[:40])
write('truncated-phdrs', base[:phoff + phentsize * 2 + 7])
write('truncated-half', base[:len(base) // 2])
write('garbage-after-magic', base[:16] + bytes((i * 37 + 11) % 256 for i in range(2000)))
d = bytearray(base); struct.pack_into('<Q', d, 0x20, 0xFFFFFFFFFFFF0000); write('phoff-past-end', d)
d = bytearray(base); struct.pack_into('<Q', d, 0x28, 0x7FFFFFFF0000); write('shoff-past-end', d)
d = bytearray(base); struct.pack_into('<H', d, 0x38, 0xFFFF); write('phnum-huge', d)
d = bytearray(base); struct.pack_into('<Q', d, phdr(2) + 8, 0x10000000); write('dynamic-past-end', d)
d = bytearray(base); struct.pack_into('<Q', d, phdr(2) + 32, 0xFFFFFFFFFFFF); write('dynamic-size-huge', d)
at, off, size = secs['.gnu.version_r']
d = bytearray(base); struct.pack_into('<H', d, off + 2, 0xFFFF); write('verneed-count-huge', d)
d = bytearray(base); struct.pack_into('<I', d, off + 12, 0xFFFFFFF0); write('verneed-next-wraps', d)
aux = off + u32(base, off + 8)
d = bytearray(base); struct.pack_into('<I', d, aux + 12, 0xFFFFFFF0); write('vernaux-next-wraps', d)
d = bytearray(base); struct.pack_into('<I', d, aux + 8, 0xFFFFFF); write('vernaux-name-past-strtab', d)
at, off, size = secs['.gnu.version']
d = bytearray(base); struct.pack_into('<Q', d, at + 24, 0xFFFFFFFF0); write('versym-past-end', d)
at, off, size = secs['.dynsym']
d = bytearray(base); struct.pack_into('<Q', d, at + 32, 0xFFFFFFFFFFFF0); write('dynsym-size-huge', d)
d = bytearray(base); struct.pack_into('<Q', d, at + 56, 0); write('dynsym-entsize-zero', d)
at, off, size = secs['.dynstr']
d = bytearray(base); d[off:off + size] = b'A' * size; write('dynstr-unterminated', d)

# Found by the corruption test: a DT_RELACOUNT so large that multiplying it by the entry size overflowed.
d = bytearray(base)
dyn_off = u64(base, phdr(2) + 8); dyn_size = u64(base, phdr(2) + 32)
for i in range(dyn_size // 16):
    at = dyn_off + 16 * i
    if u64(d, at) == 0x6ffffff9:  # DT_RELACOUNT
        struct.pack_into('<Q', d, at + 8, 0x7FFFFFFFFFFFFFFF)
        break
else:
    raise SystemExit('hello-glibc has no DT_RELACOUNT')
write('relacount-huge', d)
