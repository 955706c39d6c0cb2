/* Per-call authorization from AUTHZ_POLICY_FILE (a gRFC A43 policy),
 * re-read when the file changes, so a new policy needs no restart. */
#ifndef RT_AUTHZ_H
#define RT_AUTHZ_H

#include <grpc/grpc.h>

#include "authz_policy.h"
#include "status.h"

typedef struct rt_authz rt_authz;

/* policy_file NULL: every call is allowed. Else the file is loaded now and
 * checked for changes every reload_seconds; NULL with *error (malloc'd)
 * when the first load fails: a daemon never starts without its policy. */
rt_authz *rt_authz_create(const char *policy_file, int reload_seconds, char **error);
void rt_authz_destroy(rt_authz *authz);

/* OK when the policy allows the call; else UNAUTHENTICATED for a caller
 * without a certificate, PERMISSION_DENIED for one with, and a warning
 * line naming the policy and rule (the call's log context names the
 * caller). */
rt_status rt_authz_check(rt_authz *authz, const rt_authz_peer *peer, const char *path,
                         const grpc_metadata_array *headers);

#endif
