/* Dropping unused library code pages: something is dropped, code still
 * runs afterwards, and private file mappings this process wrote keep what
 * it wrote (dropping them would silently revert a page to the file's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "code_pages.h"

static void drops_pages_and_code_still_runs(void **state)
{
    (void)state;
    assert_true(rt_code_pages_trim() > 0);
    char buf[64];
    snprintf(buf, sizeof buf, "%d-%s", 42, "after"); /* libc's pages fault back in */
    assert_string_equal(buf, "42-after");
}

static void written_private_mappings_are_kept(void **state)
{
    (void)state;
    char path[] = "/tmp/test_code_pages.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    long page = sysconf(_SC_PAGESIZE);
    char *zeros = calloc(1, (size_t)page * 2);
    assert_int_equal(write(fd, zeros, (size_t)page * 2), page * 2);
    free(zeros);
    /* Private mappings of the same file: one written to and made read-only
     * (as the loader does for relocated data), one written to and left
     * writable, one only read. */
    char *written = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    char *writable = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    char *read_only = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE, fd, page);
    assert_true(written != MAP_FAILED && writable != MAP_FAILED && read_only != MAP_FAILED);
    strcpy(written, "relocated");
    strcpy(writable, "data");
    assert_int_equal(mprotect(written, (size_t)page, PROT_READ), 0);
    assert_int_equal(read_only[0], 0);
    rt_code_pages_trim();
    assert_string_equal(written, "relocated");
    assert_string_equal(writable, "data");
    assert_int_equal(read_only[0], 0);
    munmap(writable, (size_t)page);
    munmap(written, (size_t)page);
    munmap(read_only, (size_t)page);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drops_pages_and_code_still_runs),
        cmocka_unit_test(written_private_mappings_are_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
