/* What the handler files of wallet.WalletService (wallet_service*.c) share. */
#ifndef HANDLERS_WALLET_SERVICE_H
#define HANDLERS_WALLET_SERVICE_H

#include "service.h"

/* NOT_FOUND for a user without a wallet. */
static inline rt_status wallet_not_found(rt_arena *arena, const char *user_id)
{
    return rt_status_of(GRPC_STATUS_NOT_FOUND, rt_arena_printf(arena, "wallet of user %s not found", user_id));
}

#endif
