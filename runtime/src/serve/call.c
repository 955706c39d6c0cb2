/* Serving one call (call.h): the steps every method shares, in the order
 * that makes cheap refusals cheap — deadline, decode, validate — then the
 * handler, then a single batch carrying metadata, message and status. */
#include "call.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "deadline.h"
#include "idempotency.h"
#include "log.h"
#include "metrics.h"
#include "status_details.h"
#include "tls_peer.h"
#include "uuid.h"

/* Most calls fit their arena's first block and never touch malloc again. */
#define RT_CALL_ARENA_BLOCK 8192

struct rt_call_cache {
    pthread_mutex_t lock;
    rt_call *free;
    size_t n_free;
    const rt_peers *peers;
    rt_authz *authz;
};

rt_call_cache *rt_call_cache_create(const rt_peers *peers, rt_authz *authz)
{
    rt_call_cache *cache = calloc(1, sizeof *cache);
    if (!cache)
        abort();
    pthread_mutex_init(&cache->lock, NULL);
    cache->peers = peers;
    cache->authz = authz;
    return cache;
}

void rt_call_cache_destroy(rt_call_cache *cache)
{
    if (!cache)
        return;
    while (cache->free) {
        rt_call *c = cache->free;
        cache->free = c->next_free;
        rt_arena_free(c->arena);
        free(c);
    }
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

rt_call *rt_call_acquire(rt_call_cache *cache)
{
    pthread_mutex_lock(&cache->lock);
    rt_call *c = cache->free;
    if (c) {
        cache->free = c->next_free;
        cache->n_free--;
    }
    pthread_mutex_unlock(&cache->lock);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            abort();
        c->arena = rt_arena_new(RT_CALL_ARENA_BLOCK);
    }
    rt_arena *arena = c->arena;
    memset(c, 0, sizeof *c);
    c->kind = RT_TAG_CALL;
    c->close_kind = RT_TAG_CLOSE;
    c->arena = arena;
    c->cache = cache;
    c->peers = cache->peers;
    c->authz = cache->authz;
    grpc_metadata_array_init(&c->request_md);
    grpc_call_details_init(&c->details);
    c->status_details = grpc_empty_slice();
    return c;
}

void rt_call_release(rt_call *c)
{
    grpc_metadata_array_destroy(&c->request_md);
    grpc_call_details_destroy(&c->details);
    if (c->payload)
        grpc_byte_buffer_destroy(c->payload);
    if (c->reply)
        grpc_byte_buffer_destroy(c->reply);
    grpc_slice_unref(c->status_details);
    if (c->n_trailers)
        grpc_slice_unref(c->trailer.value);
    if (c->call)
        grpc_call_unref(c->call);
    rt_arena_reset(c->arena);
    rt_call_cache *cache = c->cache;
    pthread_mutex_lock(&cache->lock);
    bool keep = cache->n_free < RT_CALL_CACHE_MAX;
    if (keep) {
        c->next_free = cache->free;
        cache->free = c;
        cache->n_free++;
    }
    pthread_mutex_unlock(&cache->lock);
    if (!keep) {
        rt_arena_free(c->arena);
        free(c);
    }
}

rt_arena *rt_call_arena(rt_call *call)
{
    return call->arena;
}

rt_db *rt_call_db(rt_call *call)
{
    return call->fiber->db;
}

const char *rt_call_request_id(rt_call *call)
{
    return call->request_id ? call->request_id : "";
}

const char *rt_call_method_name(rt_call *call)
{
    return call->log_name ? call->log_name : "";
}

const char *rt_call_identity(rt_call *call)
{
    return call->identity;
}

void rt_call_enter(rt_call *c)
{
    if (!c) {
        rt_log_set_call(NULL, NULL, NULL);
        rt_trace_set_current(NULL);
        return;
    }
    rt_log_set_call(c->log_name, c->request_id, c->identity);
    rt_log_set_trace(c->trace.trace_hex, c->trace.span_hex);
    rt_trace_set_current(&c->trace);
}

void rt_request_id_of(const grpc_metadata_array *md, char out[RT_REQUEST_ID_MAX + 1])
{
    for (size_t i = 0; i < md->count; i++) {
        const grpc_metadata *m = &md->metadata[i];
        if (grpc_slice_str_cmp(m->key, "x-request-id") != 0)
            continue;
        size_t len = GRPC_SLICE_LENGTH(m->value);
        const char *v = (const char *)GRPC_SLICE_START_PTR(m->value);
        bool ok = len > 0 && len <= RT_REQUEST_ID_MAX;
        for (size_t k = 0; ok && k < len; k++)
            ok = v[k] > 0x20 && v[k] < 0x7F;
        if (ok) {
            memcpy(out, v, len);
            out[len] = '\0';
            return;
        }
    }
    rt_uuid_v4(out);
}

