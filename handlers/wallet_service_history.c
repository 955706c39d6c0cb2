/* wallet.WalletService/ListTransactions: a wallet's ledger, newest first,
 * in pages keyed on the entries' numbers (spec/queries/wallet.sql). */
#include "db_queries.h"
#include "db_wallet.h"
#include "page_token.h"
#include "wallet.map.h"
#include "wallet.service.h"
#include "operations.h"
#include "wallet_service.h"

#define DEFAULT_PAGE_SIZE 20
#define MAX_PAGE_SIZE 100

rt_status wallet_service__list_transactions(rt_call *call, const Wallet__ListTransactionsRequest *request,
                                            Wallet__ListTransactionsResponse *response)
{
    rt_db *db = rt_call_db(call);
    rt_arena *arena = rt_call_arena(call);
    const char *user_id = rt_uuid_lower(arena, request->user_id);
    int32_t size = request->page_size == 0 ? DEFAULT_PAGE_SIZE
                   : request->page_size > MAX_PAGE_SIZE ? MAX_PAGE_SIZE : request->page_size;
    /* A token resumes the listing of the wallet it came from, and only that one. */
    const char *scope = rt_arena_printf(arena, "ListTransactions:%s", user_id);
    int64_t before = INT64_MAX;
    if (request->page_token[0]) {
        rt_page_token_result token = rt_page_token_decode(scope, request->page_token, &before);
        if (token == RT_PAGE_TOKEN_EXPIRED)
            return rt_call_invalid_field(call, "page_token", "has expired: list again from the first page");
        if (token != RT_PAGE_TOKEN_OK)
            return rt_call_invalid_field(call, "page_token", "is not a next_page_token this wallet's listing gave");
    }

    db_wallet_entry_row *rows = NULL;
    size_t n = 0;
    rt_status status = db_list_transactions(
        db, arena, (db_list_transactions_params){.user_id = user_id, .before_seq = before, .limit = size + 1}, &rows,
        &n);
    if (!rt_ok(status))
        return status;
    if (n == 0) { /* an empty page, or no wallet at all */
        db_wallet_row wallet;
        status = db_wallet_get_by_user_id(db, arena, user_id, &wallet);
        if (status.code == GRPC_STATUS_NOT_FOUND)
            return wallet_not_found(arena, user_id);
        if (!rt_ok(status))
            return status;
    }
    size_t shown = n > (size_t)size ? (size_t)size : n; /* the extra row only says a next page exists */
    response->n_transactions = shown;
    response->transactions = rt_arena_alloc(arena, (shown ? shown : 1) * sizeof *response->transactions);
    Wallet__Transaction *items = rt_arena_alloc(arena, (shown ? shown : 1) * sizeof *items);
    for (size_t i = 0; i < shown; i++) {
        wallet__transaction__init(&items[i]);
        wallet__transaction__from_db_wallet_entry_row(&items[i], &rows[i]);
        response->transactions[i] = &items[i];
    }
    if (n > shown)
        response->next_page_token = (char *)rt_page_token_encode(arena, scope, rows[shown - 1].seq);
    return RT_OK;
}
