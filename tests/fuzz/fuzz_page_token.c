/* The page-token decoder and the secret-file parser (page_token.c,
 * page_token_keys.c): any text as a token for a fixed wallet under fixed
 * keys, and the same bytes as a secret file (the seeds hold tokens sealed
 * with those keys, tests/fuzz/make_corpus.js). A token sealed from the
 * input's bytes always opens to its position, for its scope only. */
#include "fuzz_input.h"
#include "page_token_seal.h"

#define SCOPE "ListTransactions:0b9c5b3e-6d0a-4c4e-9a57-2f1d0c3b4a59"
#define SECRET "fuzz-secret-0123456789abcdefghijklmnopqrstuvwxyz"
#define NOW 1800000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_page_token_keys keys, parsed;
    char error[256];
    if (!rt_page_token_keys_parse(SECRET, strlen(SECRET), 86400, &keys, error, sizeof error))
        abort();
    if (rt_page_token_keys_parse((const char *)data, size, 86400, &parsed, error, sizeof error) &&
        (parsed.n_keys < 1 || parsed.n_keys > 2))
        abort();
    const uint8_t *rest = data;
    size_t left = size;
    char *token = fuzz_take(&rest, &left, '\0');
    int64_t position = 0;
    rt_page_token_open(&keys, SCOPE, token, NOW, &position);
    free(token);
    int64_t wanted = 0;
    memcpy(&wanted, data, size < sizeof wanted ? size : sizeof wanted);
    rt_arena *arena = rt_arena_new(256);
    const char *sealed = rt_page_token_seal(arena, &keys, SCOPE, wanted, NOW);
    if (rt_page_token_open(&keys, SCOPE, sealed, NOW + 1, &position) != RT_PAGE_TOKEN_OK || position != wanted ||
        rt_page_token_open(&keys, SCOPE "0", sealed, NOW, &position) != RT_PAGE_TOKEN_INVALID)
        abort();
    rt_arena_free(arena);
    return 0;
}
