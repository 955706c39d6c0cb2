/* Business logic of wallet.WalletService. Balance rules live in the
 * statements of spec/queries/wallet.sql (one conditional UPDATE each), so they
 * hold under any concurrency; these functions only explain their outcome. */
#include "db_queries.h"
#include "db_wallet.h"
#include "user.client.h"
#include "uuid.h"
#include "wallet.map.h"
#include "wallet.service.h"

static rt_status wallet_not_found(rt_arena *arena, const char *user_id)
{
    return rt_status_of(GRPC_STATUS_NOT_FOUND, rt_arena_printf(arena, "wallet of user %s not found", user_id));
}

/* A conditional UPDATE that matched no row changed nothing; a wallet that
 * exists means the condition refused it (the `refused` status), none means
 * NOT_FOUND. */
static rt_status explain_refusal(rt_call *call, const char *user_id, rt_status refused)
{
    rt_arena *arena = rt_call_arena(call);
    db_wallet_row wallet;
    rt_status status = db_wallet_get_by_user_id(rt_call_db(call), arena, user_id, &wallet);
    if (rt_ok(status))
        return refused;
    if (status.code == GRPC_STATUS_NOT_FOUND)
        return wallet_not_found(arena, user_id);
    return status;
}

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
    status = db_wallet_insert(rt_call_db(call), arena, id, user_id, &wallet);
    if (status.code == GRPC_STATUS_ALREADY_EXISTS)
        return rt_status_of(GRPC_STATUS_ALREADY_EXISTS,
                            rt_arena_printf(arena, "user %s already has a wallet", user_id));
    if (status.code == GRPC_STATUS_FAILED_PRECONDITION) /* the user was deleted meanwhile */
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

/* Credit and debit differ only in their statement and in what a refusal means. */
typedef rt_status (*balance_update_fn)(rt_db *db, rt_arena *arena, int32_t amount,
                                       const char *user_id, db_wallet_row *out);

static rt_status change_balance(rt_call *call, const Wallet__UpdateBalanceRequest *request,
                                Wallet__WalletResponse *response, balance_update_fn update,
                                rt_status refused)
{
    rt_arena *arena = rt_call_arena(call);
    const char *user_id = rt_uuid_lower(arena, request->user_id);
    db_wallet_row wallet;
    rt_status status = update(rt_call_db(call), arena, request->amount, user_id, &wallet);
    if (status.code == GRPC_STATUS_NOT_FOUND)
        return explain_refusal(call, user_id, refused);
    if (!rt_ok(status))
        return status;
    wallet__wallet_response__from_db_wallet_row(response, &wallet);
    return RT_OK;
}

rt_status wallet_service__credit_wallet(rt_call *call, const Wallet__UpdateBalanceRequest *request,
                                        Wallet__WalletResponse *response)
{
    return change_balance(call, request, response, db_credit_wallet,
                          rt_status_of(GRPC_STATUS_OUT_OF_RANGE,
                                       "credit would take the balance past 2147483647"));
}

rt_status wallet_service__debit_wallet(rt_call *call, const Wallet__UpdateBalanceRequest *request,
                                       Wallet__WalletResponse *response)
{
    return change_balance(call, request, response, db_debit_wallet,
                          rt_status_of(GRPC_STATUS_FAILED_PRECONDITION, "insufficient balance"));
}
