/* Opens each library named on the command line the way a plugin host does, and says what happened. */
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        if (dlopen(argv[i], RTLD_NOW)) printf("loaded %s\n", argv[i]);
        else { printf("refused %s: %s\n", argv[i], dlerror()); failed = 1; }
    }
    return failed;
}
