/* Business logic of wallet.WalletService: wallets and their balance changes
 * (transfers and history sit beside it in wallet_service_*.c). Balance rules
 * live in the statements of spec/queries/wallet.sql (each one statement, so
 * they hold under any concurrency); these functions only explain their
 * outcome. */
#include "db_queries.h"
#include "db_wallet_entry.h"
#include "db_wallet.h"
#include "events.h"
#include "idempotency.h"
#include "user.client.h"
#include "wallet.map.h"
#include "wallet.service.h"
#include "operations.h"
#include "wallet_service.h"

/* Everything wallet-service runs besides its methods (gen/wallet.service.h). */
const rt_task_def *const wallet_service__tasks[] = {&operations_expire_task, NULL};

rt_status wallet_service__create_wallet(rt_call *call, const Wallet__CreateWalletRequest *request,
                                        Wallet__WalletResponse *response)
{
    rt_arena *arena = rt_call_arena(call);
    const char *user_id = rt_uuid_lower(arena, request->user_id);

    User__GetUserByIdRequest user_request = USER__GET_USER_BY_ID_REQUEST__INIT;
    user_request.id = (char *)user_id;
    User__UserResponse *user = NULL;
    rt_status status = user_service__call_get_user_by_id(call, &user_request, &user);
    if (!rt_ok(status))
        return status; /* NOT_FOUND, UNAVAILABLE, DEADLINE_EXCEEDED pass through */

    char id[RT_UUID_STRLEN + 1];
    rt_uuid_v4(id);
    db_wallet_row wallet;
    status = db_insert_user_wallet(rt_call_db(call), arena, (db_insert_user_wallet_params){.user_id = user_id, .id = id},
                                   &wallet); /* finishes the user */
    if (status.code == GRPC_STATUS_ALREADY_EXISTS)
        return rt_status_of(GRPC_STATUS_ALREADY_EXISTS,
                            rt_arena_printf(arena, "user %s already has a wallet", user_id));
    if (status.code == GRPC_STATUS_FAILED_PRECONDITION) /* the user was deleted (its creation undone) meanwhile */
        return rt_status_of(GRPC_STATUS_NOT_FOUND, rt_arena_printf(arena, "user %s not found", user_id));
    if (!rt_ok(status))
        return status;
    wallet__wallet_response__from_db_wallet_row(response, &wallet);
    return RT_OK;
}

rt_status wallet_service__get_wallet(rt_call *call, const Wallet__GetWalletRequest *request,
                                     Wallet__WalletResponse *response)
{
    rt_arena *arena = rt_call_arena(call);
    const char *user_id = rt_uuid_lower(arena, request->user_id);
    db_wallet_row wallet;
    rt_status status = db_wallet_get_by_user_id(rt_call_db(call), arena, user_id, &wallet);
    if (status.code == GRPC_STATUS_NOT_FOUND)
        return wallet_not_found(arena, user_id);
    if (!rt_ok(status))
        return status;
    wallet__wallet_response__from_db_wallet_row(response, &wallet);
    return RT_OK;
}

/* Credit and debit run one statement (ChangeBalance) and differ only in the
 * sign of the change, the kind of entry it appends and what its refusal means. */
RT_COUNTER(credits, "wallet_balance_changes_total", "kind=\"credit\"",
           "Credits and debits applied (replays not counted), by kind.")
RT_COUNTER(debits, "wallet_balance_changes_total", "kind=\"debit\"", "")
RT_COUNTER(credited, "wallet_balance_change_amount_total", "kind=\"credit\"",
           "Sum of the amounts of the credits and debits applied, in the smallest currency unit, by kind.")
RT_COUNTER(debited, "wallet_balance_change_amount_total", "kind=\"debit\"", "")

typedef struct {
    int32_t sign;
    int32_t entry_kind; /* wallet.TransactionKind of its ledger entry */
    rt_status refused;  /* the balance would leave 0..2147483647 */
} balance_change;

/* The statement changed nothing: its operation row holds the answer, a
 * refusal decided on the locked row, or an earlier request's outcome (the
 * wallet as the entry it appended left it). */
