/* Page tokens for keyset paging (AIP-158), keyed with the deployment's
 * secret (PAGE_TOKEN_SECRET_FILE, docs/security.md): a token is the
 * position and its issue time encrypted and authenticated (AES-256-GCM)
 * under a key of that secret, bound to what it pages (a scope such as
 * "ListTransactions:<user id>"). A client learns nothing from one (not the
 * ledger's platform-wide entry number), cannot make one for another
 * position or wallet, and a token older than PAGE_TOKEN_TTL is refused. Every
 * replica configured with the same secret accepts the others' tokens; the
 * previous secret is still accepted after a rotation. */
#ifndef RT_PAGE_TOKEN_H
#define RT_PAGE_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"

typedef enum {
    RT_PAGE_TOKEN_OK,
    RT_PAGE_TOKEN_INVALID, /* not a token this deployment made for this scope */
    RT_PAGE_TOKEN_EXPIRED, /* one it made, older than PAGE_TOKEN_TTL */
} rt_page_token_result;

/* The token that resumes scope after position, in the arena (URL-safe text). */
const char *rt_page_token_encode(rt_arena *arena, const char *scope, int64_t position);
/* The position token resumes after (*position set only on RT_PAGE_TOKEN_OK). */
rt_page_token_result rt_page_token_decode(const char *scope, const char *token, int64_t *position);

#endif
