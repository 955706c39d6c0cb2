/* Business logic of user.UserService. Transport, decoding and validation
 * happen before these run (gen/user.service.c); they only decide. */
#include "db_user.h"
#include "log.h"
#include "user.map.h"
#include "user.service.h"
#include "uuid.h"
#include "wallet.client.h"

/* A user always has a wallet: the user row is committed first (wallet-service
 * verifies it through GetUserById on its own connection), then the wallet is
 * requested; if that fails the user is deleted again and the wallet-service
 * status is returned. A wallet created whose answer was lost goes too: the
 * foreign key cascades the delete. */
rt_status user_service__create_user(rt_call *call, const User__CreateUserRequest *request,
                                    User__UserResponse *response)
{
    rt_db *db = rt_call_db(call);
    rt_arena *arena = rt_call_arena(call);
    char id[RT_UUID_STRLEN + 1];
    rt_uuid_v4(id);

    db_user_row user;
    rt_status status = db_user_insert(db, arena, id, request->email, request->name, &user);
    if (status.code == GRPC_STATUS_ALREADY_EXISTS)
        return rt_status_of(GRPC_STATUS_ALREADY_EXISTS, "a user with this email already exists");
    if (!rt_ok(status))
        return status;

    Wallet__CreateWalletRequest wallet_request = WALLET__CREATE_WALLET_REQUEST__INIT;
    wallet_request.user_id = (char *)user.id;
    Wallet__WalletResponse *wallet = NULL;
    status = wallet_service__call_create_wallet(call, &wallet_request, &wallet);
    if (!rt_ok(status)) {
        /* The undo must run even when the caller's deadline is what failed. */
        rt_db_set_deadline(db, gpr_inf_future(GPR_CLOCK_MONOTONIC));
        rt_status undone = db_user_delete_by_id(db, user.id);
        if (!rt_ok(undone))
            rt_log_call_event(call, RT_LOG_ERROR, "compensation failed: user %s has no wallet", user.id);
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
