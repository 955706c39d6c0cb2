/* Business logic of user.UserService. Transport, decoding and validation
 * happen before these run (gen/user.service.c); they only decide. */
#include <stdint.h>

#include "background.h"
#include "db_operation.h"
#include "db_pending_user.h"
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
 * pending marker outlived any CreateUser, no retry with a key finished it,
 * and they have no wallet). Failures only delay the sweep. */
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
static const rt_task_def sweep_task = {
    .name = "sweep-abandoned-users", .interval_ms = SWEEP_INTERVAL_MS, .run = sweep_abandoned_users};

/* Everything user-service runs besides its methods (gen/user.service.h). */
const rt_task_def *const user_service__tasks[] = {&operations_expire_task, &sweep_task, NULL};

static const char DUPLICATE_EMAIL[] = "a user with this email already exists";

/* How long a CreateUser may still be at work on the user it committed: its
 * wallet request (peer calls are capped at 5 s, runtime/src/serve/client.c) and
 * its undo (COMPENSATION_BUDGET_MS), with room to spare. A retry with the key
 * that finds the user without a wallet and its marker older than this knows
 * that attempt ended unfinished (its process died, or its undo could not
 * reach the database) and finishes it itself, instead of answering ABORTED
 * until the sweep. Not a safety bound: two
 * attempts at work on one user at once still end in one answer (see
 * user_service__create_user), it only keeps a retry from racing an attempt
 * that is well. */
#define CREATION_BOUND_SECONDS 15

/* The answer to a creation cut short whose outcome cannot be settled. */
static rt_status outcome_unknown(void)
{
    return rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED,
                        "outcome unknown: the user may exist without its wallet yet; retry with the same "
                        "idempotency key");
}

/* The wallet of user_id was asked for and not (surely) made, or the user's
 * insert was cut short (its deadline, its caller's cancel) after it was
 * sent, by the attempt that stored the key under operation_id with attempt
 * (or by a retry that finishes it). Undoes the creation with
 * AbandonCreation (spec/queries/user.sql), which deletes the user, its
 * marker and its key only while the marker shows no wallet ever committed,
 * and answers what is true then:
 * - undone: nothing of the creation is left: `failed` (the peer's refusal),
 *   UNAVAILABLE when that was DEADLINE_EXCEEDED, since it is now known not
 *   to have applied, or for a cancel after the insert was sent CANCELLED
 *   saying so (its caller is gone and hears nothing: only the call's log
 *   line shows it);
 * - no user to undo (the insert, cancelled on the server, never committed,
 *   or another request undid it): nothing of it is left now, which is no
 *   fault (logged INFO); `failed` for a cancel, else DEADLINE_EXCEEDED,
 *   since a caller still there is not told "not applied" on a read alone;
 * - not undone, the wallet exists: it committed after all (its answer was
 *   lost, or another attempt made it): the user is complete, OK;
 * - anything else (the database did not answer, or the user stays without
 *   its wallet): DEADLINE_EXCEEDED, outcome unknown -- never UNAVAILABLE,
 *   since the user may stay; a retry with the key, or the sweep, settles
 *   it. Only this is logged ERROR: a user may be left half-made. */
static rt_status abandon_creation(rt_call *call, const char *operation_id, const char *attempt,
                                  const char *user_id, rt_status failed, User__UserResponse *response)
{
    rt_db *db = rt_call_db(call);
    rt_arena *arena = rt_call_arena(call);
    int64_t removed = 0;
    rt_status status = db_abandon_creation(
        db, (db_abandon_creation_params){.id = user_id, .operation_id = operation_id, .attempt = attempt}, &removed);
    if (rt_ok(status) && removed == 1) {
        if (failed.code == GRPC_STATUS_DEADLINE_EXCEEDED)
            return rt_status_of(GRPC_STATUS_UNAVAILABLE, "the wallet could not be created in time; not applied, "
                                                         "safe to retry");
        if (rt_db_cancelled_after_send(failed))
            return rt_status_of(GRPC_STATUS_CANCELLED, "the caller cancelled; not applied");
        return failed;
    }
    db_user_row user;
    if (rt_ok(status))
        status = db_user_get_by_id(db, arena, user_id, &user);
    if (status.code == GRPC_STATUS_NOT_FOUND) {
        rt_log_call_event(call, RT_LOG_INFO, "creation of user %s cut short: no user to undo", user_id);
        return failed.code == GRPC_STATUS_CANCELLED ? failed : outcome_unknown();
    }
    db_wallet_row wallet;
    if (rt_ok(status))
        status = db_wallet_get_by_user_id(db, arena, user_id, &wallet);
    if (rt_ok(status)) {
        rt_log_call_event(call, RT_LOG_WARN, "user %s got its wallet after all: created", user_id);
        user__user_response__from_db_user_row(response, &user);
        return RT_OK;
    }
    rt_log_call_event(call, RT_LOG_ERROR, "creation of user %s neither finished nor undone: left to a retry or "
                      "the sweep", user_id);
    return outcome_unknown();
}

