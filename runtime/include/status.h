/* The result of every runtime, repository and handler step: a gRPC status code
 * and a message meant for the caller (never SQL text or secrets). */
#ifndef RT_STATUS_H
#define RT_STATUS_H

#include <grpc/status.h>
#include <stdbool.h>

typedef struct {
    grpc_status_code code;
    const char *message; /* static or arena-owned; NULL when code is OK */
} rt_status;

#define RT_OK ((rt_status){GRPC_STATUS_OK, NULL})

static inline rt_status rt_status_of(grpc_status_code code, const char *message)
{
    return (rt_status){code, message};
}

static inline bool rt_ok(rt_status s)
{
    return s.code == GRPC_STATUS_OK;
}

/* "OK", "INVALID_ARGUMENT", ... as grpc-status names them; for logs and metrics. */
const char *rt_status_code_name(grpc_status_code code);

#endif
