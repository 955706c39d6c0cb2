-- The model on the real inputs (names, C types, keys, statements, peers) and
-- its errors when a message does not match its table.
local util = require("util")
local h = require("helpers")
local model_builder = require("model")
local sql_ddl = require("parse.sql_ddl")
local queries = require("parse.queries")

local function build(descriptors, migration_src)
  local schema = sql_ddl.parse(migration_src or util.read_file("migrations/0001_init.sql"), "m.sql")
  local proto_files = {}
  for _, n in ipairs(util.glob("proto", "%.proto$")) do proto_files[n] = "proto/" .. n end
  return model_builder.build({ descriptors = descriptors or h.real_descriptors(), proto_files = proto_files,
    schema = schema, queries = queries.parse(util.read_file("spec/queries/wallet.sql"), "q.sql"),
    sources = { migrations = { "m.sql" }, queries = { "q.sql" } } })
end

return {
  { "tables, C types, keys, statements and peers", function()
    local m = build()
    local wallet = m.tables_by_name.Wallet
    h.eq(wallet.snake, "wallet")
    h.eq(wallet.columns[2].snake, "user_id"); h.eq(wallet.columns[2].c_type, "const char *")
    h.eq(wallet.columns[3].c_type, "int32_t"); h.eq(wallet.columns[4].kind, "timestamp")
    h.eq(#wallet.insert_columns, 2)
    local names = {}
    for i, s in ipairs(m.statements) do names[i] = s.name .. (s.idempotent and "+" or "") end
    h.eq(table.concat(names, " "), "user_insert user_get_by_id+ user_get_by_email+ user_delete_by_id "
      .. "wallet_insert wallet_get_by_id+ wallet_get_by_user_id+ wallet_delete_by_id credit_wallet debit_wallet")
    h.eq(m.statements[2].sql, 'SELECT "id", "email", "name", "createdAt" FROM "User" WHERE "id" = $1')
    local user_service = m.services[1]
    h.eq(user_service.snake, "user_service"); h.eq(user_service.daemon, "user-service")
    h.eq(user_service.peers[1].full_name, "wallet.WalletService")
    h.eq(#user_service.methods[1].depends_on, 1); h.eq(#user_service.methods[2].depends_on, 0)
    h.eq(m.messages[".user.CreateUserRequest"].c_type, "User__CreateUserRequest")
    h.eq(m.messages[".user.GetUserByIdRequest"].c_prefix, "user__get_user_by_id_request")
  end },
  { "a message field without a column, or of another type, is an error", function()
    local renamed = util.read_file("migrations/0001_init.sql"):gsub('"balance" INTEGER', '"amount" INTEGER')
    h.contains(h.raises(build, nil, renamed), "message wallet.WalletResponse: field balance has no column in table \"Wallet\"")
    local retyped = util.read_file("migrations/0001_init.sql"):gsub('"balance" INTEGER', '"balance" TEXT')
    h.contains(h.raises(build, nil, retyped), "field balance is int32 but column \"Wallet\".\"balance\" is TEXT")
  end },
}
