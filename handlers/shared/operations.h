/* What the writes of every service share (linked into each daemon): a write
 * is an operation recorded in its own transaction (the "Operation" table of
 * migrations/0003_ledger.sql), under the caller's idempotency key or an id
 * made here, and a statement that changed nothing is explained by the
 * operation row it left or found. */
#ifndef HANDLERS_SHARED_OPERATIONS_H
#define HANDLERS_SHARED_OPERATIONS_H

#include "background.h"
#include "db_operation.h"
#include "service.h"
#include "uuid.h"

/* The codes of an operation row that are no gRPC status: a fence (the write
 * never applies, spec/queries/wallet.sql FenceOperation, or a statement that
 * came too late) and a key brought back after IDEMPOTENCY_TTL while entries
 * it wrote remain. */
#define OPERATION_FENCED (-1)
#define OPERATION_KEY_EXPIRED (-2)

typedef struct {
    const char *key;     /* the caller's idempotency key; NULL when it sent none */
    const char *id;      /* the key scoped to its caller and method (rt_call_operation_id), or attempt */
    const char *request; /* what the request asks for, compared when a key comes back; "" without a key */
    char attempt[RT_UUID_STRLEN + 1]; /* this request, among all that carry the key */
} operation;

/* Removes operations older than IDEMPOTENCY_TTL, a bounded batch a run:
 * every daemon lists it among its tasks (<service>__tasks). */
extern const rt_task_def operations_expire_task;

/* The operation of request, whose settled key (idempotency.h) is key. A key
 * belongs to its caller and method: another caller's use of the same string
 * is another operation. request must be normalised (UUIDs lowercase, as the
 * statements use them), so a retry that only changes a UUID's case is the
 * same request. */
void operation_begin(rt_call *call, const char *key, const ProtobufCMessage *request, operation *op);

/* After the operation's statement changed nothing: the row that says why.
 * OK with *row when its code is the answer: written by this attempt (a
 * refusal decided on the locked rows), or by an earlier request with the
 * same key and payload, in which case the call is marked replayed.
 * INVALID_ARGUMENT when the key came with another payload, or expired
 * (OPERATION_KEY_EXPIRED, or its row swept meanwhile). UNAVAILABLE when the
 * row is a fence (OPERATION_FENCED): the write never applies. */
rt_status operation_outcome(rt_call *call, const operation *op, db_operation_row *row);

/* A write whose outcome is unknown (rt_db_outcome_unknown): the connection
 * was lost after the statement went out, so it may have committed. Settles that for good with FenceOperation (spec/queries/
 * wallet.sql): UNAVAILABLE when the write now surely never applies; OK when
 * its operation row exists, to be read like that of a statement that
 * changed nothing (operation_outcome); `unknown` again when the database
 * cannot say before the deadline. */
rt_status operation_fence(rt_call *call, const operation *op, rt_status unknown);

#endif
