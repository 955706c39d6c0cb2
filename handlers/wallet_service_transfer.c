/* wallet.WalletService/TransferFunds: the decisions around the one statement
 * (spec/queries/wallet.sql TransferFunds) that moves the money. */
#include <string.h>

#include "db_queries.h"
#include "events.h"
#include "db_wallet_entry.h"
#include "db_wallet.h"
#include "idempotency.h"
#include "wallet.map.h"
#include "wallet.service.h"
#include "operations.h"
#include "wallet_service.h"

RT_COUNTER(transfers, "wallet_transfers_total", "", "Transfers applied (replays not counted).")
RT_COUNTER(transferred, "wallet_transferred_amount_total", "",
           "Sum of the amounts of the transfers applied, in the smallest currency unit.")

/* The statement moved nothing: the operation row holds a refusal decided on
 * the locked rows (detail names a missing side), or an earlier request's
 * transfer, rebuilt from its two entries. */
static rt_status settle(rt_call *call, const operation *op, const char *from, const char *to,
                        Wallet__TransferResponse *response)
{
    rt_arena *arena = rt_call_arena(call);
    db_operation_row row;
    rt_status status = operation_outcome(call, op, &row);
    if (!rt_ok(status))
        return status;
    switch (row.code) {
    case GRPC_STATUS_OK: break;
    case GRPC_STATUS_NOT_FOUND:
        return wallet_not_found(arena, row.detail && strcmp(row.detail, "to_user_id") == 0 ? to : from);
    case GRPC_STATUS_FAILED_PRECONDITION: return rt_status_of(row.code, "insufficient balance");
    case GRPC_STATUS_OUT_OF_RANGE:
        return rt_status_of(row.code, "transfer would take the receiver's balance past 2147483647");
    default: return rt_status_of(GRPC_STATUS_INTERNAL, NULL);
    }
    Wallet__WalletResponse *sides = rt_arena_alloc(arena, 2 * sizeof *sides);
    db_wallet_entry_row entry;
    for (int i = 0; i < 2; i++) {
        wallet__wallet_response__init(&sides[i]);
        status = wallet_after_entry(call, row.id,
                                    i == 0 ? WALLET__TRANSACTION_KIND__TRANSACTION_KIND_TRANSFER_OUT
                                           : WALLET__TRANSACTION_KIND__TRANSACTION_KIND_TRANSFER_IN,
                                    &sides[i], &entry);
        if (status.code == GRPC_STATUS_NOT_FOUND) /* a side's user and history were deleted since */
            return wallet_not_found(arena, i == 0 ? from : to);
        if (!rt_ok(status))
            return status;
    }
    response->transfer_id = (char *)entry.transfer_id;
    response->from = &sides[0];
    response->to = &sides[1];
    return RT_OK;
}

rt_status wallet_service__transfer_funds(rt_call *call, const Wallet__TransferRequest *request,
                                         Wallet__TransferResponse *response)
{
    rt_arena *arena = rt_call_arena(call);
    const char *from = rt_uuid_lower(arena, request->from_user_id);
    const char *to = rt_uuid_lower(arena, request->to_user_id);
    if (strcmp(from, to) == 0)
        return rt_call_invalid_field(call, "to_user_id", "must not be the sender's own wallet");
    operation op;
    operation_begin(call, request->idempotency_key, &request->base, &op);
    char transfer_id[RT_UUID_STRLEN + 1];
    rt_uuid_v4(transfer_id);
    db_wallet_row *rows = NULL;
    size_t n_rows = 0;
    rt_status status = db_transfer_funds(rt_call_db(call), arena,
                                         (db_transfer_funds_params){
                                             .from_user_id = from,
                                             .to_user_id = to,
                                             .operation_id = op.id,
                                             .request = op.request,
                                             .attempt = op.attempt,
                                             .apply_seconds = RT_WRITE_APPLY_SECONDS,
                                             .amount = request->amount,
                                             .transfer_id = transfer_id,
                                             .idempotency_key = op.key,
                                         },
                                         &rows, &n_rows);
    if (rt_db_outcome_unknown(status)) { /* maybe committed: find out */
        status = operation_fence(call, &op, status);
        return rt_ok(status) ? settle(call, &op, from, to, response) : status;
    }
    if (!rt_ok(status))
        return status;
    if (n_rows != 2)
        return settle(call, &op, from, to, response);
    Wallet__WalletResponse *sides = rt_arena_alloc(arena, 2 * sizeof *sides);
    for (size_t i = 0; i < 2; i++) {
        wallet__wallet_response__init(&sides[i]);
        wallet__wallet_response__from_db_wallet_row(&sides[i], &rows[i]);
    }
    bool first_is_sender = strcmp(rows[0].user_id, from) == 0;
    response->transfer_id = rt_arena_strndup(arena, transfer_id, RT_UUID_STRLEN);
    response->from = &sides[first_is_sender ? 0 : 1];
    response->to = &sides[first_is_sender ? 1 : 0];
    rt_counter_add(&transfers, 1);
    rt_counter_add(&transferred, (uint64_t)request->amount);
    return RT_OK;
}
