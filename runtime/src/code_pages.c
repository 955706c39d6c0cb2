/* Library pages the daemon mapped but does not use (code_pages.h).
 *
 * Of ~20 MiB resident under load, ~16 MiB were pages of shared libraries
 * (libgrpc alone 5.3 MiB): the kernel maps a file's pages around each fault
 * (fault-around) and reads ahead, so most of those pages were never run or
 * read. Once the daemon serves, every mapping of a file that this process
 * never wrote (no private dirty or anonymous page: the relocated data stays
 * untouched) is marked MADV_RANDOM and its pages are unmapped from this
 * process with MADV_DONTNEED. They stay in the page cache; the code and
 * data actually used fault back in, a page at a time. Nothing changes but
 * the count of pages this process holds. */
#include "code_pages.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* Drops one mapping's pages when it is a file's and holds nothing of ours. */
static size_t drop(unsigned long start, unsigned long end, long dirty_kb, long anon_kb, long rss_kb, bool file)
{
    if (!file || dirty_kb != 0 || anon_kb != 0 || rss_kb == 0)
        return 0;
    void *p = (void *)start;
    if (madvise(p, end - start, MADV_RANDOM) != 0 || madvise(p, end - start, MADV_DONTNEED) != 0)
        return 0;
    return (size_t)rss_kb;
}

size_t rt_code_pages_trim(void)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    if (!f)
        return 0;
    char line[512];
    unsigned long start = 0, end = 0;
    long dirty = -1, anon = -1, rss = 0;
    bool file = false, have = false;
    size_t dropped = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char perms[8];
        long kb;
        if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) == 3 && strchr(line, '-') < strchr(line, ' ')) {
            if (have)
                dropped += drop(start, end, dirty, anon, rss, file);
            /* "start-end perms offset dev inode path": a file has a path that
             * is no pseudo-mapping ([heap], [stack], [vdso], ...) */
            const char *path = strchr(line, '/');
            start = a, end = b, dirty = -1, anon = -1, rss = 0, have = true;
            file = path && perms[3] == 'p' && perms[1] != 'w';
        } else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
            rss = kb;
        } else if (sscanf(line, "Private_Dirty: %ld kB", &kb) == 1) {
            dirty = kb;
        } else if (sscanf(line, "Anonymous: %ld kB", &kb) == 1) {
            anon = kb;
        }
    }
    if (have)
        dropped += drop(start, end, dirty, anon, rss, file);
    fclose(f);
    return dropped;
}
