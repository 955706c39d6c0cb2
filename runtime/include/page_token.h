/* Page tokens for keyset paging (AIP-158): opaque to clients, bound to what
 * they page (a scope such as "ListTransactions:<user id>") and checked, so
 * a token edited by hand, cut short or taken from another wallet's listing
 * is refused instead of paging from somewhere arbitrary. The check is a
 * digest, not a secret: forging one gains nothing a plain request with
 * another position could not ask for. */
#ifndef RT_PAGE_TOKEN_H
#define RT_PAGE_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"

/* The token that resumes scope after position, in the arena (URL-safe text). */
const char *rt_page_token_encode(rt_arena *arena, const char *scope, int64_t position);
/* The position token resumes after; false when it is not one this scope made. */
bool rt_page_token_decode(const char *scope, const char *token, int64_t *position);

#endif
