-- gen/db_queries.{c,h}: one typed function per `-- name:` query of
-- spec/queries/*.sql. What it answers follows the query's kind:
--   :one       the whole row of the query's table, or NOT_FOUND when no row matched
--              (handlers work out why)
--   :many      every row it matched, in an arena array (*rows, *n_rows), maybe none
--   :exec      only whether it ran
--   :execrows  the number of rows affected (*affected)
-- A query with two or more parameters takes them in a struct, one field per
-- @name (sqlc's XParams): callers write `.user_id = ..., .label = ...`, so
-- reordering the SQL can never swap two arguments of the same type.
local c = require("emit.c")
local template = require("template")
local db_params = require("emit.db_params")
local repository = require("emit.repository")
local db_statements = require("emit.db_statements")

local M = {}

local RETURNS_ROWS = { one = true, many = true }

local function takes_arena(qr) return RETURNS_ROWS[qr.kind] or db_params.needs_arena(qr.params) end

local function by_struct(qr) return #qr.params >= 2 end
local function struct_name(qr) return "db_" .. qr.name .. "_params" end

-- The params struct of a query that takes one, with a comment per field.
local PARAMS_STRUCT = [[
$doc$
typedef struct {
$fields$} $name$;
]]

local function params_struct(qr)
  local fields = {}
  for _, p in ipairs(qr.params) do
    for _, decl in ipairs(db_params.c_params(p)) do fields[#fields + 1] = "    " .. decl .. ";\n" end
  end
  return template.render(PARAMS_STRUCT, { name = struct_name(qr), fields = table.concat(fields),
    doc = c.comment(("The parameters of db_%s, one per @name of %s; a field left out is NULL or 0 (SQL NULL "
      .. "for a string)."):format(qr.name, qr.query_name)) })
end

local function head(qr)
  local params = { "rt_db *db" }
  if takes_arena(qr) then params[#params + 1] = "rt_arena *arena" end
  if by_struct(qr) then
    params[#params + 1] = struct_name(qr) .. " in"
  else
    for _, p in ipairs(qr.params) do
      for _, decl in ipairs(db_params.c_params(p)) do params[#params + 1] = decl end
    end
  end
  local row = RETURNS_ROWS[qr.kind] and repository.row_type(qr.table)
  if qr.kind == "one" then params[#params + 1] = row .. " *out"
  elseif qr.kind == "many" then params[#params + 1] = row .. " **rows"; params[#params + 1] = "size_t *n_rows"
  elseif qr.kind == "execrows" then params[#params + 1] = "int64_t *affected" end
  return "db_" .. qr.name, params
end

local function not_found(qr) return "no matching " .. qr.table.name .. " row" end

local ANSWERS = {
  one = function(qr) return ("On OK, *out is the %s row it answered; NOT_FOUND (\"%s\") when none."):format(
    qr.table.name, not_found(qr)) end,
  many = function(qr) return ("On OK, rows[0..*n_rows) are the %s rows it answered, in its order, in the "
    .. "arena (*rows is NULL when there are none)."):format(qr.table.name) end,
  exec = function() return "Answers only whether it ran." end,
  execrows = function() return "On OK, *affected is the number of rows it changed." end,
}

local function doc(qr)
  return ("%s (%s): %s\n\n%s"):format(qr.query_name, qr.file, qr.doc, ANSWERS[qr.kind](qr))
end

-- The body of a query function, by its kind.
local BODIES = {
  one = [[
$setup$
    return rt_db_fetch_one(db, arena, $stmt$, $params$, $decode$, out, $not_found$);
]],
  many = [[
$setup$
    void *all = NULL;
    rt_status status = rt_db_fetch_all(db, arena, $stmt$, $params$, $decode$, sizeof **rows, &all, n_rows);
    *rows = all;
    return status;
]],
  exec = [[
$setup$
    return rt_db_run(db, $stmt$, $params$, NULL);
]],
  execrows = [[
$setup$
    return rt_db_run(db, $stmt$, $params$, affected);
]],
}

local FUNCTION = [[
$sql$
$head$
{
$body$
}
]]

-- The definition of a query function; includes collects what it needs.
local function definition(qr, name, params, includes_h, includes_c)
  local setup, params_expr, incs = db_params.build(qr.params, takes_arena(qr), by_struct(qr) and "in." or "")
  for _, inc in ipairs(incs) do includes_c[#includes_c + 1] = inc end
  includes_c[#includes_c + 1] = "db_rows.h"
  if RETURNS_ROWS[qr.kind] then includes_h[#includes_h + 1] = "db_" .. qr.table.snake .. ".h" end
  if qr.kind == "many" then includes_h[#includes_h + 1] = "<stddef.h>" end
  if qr.kind == "execrows" then includes_h[#includes_h + 1] = "<stdint.h>" end
  local body = template.render(BODIES[qr.kind], { setup = setup, stmt = "&db_statements[" .. qr.enum .. "]",
    params = params_expr, decode = RETURNS_ROWS[qr.kind] and repository.decoder_name(qr.table) or "",
    not_found = c.string(not_found(qr)) })
  return template.render(FUNCTION, { sql = db_statements.sql_comment(qr),
    head = c.prototype("rt_status", name, params), body = body })
end

function M.emit(model)
  if #model.queries == 0 then return {} end
  local sources = db_statements.sources(model)
  local includes_h, includes_c = { "arena.h", "db.h", "status.h" }, { "db_statements.h" }
  local decls, defs = {}, {}
  for _, qr in ipairs(model.queries) do
    local name, params = head(qr)
    for _, p in ipairs(qr.params) do
      if p.array then includes_h[#includes_h + 1] = "<stddef.h>" end
      if p.kind == "int32" or p.kind == "int64" then includes_h[#includes_h + 1] = "<stdint.h>" end
      if p.kind == "bool" then includes_h[#includes_h + 1] = "<stdbool.h>" end
    end
    decls[#decls + 1] = (by_struct(qr) and params_struct(qr) .. "\n" or "") .. c.comment(doc(qr))
      .. c.prototype("rt_status", name, params, ";") .. "\n"
    defs[#defs + 1] = definition(qr, name, params, includes_h, includes_c)
  end
  local body_c = table.concat(defs, "\n")
  return {
    { "db_queries.h", c.header("db_queries.h", sources, includes_h, table.concat(decls, "\n")) },
    { "db_queries.c", c.source(sources, "db_queries.h", includes_c, body_c) },
  }
end

return M
