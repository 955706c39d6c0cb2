/* What a generated service hands the runtime: its methods (path, message
 * types, validator, typed-handler shim), the peers it calls, the statements
 * it prepares and its descriptor set. The runtime knows nothing else about
 * users or wallets. */
#ifndef RT_SERVICE_H
#define RT_SERVICE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "background.h"
#include "db.h"
#include "descriptor_index.h"
#include "log.h"
#include "status.h"
#include "violations.h"

/* One call in flight, owned by the server; handlers only ask it things. */
typedef struct rt_call rt_call;

rt_arena *rt_call_arena(rt_call *call);
/* The call's view of the daemon's shared database sessions (db.h): its
 * statements run from the handler's fiber, bounded by the call's deadline. */
rt_db *rt_call_db(rt_call *call);
/* The x-request-id of the call (received or generated); never NULL. */
const char *rt_call_request_id(rt_call *call);
/* The answer is a stored outcome replayed for a repeated idempotency key:
 * the caller sees `idempotent-replayed: true` in the response metadata. */
void rt_call_set_replayed(rt_call *call);
/* What the call asks for, as stored with its operation (idempotency.h). */
const char *rt_call_fingerprint(rt_call *call, const ProtobufCMessage *request);
/* The id of the operation key names for this call's caller (its
 * certificate identity; the anonymous scope without one) and method (a
 * path; NULL: the call's own): rt_idempotency_scoped_id. */
const char *rt_call_operation_id(rt_call *call, const char *method, const char *key);
/* INVALID_ARGUMENT about one field, with its google.rpc.BadRequest. */
rt_status rt_call_invalid_field(rt_call *call, const char *field, const char *description);
/* Statements the handler runs from now on are no longer bound by the
 * caller's deadline (nor stopped by its cancelling) but by budget_ms from
 * now: for work that must happen whatever became of the caller (a
 * compensation), yet never unbounded. */
void rt_call_detach_deadline(rt_call *call, int budget_ms);
/* A handler's own log line about its call (method, request id and caller's
 * identity as keys), e.g. a failed compensation. */
void rt_log_call_event(rt_call *call, rt_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef rt_status (*rt_invoke_fn)(rt_call *call, const ProtobufCMessage *request,
                                  ProtobufCMessage **response);
typedef void (*rt_validate_fn)(const ProtobufCMessage *request, rt_violations *out);

typedef struct {
    const char *path; /* "/user.UserService/CreateUser" */
    const char *name; /* "CreateUser" */
    const ProtobufCMessageDescriptor *request_type;
    const ProtobufCMessageDescriptor *response_type;
    rt_validate_fn validate; /* NULL when the request has no rules */
    rt_invoke_fn invoke;
} rt_method;

/* A service reachable at an address taken from an environment variable. */
typedef struct {
    const char *service_name;    /* "wallet.WalletService" */
    const char *address_env;     /* "WALLET_SERVICE_URL" */
    const char *default_address; /* "0.0.0.0:50052" */
} rt_endpoint;

typedef struct {
    const char *daemon_name; /* "user-service": logs, --help */
    rt_endpoint self;
    const rt_method *methods;
    size_t n_methods;
    const rt_endpoint *peers;
    size_t n_peers;
    const rt_db_statement *statements;
    size_t n_statements;
    const rt_descriptor_index *descriptors; /* served through reflection */
    /* The largest valid request of its methods, computed from their rules by
     * codegen/request_size.lua (0: some field has no bound); the default
     * receive limit grows to fit it (config.c). */
    size_t largest_request_bytes;
    /* What the daemon runs besides its methods, NULL-terminated (at most
     * RT_MAX_TASKS): the list its handlers define (<service>__tasks), each
     * task's first run as soon as the daemon serves. NULL: none. */
    const rt_task_def *const *tasks;
} rt_service;

#endif
