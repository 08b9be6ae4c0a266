/* The floor for muslcheck's reader: the least work it must do per file, in C on libelf. For every file
   named on standard input (one path per line): open, check the ELF magic, map it through libelf, walk the
   dynamic section, the version needs and every dynamic symbol (looking at each name), then close.
   Prints the totals so the work cannot be optimised away. Build: cc -O2 floor.c -lelf -o floor */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char path[4096];
    unsigned long files = 0, needed = 0, symbols = 0, versions = 0, name_bytes = 0;
    elf_version(EV_CURRENT);
    while (fgets(path, sizeof path, stdin)) {
        path[strcspn(path, "\n")] = 0;
        int fd = open(path, O_RDONLY | O_NONBLOCK);
        if (fd < 0) continue;
        unsigned char magic[4];
        if (pread(fd, magic, 4, 0) != 4 || memcmp(magic, ELFMAG, 4) != 0) { close(fd); continue; }
        Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
        if (elf && elf_kind(elf) == ELF_K_ELF) {
            files++;
            Elf_Scn *scn = NULL;
            while ((scn = elf_nextscn(elf, scn)) != NULL) {
                GElf_Shdr sh;
                if (!gelf_getshdr(scn, &sh)) break;
                Elf_Data *data = elf_getdata(scn, NULL);
                if (!data) continue;
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
    printf("%lu files, %lu needed, %lu symbols, %lu versions, %lu name bytes\n", files, needed, symbols, versions, name_bytes);
    return 0;
}
