/* page_token.h's two calls with the keys and the clock as arguments, for
 * the unit tests and the fuzz target (page_token.c). */
#ifndef RT_PAGE_TOKEN_SEAL_H
#define RT_PAGE_TOKEN_SEAL_H

#include "page_token.h"
#include "page_token_keys.h"

const char *rt_page_token_seal(rt_arena *arena, const rt_page_token_keys *keys, const char *scope,
                               int64_t position, int64_t now);
rt_page_token_result rt_page_token_open(const rt_page_token_keys *keys, const char *scope, const char *token,
                                        int64_t now, int64_t *position);

#endif
