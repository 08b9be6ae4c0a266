/* res_init is __res_init in glibc's headers, the import Rust's std makes: missing even with gcompat. */
#include <netinet/in.h>
#include <resolv.h>
int main(void) { return res_init(); }