int rt_call_depth_of(const grpc_metadata_array *md)
{
    for (size_t i = 0; i < md->count; i++) {
        const grpc_metadata *m = &md->metadata[i];
        if (grpc_slice_str_cmp(m->key, RT_CALL_DEPTH_KEY) != 0)
            continue;
        size_t len = GRPC_SLICE_LENGTH(m->value);
        const char *v = (const char *)GRPC_SLICE_START_PTR(m->value);
        return len == 1 && v[0] >= '0' && v[0] <= '9' ? v[0] - '0' : 0;
    }
    return 0;
}

static const char *request_id_of(rt_call *c)
{
    char id[RT_REQUEST_ID_MAX + 1];
    rt_request_id_of(&c->request_md, id);
    return rt_arena_strndup(c->arena, id, strlen(id));
}

/* What a caller reads when a handler gave a code but no words. */
static const char *generic_message(grpc_status_code code)
{
    switch (code) {
    case GRPC_STATUS_CANCELLED: return "cancelled";
    case GRPC_STATUS_INVALID_ARGUMENT: return "invalid argument";
    case GRPC_STATUS_DEADLINE_EXCEEDED: return "deadline exceeded";
    case GRPC_STATUS_NOT_FOUND: return "not found";
    case GRPC_STATUS_ALREADY_EXISTS: return "already exists";
    case GRPC_STATUS_PERMISSION_DENIED: return "permission denied";
    case GRPC_STATUS_RESOURCE_EXHAUSTED: return "resource exhausted";
    case GRPC_STATUS_FAILED_PRECONDITION: return "failed precondition";
    case GRPC_STATUS_ABORTED: return "aborted";
    case GRPC_STATUS_OUT_OF_RANGE: return "out of range";
    case GRPC_STATUS_UNIMPLEMENTED: return "not implemented";
    case GRPC_STATUS_UNAVAILABLE: return "unavailable";
    case GRPC_STATUS_UNAUTHENTICATED: return "unauthenticated";
    default: return "internal error";
    }
}

/* "invalid CreateUserRequest: email: must be ...; name: must not be empty" */
static const char *violations_message(rt_arena *arena, const ProtobufCMessageDescriptor *type,
                                      const rt_violations *v)
{
    size_t len = strlen("invalid : ") + strlen(type->short_name) + 1;
    for (size_t i = 0; i < v->count; i++)
        len += strlen(v->items[i].field) + strlen(v->items[i].description) + 4;
    char *text = rt_arena_alloc(arena, len);
    char *p = text + sprintf(text, "invalid %s: ", type->short_name);
    for (size_t i = 0; i < v->count; i++)
        p += sprintf(p, "%s%s: %s", i ? "; " : "", v->items[i].field, v->items[i].description);
    return text;
}

/* INVALID_ARGUMENT with a readable message and, for clients that decode
 * google.rpc details, a BadRequest listing the same violations. */
static rt_status bad_request(rt_call *c, const rt_violations *v)
{
    const char *message = violations_message(c->arena, c->method->request_type, v);
    c->trailer.key = grpc_slice_from_static_string(RT_STATUS_DETAILS_KEY);
    c->trailer.value = rt_status_details_bad_request(c->arena, GRPC_STATUS_INVALID_ARGUMENT, message, v);
    c->n_trailers = 1;
    return rt_status_of(GRPC_STATUS_INVALID_ARGUMENT, message);
}

void rt_call_set_replayed(rt_call *c)
{
    c->replayed = true;
    c->reply_md[1].key = grpc_slice_from_static_string("idempotent-replayed");
    c->reply_md[1].value = grpc_slice_from_static_string("true");
}

const char *rt_call_fingerprint(rt_call *c, const ProtobufCMessage *request)
{
    return rt_idempotency_fingerprint(c->arena, c->method->name, request);
}

const char *rt_call_operation_id(rt_call *c, const char *method, const char *key)
{
    return rt_idempotency_scoped_id(c->arena, c->identity, method ? method : c->method->path, key);
}

