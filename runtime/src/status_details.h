/* google.rpc.Status details for failed calls: the grpc-status-details-bin
 * trailer that grpcurl, buf curl and the google.rpc client libraries decode.
 * The plain status message stays the readable summary. */
#ifndef RT_STATUS_DETAILS_H
#define RT_STATUS_DETAILS_H

#include <grpc/grpc.h>

#include "arena.h"
#include "violations.h"

#define RT_STATUS_DETAILS_KEY "grpc-status-details-bin"
#define RT_BAD_REQUEST_TYPE_URL "type.googleapis.com/google.rpc.BadRequest"

/* A serialized google.rpc.Status{code, message, details: [Any(BadRequest)]}
 * with one field violation per item of v; the caller unrefs the slice. */
grpc_slice rt_status_details_bad_request(rt_arena *arena, grpc_status_code code, const char *message,
                                         const rt_violations *v);

#endif
