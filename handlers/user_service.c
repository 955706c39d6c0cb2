/* Business logic of user.UserService. Transport, decoding and validation
 * happen before these run (gen/user.service.c); they only decide. */
#include <stdint.h>

#include "background.h"
#include "db_operation.h"
#include "db_queries.h"
#include "db_user.h"
#include "db_wallet.h"
#include "log.h"
#include "operations.h"
#include "user.map.h"
#include "user.service.h"
#include "uuid.h"
#include "wallet.client.h"

/* Abandoned creations are swept in the background (background.h), this
 * often once the backlog is cleared, one bounded batch per run. */
#define SWEEP_INTERVAL_MS 60000
/* How long the compensation of a failed CreateUser may take, whatever is
 * left of the caller's deadline (it must run even when that is what failed). */
#define COMPENSATION_BUDGET_MS 5000

/* Deletes users whose creation a killed user-service never finished (their
 * pending marker outlived any CreateUser and they have no wallet), and the
 * markers of users that were finished. Failures only delay the sweep. */
static bool sweep_abandoned_users(rt_task *task)
{
    int64_t swept = 0;
    if (!rt_ok(db_delete_abandoned_users(rt_task_db(task), &swept)))
        return false;
    if (swept > 0)
        rt_log(RT_LOG_DEBUG, "swept %lld stale creation markers (and their users that never got a wallet)",
               (long long)swept);
    return swept > 0;
}
RT_BACKGROUND_TASK(sweep, "sweep-abandoned-users", SWEEP_INTERVAL_MS, sweep_abandoned_users)

static const char DUPLICATE_EMAIL[] = "a user with this email already exists";

/* The key was taken: the answer of the request that took it. It created the
 * user (detail) and, once the user has its wallet, that user is the answer;
 * before that it is still at work (ABORTED, retry). A user that is gone was
 * undone, so the key is freed for the retry. */
static rt_status replay(rt_call *call, const operation *op, User__UserResponse *response)
{
    rt_db *db = rt_call_db(call);
    rt_arena *arena = rt_call_arena(call);
    db_operation_row row;
    rt_status status = operation_outcome(call, op, &row);
    if (!rt_ok(status))
        return status;
    if (row.code == GRPC_STATUS_ALREADY_EXISTS)
        return rt_status_of(GRPC_STATUS_ALREADY_EXISTS, DUPLICATE_EMAIL);
    if (row.code != GRPC_STATUS_OK || !row.detail)
        return rt_status_of(GRPC_STATUS_INTERNAL, NULL);
    db_user_row user;
    status = db_user_get_by_id(db, arena, row.detail, &user);
    if (status.code == GRPC_STATUS_NOT_FOUND) {
        int64_t forgotten = 0;
        status = db_forget_operation(db, (db_forget_operation_params){.id = row.id, .attempt = row.attempt},
                                     &forgotten);
        return rt_ok(status) ? rt_status_of(GRPC_STATUS_ABORTED, "the earlier request with this key was undone; retry")
                             : status;
    }
    db_wallet_row wallet;
    if (rt_ok(status))
        status = db_wallet_get_by_user_id(db, arena, user.id, &wallet);
    if (status.code == GRPC_STATUS_NOT_FOUND)
        return rt_status_of(GRPC_STATUS_ABORTED, "the request with this key is still in progress; retry");
    if (!rt_ok(status))
        return status;
    user__user_response__from_db_user_row(response, &user);
    return RT_OK;
}

/* The email is taken. With a key, that refusal is the key's outcome from now
 * on; when another request stored the key meanwhile, its outcome is the answer. */
static rt_status duplicate_email(rt_call *call, const operation *op, User__UserResponse *response)
{
    if (!op->key)
        return rt_status_of(GRPC_STATUS_ALREADY_EXISTS, DUPLICATE_EMAIL);
    db_operation_row row;
    rt_status status = db_operation_insert(rt_call_db(call), rt_call_arena(call), op->id, op->request,
                                           op->attempt, GRPC_STATUS_ALREADY_EXISTS, &row);
    if (status.code == GRPC_STATUS_ALREADY_EXISTS)
        return replay(call, op, response);
    return rt_ok(status) ? rt_status_of(GRPC_STATUS_ALREADY_EXISTS, DUPLICATE_EMAIL) : status;
}

