/* Operations of the services' writes (operations.h). */
#include "operations.h"

#include <string.h>

#include "background.h"
#include "db_queries.h"
#include "events.h"
#include "idempotency.h"
#include "log.h"

/* Expired operations are swept this often once the backlog is cleared, one
 * bounded batch per run (background.h); each daemon sweeps, skipping the
 * rows the other holds. */
#define EXPIRE_INTERVAL_MS 60000
/* A fence sent at most this often when its own outcome is unknown. */
#define FENCE_TRIES 3

/* Removes operations older than IDEMPOTENCY_TTL: their keys may be used
 * afresh. Failures only delay the sweep. */
static bool expire_operations(rt_task *task)
{
    int64_t expired = 0;
    if (!rt_ok(db_delete_expired_operations(rt_task_db(task), rt_idempotency_ttl_seconds(), &expired)))
        return false;
    if (expired > 0)
        rt_log(RT_LOG_DEBUG, "expired %lld idempotency records", (long long)expired);
    return expired > 0;
}
const rt_task_def operations_expire_task = {
    .name = "expire-operations", .interval_ms = EXPIRE_INTERVAL_MS, .run = expire_operations};

RT_COUNTER(replays, "wallet_idempotent_replays_total", "",
           "Requests answered with the stored outcome of an earlier request with the same idempotency key.")
RT_COUNTER(mismatches, "wallet_idempotency_key_mismatches_total", "",
           "Requests refused because their idempotency key came before with a different payload.")
RT_COUNTER(unknown_outcomes, "wallet_unknown_outcomes_total", "",
           "Writes whose database connection was lost after they were sent: outcome unknown, then fenced.")
RT_COUNTER(fenced_not_applied, "wallet_fences_total", "result=\"not_applied\"",
           "Unknown write outcomes settled by FenceOperation, by result (unresolved: the database could not say "
           "before the deadline; the caller got DEADLINE_EXCEEDED).")
RT_COUNTER(fenced_applied, "wallet_fences_total", "result=\"applied\"", "")
RT_COUNTER(fenced_unresolved, "wallet_fences_total", "result=\"unresolved\"", "")

void operation_begin(rt_call *call, const char *key, const ProtobufCMessage *request, operation *op)
{
    rt_uuid_v4(op->attempt);
    op->key = key && key[0] ? key : NULL;
    op->id = op->key ? rt_call_operation_id(call, NULL, op->key) : op->attempt;
    op->request = op->key ? rt_call_fingerprint(call, request) : "";
}

/* INVALID_ARGUMENT for a key brought back after IDEMPOTENCY_TTL. */
static rt_status key_expired(rt_call *call)
{
    return rt_call_invalid_field(call, "idempotency_key",
                                 "key expired: it was used more than IDEMPOTENCY_TTL ago; use a new key");
}

rt_status operation_outcome(rt_call *call, const operation *op, db_operation_row *row)
{
    rt_status status = db_operation_get_by_id(rt_call_db(call), rt_call_arena(call), op->id, row);
    if (status.code == GRPC_STATUS_NOT_FOUND && op->key) /* swept between the two statements */
        return key_expired(call);
    if (status.code == GRPC_STATUS_NOT_FOUND) /* unreachable: a keyless write always leaves its row */
        return rt_status_of(GRPC_STATUS_INTERNAL, NULL);
    if (!rt_ok(status))
        return status;
    if (row->code == OPERATION_KEY_EXPIRED) /* whatever the payload */
        return key_expired(call);
    bool own = strcmp(row->attempt, op->attempt) == 0;
    if (!own && strcmp(row->request, op->request) != 0) {
        rt_counter_add(&mismatches, 1);
        return rt_call_invalid_field(call, "idempotency_key", "was used before with a different request");
    }
    if (row->code == OPERATION_FENCED) /* another attempt's fence this statement could not replace, or its own */
        return rt_status_of(GRPC_STATUS_UNAVAILABLE, "the write was not applied; safe to retry");
    if (!own) {
        rt_call_set_replayed(call);
        rt_counter_add(&replays, 1);
    }
    return RT_OK;
}

rt_status operation_fence(rt_call *call, const operation *op, rt_status unknown)
{
    int64_t fenced = 0;
    rt_counter_add(&unknown_outcomes, 1);
    /* Patient: it waits for the reconnect (with its backoff) until the
     * caller's deadline; only a database unreachable until then leaves the
     * outcome unknown. A fence whose own connection was lost too (a cut of
     * every connection, the fence sent on one not yet seen to be gone) goes
     * again: sending it twice is safe, a second finds the first's row and
     * the outcome is read from it. */
    rt_db_set_patient(rt_call_db(call), true);
    rt_status status;
    int tries = 0;
    do
        status = db_fence_operation(rt_call_db(call),
                                    (db_fence_operation_params){.id = op->id, .request = op->request,
                                                                .attempt = op->attempt},
                                    &fenced);
    while (rt_db_outcome_unknown(status) && ++tries < FENCE_TRIES);
    rt_db_set_patient(rt_call_db(call), false);
    if (!rt_ok(status)) {
        rt_counter_add(&fenced_unresolved, 1);
        return unknown;
    }
    rt_counter_add(fenced == 1 ? &fenced_not_applied : &fenced_applied, 1);
    if (fenced == 1) {
        rt_log_call_event(call, RT_LOG_WARN, "write outcome settled after a lost connection: not applied");
        return rt_status_of(GRPC_STATUS_UNAVAILABLE, "the database connection was lost; not applied, safe to retry");
    }
    rt_log_call_event(call, RT_LOG_WARN, "write outcome settled after a lost connection: looked up");
    return RT_OK;
}