rt_status rt_call_invalid_field(rt_call *c, const char *field, const char *description)
{
    rt_violations v = {0};
    rt_violations_add(&v, field, description);
    return bad_request(c, &v);
}

/* The steps before and including the handler; *response is set on OK. */
static rt_status run(rt_call *c, ProtobufCMessage **response)
{
    const rt_method *m = c->method;
    if (!m)
        return rt_status_of(GRPC_STATUS_UNIMPLEMENTED,
                            rt_arena_printf(c->arena, "unknown method %s", c->log_name));
    if (rt_deadline_passed(c->deadline))
        return rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
    ProtobufCMessage *request;
    const char *nul_field;
    bool decoded = rt_codec_decode(c->arena, c->payload, m->request_type, &request, &nul_field);
    if (c->payload) /* decoded: a waiting call keeps only its message */
        grpc_byte_buffer_destroy(c->payload);
    c->payload = NULL;
    if (!decoded && nul_field) {
        rt_violations v = {0};
        rt_violations_add(&v, nul_field, "must not contain a NUL character");
        return bad_request(c, &v);
    }
    if (!decoded)
        return rt_status_of(GRPC_STATUS_INVALID_ARGUMENT,
                            rt_arena_printf(c->arena, "request is not a valid %s",
                                            m->request_type->short_name));
    rt_violations v = {0};
    rt_idempotency_resolve(c->arena, &c->request_md, request, &v);
    if (m->validate)
        m->validate(request, &v);
    if (v.count)
        return bad_request(c, &v);
    rt_db_set_deadline(c->fiber->db, c->deadline);
    rt_db_set_cancelled(c->fiber->db, &c->caller_gone);
    rt_status status = m->invoke(c, request, response);
    rt_db_set_deadline(c->fiber->db, gpr_inf_future(GPR_CLOCK_MONOTONIC));
    rt_db_set_cancelled(c->fiber->db, NULL);
    return status;
}

/* Unknown paths are caller-chosen bytes: bounded before they are logged. */
static const char *unknown_path(rt_call *c)
{
    size_t len = GRPC_SLICE_LENGTH(c->details.method);
    return rt_arena_strndup(c->arena, (const char *)GRPC_SLICE_START_PTR(c->details.method),
                            len > 200 ? 200 : len);
}

/* What every answered call needs first: its deadline on the monotonic
 * clock, names for its log line (and the caller's certificate identity,
 * in *peer), the metrics' count. */
static void begin(rt_call *c, rt_authz_peer *peer)
{
    c->deadline = rt_deadline_monotonic(c->method ? c->deadline : c->details.deadline);
    c->log_name = c->method ? c->method->name : unknown_path(c);
    c->request_id = request_id_of(c);
    rt_trace_begin(&c->trace, &c->request_md);
    rt_tls_peer_of(c->call, c->arena, peer);
    c->identity = peer->identity;
    rt_metrics_server_started(c->method);
}

/* Starts the final batch: metadata, the response when st is OK, status.
 * False when it could not start: the call is then already complete. */
static bool answer(rt_call *c, rt_status st, const ProtobufCMessage *response)
{
    if (!rt_ok(st) && !st.message)
        st.message = generic_message(st.code);
    c->status = st;

    c->reply_md[0].key = grpc_slice_from_static_string("x-request-id");
    c->reply_md[0].value = grpc_slice_from_static_string(c->request_id);
    if (rt_ok(st))
        c->reply = rt_codec_encode(response);
    if (st.message)
        c->status_details = grpc_slice_from_copied_string(st.message);

    grpc_op ops[4];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n].data.send_initial_metadata.count = c->replayed ? 2 : 1;
    ops[n++].data.send_initial_metadata.metadata = c->reply_md;
    if (c->reply) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->reply;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = st.code;
    ops[n].data.send_status_from_server.trailing_metadata_count = c->n_trailers;
    ops[n].data.send_status_from_server.trailing_metadata = &c->trailer;
    ops[n++].data.send_status_from_server.status_details = st.message ? &c->status_details : NULL;
    if (!c->watching) {
        ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[n++].data.recv_close_on_server.cancelled = &c->client_cancelled;
    }

    c->finishing = true; /* from now on the tag c means this batch, not the call's arrival (server.c) */
    grpc_call_error err = grpc_call_start_batch(c->call, ops, n, c, NULL);
    if (err == GRPC_CALL_OK)
        return true;
    rt_log(RT_LOG_ERROR, "cannot send the answer: grpc_call_start_batch error %d", (int)err);
    if (c->watching) /* the watch's completion, which cancelling brings, releases it */
        grpc_call_cancel(c->call, NULL);
    return !rt_call_completed(c, c, false);
}

