-- The sqlc-style query reader: names, docs, parameter numbering and casts,
-- `*` expansion, and errors for malformed files.
local queries = require("parse.queries")
local util = require("util")
local h = require("helpers")

local WALLET_COLUMNS = { "id", "userId", "balance", "createdAt" }

return {
  { "spec/queries/wallet.sql: names, kinds, docs, params", function()
    local list = queries.parse(util.read_file("spec/queries/wallet.sql"), "spec/queries/wallet.sql")
    h.eq(#list, 2)
    local credit = list[1]
    h.eq(credit.name, "CreditWallet"); h.eq(credit.kind, "one"); h.eq(credit.table, "Wallet")
    h.contains(credit.doc, "Adds @amount unless")
    local names = {}
    for i, p in ipairs(credit.params) do names[i] = p.name .. "::" .. p.sql_type end
    h.eq(table.concat(names, ","), "user_id::text,operation_id::text,request::text,attempt::text,amount::integer,"
      .. "idempotency_key::text")
    local debit = queries.expand_star(list[2], WALLET_COLUMNS)
    h.eq(debit:match("^WITH"), "WITH") -- the ledger entry's CTE leads; the UPDATE decides the row
    h.eq(debit:match('RETURNING [^)]*$'), 'RETURNING "id", "userId", "balance", "createdAt"')
  end },
  { "params numbered by first appearance, reused, not inside strings", function()
    local src = "-- name: Find :one\n-- doc line\nSELECT * FROM \"T\"\n WHERE b = @b::bigint AND a = @a::text\n"
      .. "   AND c = '@notparam' AND d = @b;\n"
    local q = queries.parse(src, "q.sql")[1]
    h.eq(q.doc, "doc line")
    h.eq(q.sql, "SELECT * FROM \"T\" WHERE b = $1::bigint AND a = $2::text AND c = '@notparam' AND d = $1")
    h.eq(#q.params, 2); h.eq(q.params[1].sql_type, "bigint")
    h.eq(queries.expand_star(q, { "a", "b" }), "SELECT \"a\", \"b\" FROM \"T\" WHERE b = $1::bigint AND a = $2::text "
      .. "AND c = '@notparam' AND d = $1")
  end },
  { "errors: SQL without a name line, missing cast, bad kind", function()
    h.contains(h.raises(queries.parse, "-- header\n\nSELECT 1;\n", "q.sql"), "q.sql:3: SQL outside a query")
    h.contains(h.raises(queries.parse, "-- name: X :one\nSELECT * FROM t WHERE a = @a;\n", "q.sql"), "@a needs a ::type cast")
    h.contains(h.raises(queries.parse, "-- name: X :few\nSELECT 1;\n", "q.sql"), "q.sql:1: query X: unsupported kind :few")
    h.contains(h.raises(queries.parse, "-- name: X\nSELECT 1;\n", "q.sql"), "malformed name line")
  end },
}