/* Asks wallet-service for user's wallet: the second half of a creation, for
 * the attempt that inserted the user or for a retry finishing an attempt
 * that died. OK (user) once the wallet exists; otherwise abandon_creation. */
static rt_status finish_creation(rt_call *call, const char *operation_id, const char *attempt,
                                 const db_user_row *user, User__UserResponse *response)
{
    Wallet__CreateWalletRequest wallet_request = WALLET__CREATE_WALLET_REQUEST__INIT;
    wallet_request.user_id = (char *)user->id;
    Wallet__WalletResponse *wallet = NULL;
    rt_status status = wallet_service__call_create_wallet(call, &wallet_request, &wallet);
    /* What follows must run even when the caller's deadline is what failed. */
    rt_call_detach_deadline(call, COMPENSATION_BUDGET_MS);
    if (!rt_ok(status))
        return abandon_creation(call, operation_id, attempt, user->id, status, response);
    user__user_response__from_db_user_row(response, user);
    return RT_OK;
}

/* The key was taken: the answer of the request that took it. It created the
 * user (detail) and, once the user has its wallet, that user is the answer.
 * Without a wallet, that request is still at work while the user's marker is
 * younger than CREATION_BOUND_SECONDS (ABORTED, retry); after that it has
 * ended without finishing (its user-service died), and this request finishes
 * it (finish_creation). A user that is gone was undone (by the sweep), so
 * the key is freed for the retry. */
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
    if (status.code == GRPC_STATUS_NOT_FOUND) {
        db_pending_user_row marker;
        status = db_get_recent_pending_user(
            db, arena, (db_get_recent_pending_user_params){.id = user.id, .seconds = CREATION_BOUND_SECONDS}, &marker);
        if (rt_ok(status))
            return rt_status_of(GRPC_STATUS_ABORTED, "the request with this key is still in progress; retry");
        if (status.code != GRPC_STATUS_NOT_FOUND)
            return status;
        rt_log_call_event(call, RT_LOG_WARN, "finishing the creation of user %s, left without a wallet", user.id);
        return finish_creation(call, row.id, row.attempt, &user, response);
    }
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

/* A user always has a wallet, and nothing acknowledged is ever removed. The
 * user row is committed first with a pending marker (wallet-service verifies
 * the user through GetUserById on its own connection), and with a key, the
 * key's operation row in the same statement; then the wallet is requested
 * (finish_creation). Its insert removes the marker in the wallet's own
 * transaction (InsertUserWallet); an undo deletes the user only together
 * with the marker (AbandonCreation). The marker's row is where the two meet:
 * whichever commits second finds it gone and changes nothing, so
 * - a wallet that committed (whose answer came too late, or that a retry
 *   saw and answered OK, and credited since) is never removed: the undo
 *   finds no marker, looks, and answers OK with this user;
 * - an undo that committed first makes a late wallet insert fail on the
 *   foreign key, so no wallet appears for a user answered UNAVAILABLE;
 * - every OK under a key names one user: a retry answers OK only once the
 *   wallet exists, and from then on no undo removes that user or its key;
 *   only an undone creation (nothing ever acknowledged) frees the key.
 * UNAVAILABLE is answered only when the undo really removed the user;
 * when the outcome cannot be settled, DEADLINE_EXCEEDED ("outcome unknown").
 * If this process dies in between, a retry with the key finishes the
 * creation after CREATION_BOUND_SECONDS (replay); without a key, the sweep
 * deletes the unfinished user after 5 minutes. */
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
    if (status.code == GRPC_STATUS_DEADLINE_EXCEEDED || rt_db_cancelled_after_send(status)) {
        /* Answered at the deadline, or at the caller's cancel, while the
         * insert was in flight: it may still commit. The undo goes to the
         * same writer after it, so it runs after the insert whatever became
         * of it; detached, so that neither the deadline nor the cancel
         * stops it. */
        rt_call_detach_deadline(call, COMPENSATION_BUDGET_MS);
        return abandon_creation(call, op.id, op.attempt, id, status, response);
    }
    if (!rt_ok(status))
        return status;
    return finish_creation(call, op.id, op.attempt, &user, response);
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
