/* Operations of wallet.WalletService's writes (wallet_service_operations.h). */
#include "wallet_service_operations.h"

#include <string.h>

void wallet_operation_begin(rt_call *call, const char *key, const ProtobufCMessage *request,
                            wallet_operation *op)
{
    rt_uuid_v4(op->attempt);
    op->key = key && key[0] ? key : NULL;
    op->id = op->key ? op->key : op->attempt;
    op->request = op->key ? rt_call_fingerprint(call, request) : "";
}

rt_status wallet_operation_outcome(rt_call *call, const wallet_operation *op, db_operation_row *row)
{
    rt_status status = db_operation_get_by_id(rt_call_db(call), rt_call_arena(call), op->id, row);
    if (status.code == GRPC_STATUS_NOT_FOUND) /* its key expired between the two statements */
        return rt_status_of(GRPC_STATUS_ABORTED, "the idempotency key expired meanwhile; retry");
    if (!rt_ok(status) || strcmp(row->attempt, op->attempt) == 0)
        return status;
    if (strcmp(row->request, op->request) != 0)
        return rt_call_invalid_field(call, "idempotency_key", "was used before with a different request");
    rt_call_set_replayed(call);
    return RT_OK;
}

rt_status wallet_not_found(rt_arena *arena, const char *user_id)
{
    return rt_status_of(GRPC_STATUS_NOT_FOUND, rt_arena_printf(arena, "wallet of user %s not found", user_id));
}