/* A user always has a wallet: the user row is committed first, with a pending
 * marker (wallet-service verifies the user through GetUserById on its own
 * connection), then the wallet is requested; if that fails the user is
 * deleted again and the wallet-service status is returned. A wallet created
 * whose answer was lost goes too: the foreign key cascades the delete. If this
 * process dies in between, the marker lets a later sweep finish the undo; a
 * finished user's marker is left for the sweep, which keeps users with a
 * wallet (one commit less per CreateUser than clearing it here). With an
 * idempotency key, the user row and the key's operation row are written in
 * one statement, and undoing the user frees the key again. */
/* Deletes the user a failed creation inserted (or may have: a write
 * answered at its deadline) and frees its idempotency key for the retry. */
static void undo_creation(rt_call *call, rt_db *db, const operation *op, const char *user_id)
{
    rt_status undone = db_user_delete_by_id(db, user_id);
    int64_t forgotten = 0;
    if (rt_ok(undone) && op->key) /* not applied: the key is free for the retry */
        undone = db_forget_operation(db, (db_forget_operation_params){.id = op->id, .attempt = op->attempt},
                                     &forgotten);
    if (!rt_ok(undone))
        rt_log_call_event(call, RT_LOG_ERROR, "compensation failed: user %s has no wallet yet", user_id);
}

rt_status user_service__create_user(rt_call *call, const User__CreateUserRequest *request,
                                    User__UserResponse *response)
{
    rt_db *db = rt_call_db(call);
    rt_arena *arena = rt_call_arena(call);

    operation op;
    operation_begin(call, request->idempotency_key, &request->base, &op);
    char id[RT_UUID_STRLEN + 1];
    rt_uuid_v4(id);
    db_user_row user;
    rt_status status =
        op.key ? db_insert_pending_user_once(db, arena,
                                             (db_insert_pending_user_once_params){
                                                 .operation_id = op.id,
                                                 .request = op.request,
                                                 .attempt = op.attempt,
                                                 .id = id,
                                                 .email = request->email,
                                                 .name = request->name,
                                             },
                                             &user)
               : db_insert_pending_user(
                     db, arena,
                     (db_insert_pending_user_params){.id = id, .email = request->email, .name = request->name},
                     &user);
    if (status.code == GRPC_STATUS_ALREADY_EXISTS)
        return duplicate_email(call, &op, response);
    if (status.code == GRPC_STATUS_NOT_FOUND && op.key)
        return replay(call, &op, response);
    if (status.code == GRPC_STATUS_DEADLINE_EXCEEDED) {
        /* Answered at the deadline while the insert was in flight: it may
         * still commit. The undo goes to the same writer after it, so it
         * runs after the insert whatever became of it. */
        rt_call_detach_deadline(call, COMPENSATION_BUDGET_MS);
        undo_creation(call, db, &op, id);
        return status;
    }
    if (!rt_ok(status))
        return status;

    Wallet__CreateWalletRequest wallet_request = WALLET__CREATE_WALLET_REQUEST__INIT;
    wallet_request.user_id = (char *)user.id;
    Wallet__WalletResponse *wallet = NULL;
    status = wallet_service__call_create_wallet(call, &wallet_request, &wallet);
    /* Both follow-ups must run even when the caller's deadline is what failed. */
    rt_call_detach_deadline(call, COMPENSATION_BUDGET_MS);
    if (!rt_ok(status)) {
        undo_creation(call, db, &op, user.id);
        return status;
    }
    user__user_response__from_db_user_row(response, &user);
    return RT_OK;
}

rt_status user_service__get_user_by_id(rt_call *call, const User__GetUserByIdRequest *request,
                                       User__UserResponse *response)
{
    rt_arena *arena = rt_call_arena(call);
    db_user_row user;
    rt_status status = db_user_get_by_id(rt_call_db(call), arena, rt_uuid_lower(arena, request->id), &user);
    if (status.code == GRPC_STATUS_NOT_FOUND)
        return rt_status_of(GRPC_STATUS_NOT_FOUND, rt_arena_printf(arena, "user %s not found", request->id));
    if (!rt_ok(status))
        return status;
    user__user_response__from_db_user_row(response, &user);
    return RT_OK;
}
