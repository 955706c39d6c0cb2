/* DATABASE_URL handling (db_url.c): describing any URL or conninfo for the
 * logs, and the rewrite of Prisma URLs for libpq: there is always a
 * description, and a second rewrite leaves a rewritten URL as it is. */
#include <stdio.h>

#include "db_url.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_take(&data, &size, '\0');
    char *described = rt_db_describe_url(url);
    if (!described)
        abort();
    free(described);
    char *search_path = NULL;
    char *rewritten = rt_db_url_for_libpq(url, &search_path);
    if (rewritten) {
        char *again_path = NULL;
        char *again = rt_db_url_for_libpq(rewritten, &again_path);
        if (!again || strcmp(again, rewritten) != 0) {
            fprintf(stderr, "rewriting '%s' twice gives '%s'\n", rewritten, again ? again : "(null)");
            abort();
        }
        free(again);
        free(again_path);
    }
    free(rewritten);
    free(search_path);
    free(url);
    return 0;
}