void rt_call_watch(rt_call *c)
{
    if (c->watching || c->finishing)
        return;
    grpc_op op = {.op = GRPC_OP_RECV_CLOSE_ON_SERVER};
    op.data.recv_close_on_server.cancelled = &c->client_cancelled;
    atomic_store(&c->pending, 2);
    c->watching = grpc_call_start_batch(c->call, &op, 1, &c->close_kind, NULL) == GRPC_CALL_OK;
    if (!c->watching)
        atomic_store(&c->pending, 1);
}

bool rt_call_serve(rt_call *c, rt_fiber_ctx *fiber)
{
    c->fiber = fiber;
    rt_authz_peer peer;
    begin(c, &peer);
    atomic_store(&c->pending, 1); /* the final batch; rt_call_watch adds the watch */
    rt_call_enter(c);
    ProtobufCMessage *response = NULL;
    /* Authorization before anything else reads the request. */
    rt_status st = rt_authz_check(c->authz, &peer, c->method ? c->method->path : c->log_name, &c->request_md);
    if (rt_ok(st))
        st = run(c, &response);
    if (rt_ok(st) && !response) {
        rt_log(RT_LOG_ERROR, "handler returned OK without a response");
        st = rt_status_of(GRPC_STATUS_INTERNAL, NULL);
    }
    bool started = answer(c, st, response);
    rt_call_enter(NULL);
    return started;
}

bool rt_call_refuse(rt_call *c, grpc_status_code code, const char *message)
{
    rt_authz_peer peer;
    begin(c, &peer);
    atomic_store(&c->pending, 1);
    return answer(c, rt_status_of(code, message), NULL);
}

void rt_call_detach_deadline(rt_call *c, int budget_ms)
{
    rt_db_set_deadline(c->fiber->db, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                                   gpr_time_from_millis(budget_ms, GPR_TIMESPAN)));
    rt_db_set_cancelled(c->fiber->db, NULL);
}

static rt_log_level level_for(grpc_status_code code)
{
    switch (code) {
    case GRPC_STATUS_OK: return RT_LOG_INFO;
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_UNKNOWN:
    case GRPC_STATUS_DATA_LOSS: return RT_LOG_ERROR;
    default: return RT_LOG_WARN;
    }
}

/* Both batches completed: the call's log line, metrics, release. */
static void complete(rt_call *c, bool ok)
{
    rt_log_fields f = {
        .method = c->log_name,
        .code = rt_status_code_name(c->status.code),
        .has_duration = true,
        .duration_ms = rt_elapsed_ms(c->started),
        .request_id = c->request_id,
        .identity = c->identity,
        .trace_id = c->trace.trace_hex,
        .span_id = c->trace.span_hex,
    };
    rt_trace_end_span(&c->trace, RT_SPAN_SERVER, c->method ? c->method->path : "(unknown method)", c->trace.span_id,
                      c->trace.parent_id, c->started, c->status.code);
    const char *msg = c->status.message;
    if (!ok || c->client_cancelled)
        msg = "the caller went away before the answer arrived";
    rt_log_with(level_for(c->status.code), &f, "%s", msg ? msg : "finished");
    rt_metrics_server_handled(c->method, c->status.code, f.duration_ms / 1e3);
    rt_call_release(c);
}

rt_call *rt_call_of_close(void *tag)
{
    return (rt_call *)((char *)tag - offsetof(rt_call, close_kind));
}

bool rt_call_completed(rt_call *c, void *tag, bool ok)
{
    if (tag == c)
        c->final_ok = ok;
    else if (c->client_cancelled && !c->finishing)
        atomic_store(&c->caller_gone, true);
    if (atomic_fetch_sub(&c->pending, 1) != 1)
        return false;
    complete(c, c->final_ok);
    return true;
}

void rt_log_call_event(rt_call *call, rt_log_level level, const char *fmt, ...)
{
    rt_log_fields f = {.method = rt_call_method_name(call), .request_id = rt_call_request_id(call),
                       .identity = rt_call_identity(call), .trace_id = call->trace.trace_hex,
                       .span_id = call->trace.span_hex};
    va_list ap;
    va_start(ap, fmt);
    rt_log_withv(level, &f, fmt, ap);
    va_end(ap);
}
