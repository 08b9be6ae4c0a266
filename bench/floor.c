/* The floor for muslcheck's reader: the least work it must do per file, in C on libelf, on one core. For
   every file: open, check the ELF magic, map it through libelf, walk the dynamic section, the version needs
   and every dynamic symbol (looking at each name), then close. Prints the totals so the work cannot be
   optimised away. Build: cc -O2 floor.c -lelf -lz -o floor
   Usage: floor [-a] DIR...   walks each directory itself (readdir's types, no stat, links not followed),
          floor [-a] < LIST   takes the files named on standard input, one per line, found beforehand.
   With -a it also does the least work the archives of a tree ask for: every zip (jar, wheel) is read and
   the first 262 bytes of each deflated member decoded with one reused zlib stream; every gzip file's first
   262 bytes are decoded. (muslcheck does more: nested archives, tar, xz and zstd, extraction.) */
#include <dirent.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static unsigned long members = 0, head_bytes = 0;

static unsigned u16(const unsigned char *p) { return p[0] | p[1] << 8; }
static unsigned u32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (unsigned)p[3] << 24; }

/* The first 262 decoded bytes of every deflated member of the zip open on fd (zip64 and damage: skipped). */
static void zip_heads(int fd, z_stream *z) {
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 22) return;
    size_t n = (size_t)st.st_size;
    unsigned char *b = malloc(n), out[262];
    if (!b) return;
    if (pread(fd, b, n, 0) != (ssize_t)n) { free(b); return; }
    long e = (long)n - 22;
    while (e >= 0 && e >= (long)n - 22 - 65535 && u32(b + e) != 0x06054b50) e--;
    if (e >= 0 && u32(b + e) == 0x06054b50) {
        size_t p = u32(b + e + 16), entries = u16(b + e + 10);
        for (size_t i = 0; i < entries && p + 46 <= n && u32(b + p) == 0x02014b50; i++) {
            size_t csize = u32(b + p + 20), local = u32(b + p + 42);
            size_t next = p + 46 + u16(b + p + 28) + u16(b + p + 30) + u16(b + p + 32);
            if (u16(b + p + 10) == 8 && local + 30 <= n) {
                size_t data = local + 30 + u16(b + local + 26) + u16(b + local + 28);
                if (data <= n && csize <= n - data) {
                    inflateReset(z);
                    z->next_in = b + data; z->avail_in = (uInt)csize; z->next_out = out; z->avail_out = sizeof out;
                    inflate(z, Z_SYNC_FLUSH);
                    members++; head_bytes += sizeof out - z->avail_out;
                }
            }
            p = next;
        }
    }
    free(b);
}

/* The first 262 decoded bytes of a gzip file, from its first 4 KiB. */
static void gzip_head(int fd) {
    unsigned char in[4096], out[262];
    ssize_t got = pread(fd, in, sizeof in, 0);
    if (got <= 0) return;
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 16) != Z_OK) return;
    z.next_in = in; z.avail_in = (uInt)got; z.next_out = out; z.avail_out = sizeof out;
    inflate(&z, Z_SYNC_FLUSH);
    members++; head_bytes += sizeof out - z.avail_out;
    inflateEnd(&z);
}

static int archives;
static z_stream zip_stream;
static unsigned long files = 0, needed = 0, symbols = 0, versions = 0, name_bytes = 0;

static void one_file(const char *path) {
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return;
    unsigned char magic[4];
    if (pread(fd, magic, 4, 0) != 4) { close(fd); return; }
    if (archives && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) zip_heads(fd, &zip_stream);
    if (archives && magic[0] == 0x1f && magic[1] == 0x8b && magic[2] == 8) gzip_head(fd);
    if (memcmp(magic, ELFMAG, 4) != 0) { close(fd); return; }
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (elf && elf_kind(elf) == ELF_K_ELF) {
        files++;
        Elf_Scn *scn = NULL;
        while ((scn = elf_nextscn(elf, scn)) != NULL) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh)) break;
            Elf_Data *data = elf_getdata(scn, NULL);
            if (!data) return;
            if (sh.sh_type == SHT_DYNAMIC) {
                GElf_Dyn dyn;
                for (int i = 0; gelf_getdyn(data, i, &dyn) && dyn.d_tag != DT_NULL; i++)
                    if (dyn.d_tag == DT_NEEDED) { needed++; name_bytes += strlen(elf_strptr(elf, sh.sh_link, dyn.d_un.d_val) ?: ""); }
            } else if (sh.sh_type == SHT_DYNSYM && sh.sh_entsize) {
                size_t n = sh.sh_size / sh.sh_entsize;
                GElf_Sym sym;
                for (size_t i = 1; i < n && gelf_getsym(data, (int)i, &sym); i++) {
                    symbols++;
                    const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
                    if (name) name_bytes += strlen(name);
                }
            } else if (sh.sh_type == SHT_GNU_verneed) {
                size_t off = 0;
                for (unsigned i = 0; i < sh.sh_info; i++) {
                    GElf_Verneed vn;
                    if (!gelf_getverneed(data, (int)off, &vn)) break;
                    size_t aux = off + vn.vn_aux;
                    for (unsigned j = 0; j < vn.vn_cnt; j++) {
                        GElf_Vernaux va;
                        if (!gelf_getvernaux(data, (int)aux, &va)) break;
                        versions++;
                        aux += va.vna_next;
                        if (!va.vna_next) break;
                    }
                    if (!vn.vn_next) break;
                    off += vn.vn_next;
                }
            }
        }
    }
    if (elf) elf_end(elf);
    close(fd);
}

/* Every regular file under dir, by readdir's types (stat only when the file system gives none). */
static void walk(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d || depth > 128) { if (d) closedir(d); return; }
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st;
            if (lstat(path, &st) != 0) continue;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        if (type == DT_DIR) walk(path, depth + 1);
        else if (type == DT_REG) one_file(path);
    }
    closedir(d);
}

int main(int argc, char **argv) {
    int first = 1;
    archives = argc > 1 && strcmp(argv[1], "-a") == 0;
    if (archives) first = 2;
    if (archives && inflateInit2(&zip_stream, -15) != Z_OK) return 1;
    elf_version(EV_CURRENT);
    if (first < argc) {
        for (int i = first; i < argc; i++) walk(argv[i], 0);
    } else {
        char path[4096];
        while (fgets(path, sizeof path, stdin)) {
            path[strcspn(path, "\n")] = 0;
            one_file(path);
        }
    }
    printf("%lu files, %lu needed, %lu symbols, %lu versions, %lu name bytes", files, needed, symbols, versions, name_bytes);
    if (archives) printf("; %lu archive members' first %lu bytes", members, head_bytes);
    printf("\n");
    return 0;
}
