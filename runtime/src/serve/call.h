/* One server call from the moment gRPC hands it over until its answer is
 * sent: internals shared by server.c (which requests calls), call.c (which
 * serves them), executor.c (which runs them) and client.c (which makes
 * peer calls on their behalf). */
#ifndef RT_CALL_H
#define RT_CALL_H

#include <grpc/grpc.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "authz.h"
#include "peers.h"
#include "service.h"
#include "trace.h"

/* What completes on the server's queue: a call (arriving or finishing),
 * a fiber's wait (executor.h) or a wake (cq_wake.h). Each struct begins
 * with its kind. */
typedef enum { RT_TAG_CALL = 1, RT_TAG_WAIT, RT_TAG_CLOSE, RT_TAG_WAKE } rt_tag_kind;

typedef struct rt_executor rt_executor;

/* What the serving loop (executor.h) lends the call it serves. */
typedef struct {
    rt_db *db;             /* the fiber's own view of the shared sessions */
    rt_executor *executor; /* peer calls complete through it */
} rt_fiber_ctx;

/* A free list of call states, so steady traffic reuses arenas; it keeps
 * at most RT_CALL_CACHE_MAX, so a burst's calls are freed after it. */
#define RT_CALL_CACHE_MAX 256
typedef struct rt_call_cache rt_call_cache;

struct rt_call {
    rt_tag_kind kind; /* RT_TAG_CALL */
    rt_call *next_free;
    rt_call_cache *cache;
    bool finishing; /* the final batch is started: its completion is next */

    /* Filled by whoever requested the call (server.c). */
    const rt_method *method; /* NULL for a generic slot: unknown method */
    void *registered;        /* gRPC handle of method */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array request_md;
    grpc_call_details details; /* generic slots only */
    grpc_byte_buffer *payload;
    gpr_timespec started; /* arrival, monotonic */
    int depth;            /* x-call-depth: 1+ from the verified peer (admission.h), else 0 */
    gpr_timespec give_up; /* refused if still waiting for a fiber then */

    /* Serving. */
    rt_arena *arena;
    rt_fiber_ctx *fiber; /* lent by the fiber serving it */
    const rt_peers *peers;
    const char *request_id;
    const char *log_name;
    const char *identity; /* the caller's certificate, for logs (tls_peer.h) */
    rt_trace trace;       /* W3C trace context; its server span */
    rt_authz *authz;
    rt_status status;

    /* The final batch; must stay valid until it completes. x-request-id,
     * then idempotent-replayed when the handler replayed a stored outcome. */
    grpc_metadata reply_md[2];
    bool replayed;
    grpc_byte_buffer *reply;
    grpc_slice status_details;
    /* grpc-status-details-bin (google.rpc.Status) when there is one. */
    grpc_metadata trailer;
    size_t n_trailers;
    int client_cancelled;

    /* Cancellation watch (issue 19, 8): a RECV_CLOSE_ON_SERVER batch of its
     * own, started when the call first waits (rt_call_watch), completes as
     * soon as the caller cancels (or goes away), not only with the answer.
     * Its tag is close_kind (RT_TAG_CLOSE). A call answered without waiting
     * never starts it: its final batch carries RECV_CLOSE_ON_SERVER. The
     * call is released when the batches it started have completed:
     * `pending` counts them. */
    rt_tag_kind close_kind;
    bool watching;
    atomic_int pending;
    bool final_ok;
    atomic_bool caller_gone; /* read by the database layer (rt_db_set_cancelled) */
};

rt_call_cache *rt_call_cache_create(const rt_peers *peers, rt_authz *authz);
/* Frees every cached call; all calls must have been released. */
void rt_call_cache_destroy(rt_call_cache *cache);
/* A call state ready to be passed to grpc_server_request_*call. */
rt_call *rt_call_acquire(rt_call_cache *cache);
/* Back to the cache, releasing everything gRPC handed over. */
void rt_call_release(rt_call *call);

/* Serves a call that arrived: decode, validate, invoke, and start the
 * final batch tagged with the call (finishing = true). Runs in a fiber.
 * False when the batch could not start: the call is then already complete. */
bool rt_call_serve(rt_call *call, rt_fiber_ctx *fiber);
/* Answers a call unserved with code and message (any thread), e.g.
 * RESOURCE_EXHAUSTED under overload; rt_call_serve's return contract. */
bool rt_call_refuse(rt_call *call, grpc_status_code code, const char *message);
/* The call's fiber waits (for the database, a peer) before its answer:
 * starts its cancellation watch, once, so a caller that cancels or goes
 * away meanwhile stops that wait. Called by the serving loop whenever the
 * fiber yields; a call answered at once (a health check, a refusal, a
 * request that fails validation) never pays for the watch's batch. */
void rt_call_watch(rt_call *call);
/* A batch of the call completed on the polling thread: the final one
 * (finishing), or its cancellation watch (tag: &call->close_kind, see
 * rt_call_of_close). True when that was the last one: the call was logged
 * and released. When the watch says the caller cancelled while the call
 * is served, the database layer stops waiting for it (db.h): the serving
 * loop, which took this completion, looks again at its next turn. */
bool rt_call_completed(rt_call *call, void *tag, bool ok);
rt_call *rt_call_of_close(void *tag);

/* The caller's x-request-id when it is short, visible ASCII (it is echoed
 * into logs and metadata), else a fresh UUID; streams use it too. */
#define RT_REQUEST_ID_MAX 128
void rt_request_id_of(const grpc_metadata_array *md, char out[RT_REQUEST_ID_MAX + 1]);

/* The x-call-depth a peer call carries: how many calls stand between it
 * and a caller (0 when absent or not a small number). */
#define RT_CALL_DEPTH_KEY "x-call-depth"
int rt_call_depth_of(const grpc_metadata_array *md);

/* The call's log and trace context is this thread's now (its fiber
 * runs); NULL clears it. */
void rt_call_enter(rt_call *call);

/* "CreateUser", or the path of an unknown method, for logs. */
const char *rt_call_method_name(rt_call *call);
/* The caller's verified certificate identity, for logs; NULL when none. */
const char *rt_call_identity(rt_call *call);

#endif