static rt_status settle(rt_call *call, const operation *op, const char *user_id,
                        const balance_change *change, Wallet__WalletResponse *response)
{
    rt_arena *arena = rt_call_arena(call);
    db_operation_row row;
    rt_status status = operation_outcome(call, op, &row);
    if (!rt_ok(status))
        return status;
    if (row.code == GRPC_STATUS_NOT_FOUND)
        return wallet_not_found(arena, user_id);
    if (row.code != GRPC_STATUS_OK)
        return change->refused;
    status = wallet_after_entry(call, row.id, change->entry_kind, response, NULL);
    return status.code == GRPC_STATUS_NOT_FOUND ? wallet_not_found(arena, user_id) : status;
}

rt_status wallet_after_entry(rt_call *call, const char *operation_id, int32_t kind,
                             Wallet__WalletResponse *out, db_wallet_entry_row *entry)
{
    rt_db *db = rt_call_db(call);
    rt_arena *arena = rt_call_arena(call);
    db_wallet_entry_row found;
    rt_status status = db_wallet_entry_get_by_operation_id_and_kind(db, arena, operation_id, kind, &found);
    db_wallet_row wallet;
    if (rt_ok(status))
        status = db_wallet_get_by_id(db, arena, found.wallet_id, &wallet);
    if (!rt_ok(status))
        return status;
    wallet.balance = found.balance_after;
    wallet__wallet_response__from_db_wallet_row(out, &wallet);
    if (entry)
        *entry = found;
    return RT_OK;
}

static rt_status change_balance(rt_call *call, const Wallet__UpdateBalanceRequest *request,
                                Wallet__WalletResponse *response, const balance_change *change)
{
    rt_arena *arena = rt_call_arena(call);
    const char *user_id = rt_uuid_lower(arena, request->user_id);
    Wallet__UpdateBalanceRequest normalised = *request; /* the request as the statement sees it */
    normalised.user_id = (char *)user_id;
    operation op;
    operation_begin(call, request->idempotency_key, &normalised.base, &op);
    db_wallet_row wallet;
    rt_status status = db_change_balance(rt_call_db(call), arena,
                                         (db_change_balance_params){
                                             .user_id = user_id,
                                             .operation_id = op.id,
                                             .request = op.request,
                                             .attempt = op.attempt,
                                             .apply_seconds = RT_WRITE_APPLY_SECONDS,
                                             .delta = change->sign * request->amount,
                                             .kind = change->entry_kind,
                                             .idempotency_key = op.key,
                                         },
                                         &wallet);
    if (rt_db_outcome_unknown(status)) { /* maybe committed: find out */
        status = operation_fence(call, &op, status);
        return rt_ok(status) ? settle(call, &op, user_id, change, response) : status;
    }
    if (status.code == GRPC_STATUS_NOT_FOUND)
        return settle(call, &op, user_id, change, response);
    if (!rt_ok(status))
        return status;
    wallet__wallet_response__from_db_wallet_row(response, &wallet);
    rt_counter_add(change->sign > 0 ? &credits : &debits, 1);
    rt_counter_add(change->sign > 0 ? &credited : &debited, (uint64_t)request->amount);
    return RT_OK;
}

static const balance_change CREDIT = {
    +1, WALLET__TRANSACTION_KIND__TRANSACTION_KIND_CREDIT,
    {GRPC_STATUS_OUT_OF_RANGE, "credit would take the balance past 2147483647"}};
static const balance_change DEBIT = {
    -1, WALLET__TRANSACTION_KIND__TRANSACTION_KIND_DEBIT,
    {GRPC_STATUS_FAILED_PRECONDITION, "insufficient balance"}};

rt_status wallet_service__credit_wallet(rt_call *call, const Wallet__UpdateBalanceRequest *request,
                                        Wallet__WalletResponse *response)
{
    return change_balance(call, request, response, &CREDIT);
}

rt_status wallet_service__debit_wallet(rt_call *call, const Wallet__UpdateBalanceRequest *request,
                                       Wallet__WalletResponse *response)
{
    return change_balance(call, request, response, &DEBIT);
}
