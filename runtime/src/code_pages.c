/* Library code the daemon mapped but does not run (code_pages.h).
 *
 * Of ~20 MiB resident under load, ~16 MiB were pages of shared libraries
 * (libgrpc alone 5.3 MiB): the kernel maps a file's pages around each fault
 * (fault-around, 16 pages) and reads ahead, so most of those pages were
 * never run. Once the daemon serves, every executable, read-only private
 * mapping of a file (library code: never written, there are no text
 * relocations on x86-64) is marked MADV_RANDOM and its pages are unmapped
 * from this process with MADV_DONTNEED. They stay in the page cache; the
 * code actually run faults back in. Writable and read-only data mappings
 * (relocated data lives in the latter once the loader re-protects it) are
 * never touched, and /proc/self/maps, unlike smaps, costs no page walk, so
 * a tick costs ~0.1 ms plus the re-faults. */
#include "code_pages.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

size_t rt_code_pages_trim(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return 0;
    char line[512];
    size_t dropped = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end;
        char perms[8];
        /* "start-end perms offset dev inode path": a file has a path that is no
         * pseudo-mapping ([vdso], [vsyscall], ...), which never starts with '/' */
        if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || strcmp(perms, "r-xp") != 0 ||
            !strchr(line, '/'))
            continue;
        void *p = (void *)start;
        if (madvise(p, end - start, MADV_RANDOM) == 0 && madvise(p, end - start, MADV_DONTNEED) == 0)
            dropped += (end - start) / 1024;
    }
    fclose(f);
    return dropped;
}
