/* What the handler files of wallet.WalletService (wallet_service*.c) share. */
#ifndef HANDLERS_WALLET_SERVICE_H
#define HANDLERS_WALLET_SERVICE_H

#include "db_wallet_entry.h"
#include "service.h"
#include "wallet.pb-c.h"

/* NOT_FOUND for a user without a wallet. */
static inline rt_status wallet_not_found(rt_arena *arena, const char *user_id)
{
    return rt_status_of(GRPC_STATUS_NOT_FOUND, rt_arena_printf(arena, "wallet of user %s not found", user_id));
}

/* The wallet as the entry of kind that operation_id wrote left it, for an
 * outcome answered again; *entry (may be NULL) receives the entry. NOT_FOUND
 * when the entry or its wallet is gone (the user was deleted since). */
rt_status wallet_after_entry(rt_call *call, const char *operation_id, int32_t kind,
                             Wallet__WalletResponse *out, db_wallet_entry_row *entry);

#endif
