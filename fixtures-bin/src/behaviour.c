/* Imports behind every behaviour rule: threads without a stack size, DNS, NSS, locale, iconv, regex,
   getopt, dlclose, utmp, GNU strerror_r, malloc tuning, local time. It never runs; it only links. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <iconv.h>
#include <locale.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

static void *work(void *arg) { return arg; }

int main(int argc, char **argv) {
    pthread_t t;
    pthread_create(&t, 0, work, 0);
    struct addrinfo *ai;
    getaddrinfo("localhost", 0, 0, &ai);
    struct passwd *pw = getpwnam("root");
    setlocale(LC_ALL, "");
    iconv_t cd = iconv_open("ASCII//TRANSLIT", "UTF-8");
    regex_t re; regmatch_t m[2];
    regcomp(&re, "a(b)", REG_EXTENDED);
    regexec(&re, "ab", 2, m, 0);
    int opt = getopt(argc, argv, "v");
    void *h = dlopen("libz.so.1", RTLD_NOW);
    if (h) dlclose(h);
    struct utmpx *u = getutxent();
    char buf[64];
    char *msg = strerror_r(2, buf, sizeof buf);
    mallopt(M_ARENA_MAX, 2);
    time_t now = time(0);
    struct tm tm;
    localtime_r(&now, &tm);
    printf("%p %p %p %d %p %s %d\n", (void *)pw, (void *)cd, (void *)u, opt, (void *)ai, msg, tm.tm_hour);
    pthread_join(t, 0);
    return 0;
}
