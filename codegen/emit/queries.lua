-- gen/db_queries.{c,h}: one typed function per `-- name:` query of
-- spec/queries/*.sql. :one answers the whole row of the query's table, or
-- NOT_FOUND when no row matched (handlers work out why); :exec answers the
-- number of rows affected.
local c = require("emit.c")
local db_params = require("emit.db_params")
local repository = require("emit.repository")
local db_statements = require("emit.db_statements")

local M = {}

local function c_param(p) return p.c_type .. (p.c_type:sub(-1) == "*" and "" or " ") .. p.snake end

local function head(qr)
  local params = { "rt_db *db" }
  if qr.kind == "one" then params[#params + 1] = "rt_arena *arena" end
  for _, p in ipairs(qr.params) do params[#params + 1] = c_param(p) end
  if qr.kind == "one" then params[#params + 1] = repository.row_type(qr.table) .. " *out"
  else params[#params + 1] = "int64_t *affected" end
  return "db_" .. qr.name, params
end

local function doc(qr)
  local text = ("%s (%s): %s"):format(qr.query_name, qr.file, qr.doc)
  if qr.kind == "one" then
    text = text .. ("\n\nOn OK, *out is the %s row it answered; NOT_FOUND (\"no matching %s row\") when none."):format(
      qr.table.name, qr.table.name)
  else
    text = text .. "\n\nOn OK, *affected is the number of rows it changed."
  end
  return text
end

local function not_found(qr) return "no matching " .. qr.table.name .. " row" end

function M.emit(model)
  if #model.queries == 0 then return {} end
  local sources = db_statements.sources(model)
  local includes_h, decls, defs = { "arena.h", "db.h", "status.h" }, {}, {}
  local includes_c = { "db_statements.h" }
  local helpers, helper_done = {}, {}
  for _, qr in ipairs(model.queries) do
    local name, params = head(qr)
    decls[#decls + 1] = c.comment(doc(qr)) .. c.prototype("rt_status", name, params, ";") .. "\n"
    local body
    if qr.kind == "one" then
      local t = qr.table
      includes_h[#includes_h + 1] = "db_" .. t.snake .. ".h"
      includes_c[#includes_c + 1] = "<stdbool.h>"
      local helper = "fetch_" .. t.snake .. "_row"
      if not helper_done[helper] then
        helper_done[helper] = true
        helpers[#helpers + 1] = c.comment(("Runs a query that answers at most one \"%s\" row and decodes it."):format(t.name))
          .. c.prototype("static rt_status", helper, { "rt_db *db", "rt_arena *arena", "int statement",
               "const char *const *params", repository.row_type(t) .. " *out", "const char *not_found" })
          .. "\n{\n    PGresult *res = NULL;\n"
          .. "    rt_status status = rt_db_exec(db, &db_statements[statement], params, &res);\n"
          .. "    if (!rt_ok(status))\n        return status;\n"
          .. "    bool found = PQntuples(res) > 0;\n"
          .. "    if (found)\n        " .. repository.decoder_name(t) .. "(arena, res, 0, out);\n"
          .. "    PQclear(res);\n"
          .. "    return found ? RT_OK : rt_status_of(GRPC_STATUS_NOT_FOUND, not_found);\n}\n"
      end
      local setup, params_expr = db_params.build(qr.params, true)
      body = setup .. c.call("    ", "return " .. helper, { "db", "arena", qr.enum, params_expr, "out",
        c.string(not_found(qr)) }, ";") .. "\n"
    else
      includes_h[#includes_h + 1] = "<stdint.h>"
      includes_c[#includes_c + 1] = "<stdlib.h>"
      local setup, params_expr, incs = db_params.build(qr.params, false)
      for _, inc in ipairs(incs) do includes_c[#includes_c + 1] = inc end
      body = setup .. "    PGresult *res = NULL;\n"
        .. ("    rt_status status = rt_db_exec(db, &db_statements[%s], %s, &res);\n"):format(qr.enum, params_expr)
        .. "    if (!rt_ok(status))\n        return status;\n"
        .. "    *affected = strtoll(PQcmdTuples(res), NULL, 10);\n"
        .. "    PQclear(res);\n    return RT_OK;\n"
    end
    defs[#defs + 1] = c.prototype("rt_status", name, params) .. "\n{\n" .. body .. "}\n"
  end
  local body_c = table.concat(helpers, "\n") .. (#helpers > 0 and "\n" or "") .. table.concat(defs, "\n")
  return {
    { "db_queries.h", c.header("db_queries.h", sources, includes_h, table.concat(decls, "\n")) },
    { "db_queries.c", c.source(sources, "db_queries.h", includes_c, body_c) },
  }
end

return M
