/* Who is calling: the verified client certificate of a call's connection,
 * read from the core's auth context, for the policy and for logs. */
#ifndef RT_TLS_PEER_H
#define RT_TLS_PEER_H

#include <grpc/grpc.h>

#include "arena.h"
#include "authz_policy.h"

/* Fills *peer with strings copied into arena (all empty on plaintext). */
void rt_tls_peer_of(grpc_call *call, rt_arena *arena, rt_authz_peer *peer);

#endif
