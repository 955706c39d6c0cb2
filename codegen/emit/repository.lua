-- gen/db_<table>.{c,h}: the row struct of one table and its CRUD functions
-- (insert, get_by_<key> per primary/unique key, delete_by_<pk>) over the
-- prepared statements of gen/db_statements.c.
local c = require("emit.c")
local template = require("template")
local db_params = require("emit.db_params")
local db_statements = require("emit.db_statements")

local M = {}

local READERS = { text = "rt_db_get_text(arena, res, row, %d)", timestamp = "rt_db_get_timestamp(arena, res, row, %d)",
                  int32 = "rt_db_get_int32(res, row, %d)", int64 = "rt_db_get_int64(res, row, %d)",
                  bool = "rt_db_get_bool(res, row, %d)", numeric = "rt_db_get_text(arena, res, row, %d)" }
-- Nullable integers and booleans read as arena pointers (db_nullable.h);
-- strings are NULL for NULL already.
local NULLABLE_READERS = { int32 = "rt_db_get_int32_or_null(arena, res, row, %d)",
                           int64 = "rt_db_get_int64_or_null(arena, res, row, %d)",
                           bool = "rt_db_get_bool_or_null(arena, res, row, %d)" }

local function reader(col)
  return not col.not_null and NULLABLE_READERS[col.kind] or READERS[col.kind]
end

local function q(name) return '"' .. name .. '"' end

-- A key or insert argument: never NULL, so a nullable integer column is passed by value.
local function c_param(col) return col.param_c_type .. (col.param_c_type:sub(-1) == "*" and "" or " ") .. col.snake end

local function param_list(columns)
  local list = {}
  for i, col in ipairs(columns) do list[i] = { name = col.snake, kind = col.kind } end
  return list
end

local function key_text(columns)
  local parts = {}
  for i, col in ipairs(columns) do parts[i] = q(col.name) end
  return table.concat(parts, ", ")
end

function M.row_type(t) return "db_" .. t.snake .. "_row" end
function M.decoder_name(t) return "db_" .. t.snake .. "_decode_row" end
function M.not_found(t) return t.name .. " not found" end

-- Function heads, shared by the header (with ';') and the source.
local function heads(t)
  local row = M.row_type(t)
  local list = {}
  local function add(stmt, name, params, doc)
    list[#list + 1] = { stmt = stmt, name = name, params = params, doc = doc }
  end
  local insert_params = { "rt_db *db", "rt_arena *arena" }
  for _, col in ipairs(t.insert_columns) do insert_params[#insert_params + 1] = c_param(col) end
  insert_params[#insert_params + 1] = row .. " *out"
  local defaulted, nulls = {}, {}
  for _, col in ipairs(t.columns) do
    if col.default then defaulted[#defaulted + 1] = q(col.name)
    elseif not col.not_null then nulls[#nulls + 1] = q(col.name) end
  end
  local left = {}
  if #defaulted > 0 then
    left[#left + 1] = c.join_and(defaulted) .. " from " .. (#defaulted > 1 and "their defaults" or "its default")
  end
  if #nulls > 0 then left[#left + 1] = c.join_and(nulls) .. " NULL" end
  add(t.insert, "db_" .. t.insert.name, insert_params, ("Inserts a \"%s\" row%s and returns it as stored in *out. "
    .. "A unique or foreign key violation answers the runtime's mapped status (ALREADY_EXISTS, "
    .. "FAILED_PRECONDITION)."):format(t.name, #left > 0 and (" (" .. table.concat(left, "; ") .. ")") or ""))
  for _, get in ipairs(t.gets) do
    local params = { "rt_db *db", "rt_arena *arena" }
    for _, col in ipairs(get.key.columns) do params[#params + 1] = c_param(col) end
    params[#params + 1] = row .. " *out"
    add(get, "db_" .. get.name, params, ("The \"%s\" row with the given %s, or NOT_FOUND (\"%s\")."):format(
      t.name, key_text(get.key.columns), M.not_found(t)))
  end
  if t.delete then
    local params = { "rt_db *db" }
    for _, col in ipairs(t.primary_key) do params[#params + 1] = c_param(col) end
    add(t.delete, "db_" .. t.delete.name, params, ("Deletes the \"%s\" row with the given %s, or answers "
      .. "NOT_FOUND (\"%s\") when there is none."):format(t.name, key_text(t.primary_key), M.not_found(t)))
  end
  return list
end

-- A table's row struct ($fields$: one line per column) and its decoder.
local ROW_HEADER = [[
$row_doc$
typedef struct {
$fields$} $row$;

$decode_doc$
void $decode$(rt_arena *arena, const PGresult *res, int row, void *out);
]]

local function header(t, sources)
  local fields = {}
  local width = 0
  for _, col in ipairs(t.columns) do
    local decl = col.c_type .. (col.c_type:sub(-1) == "*" and "" or " ") .. col.snake .. ";"
    fields[#fields + 1] = { decl = decl, col = col }
    width = math.max(width, #decl)
  end
  local lines = {}
  for _, f in ipairs(fields) do
    local note = q(f.col.name) .. " " .. f.col.sql_type .. (f.col.not_null and " NOT NULL" or ", NULL pointer for NULL")
    if f.col.kind == "timestamp" then note = note .. ", as YYYY-MM-DDTHH:MM:SS.mmmZ" end
    lines[#lines + 1] = ("    %s%s /* %s */\n"):format(f.decl, string.rep(" ", width - #f.decl), note)
  end
  local checks = {}
  for i, k in ipairs(t.checks) do checks[i] = "CHECK " .. k.expr end
  local body = { template.render(ROW_HEADER, { row = M.row_type(t), decode = M.decoder_name(t), fields = table.concat(lines),
    row_doc = c.comment(("One row of table \"%s\", columns in table order. Strings live in the arena of the call "
      .. "that read the row.%s"):format(t.name, #checks > 0 and (" The database keeps " .. c.join_and(checks) .. ".")
      or "")),
    decode_doc = c.comment(("Decodes row `row` of a result whose columns are those of \"%s\" in table order (every "
      .. "statement of this table and the :one and :many queries on it answer that shape) into the %s at out: an "
      .. "rt_db_decode_fn (db_rows.h)."):format(t.name, M.row_type(t))) }) }
  for _, h in ipairs(heads(t)) do
    body[#body + 1] = "\n" .. c.comment(h.doc) .. c.prototype("rt_status", h.name, h.params, ";") .. "\n"
  end
  local includes = { "arena.h", "db.h", "status.h" }
  for _, col in ipairs(t.columns) do
    if col.kind == "int32" or col.kind == "int64" then table.insert(includes, "<stdint.h>") end
    if col.kind == "bool" then table.insert(includes, "<stdbool.h>") end
  end
  return c.header("db_" .. t.snake .. ".h", sources, includes, table.concat(body))
end

-- The body of get_by_<key> and insert: the one row the statement answers.
local FETCH_ONE = [[
$setup$
    return rt_db_fetch_one(db, arena, &db_statements[$enum$], $params$, $decode$, out, $not_found$);
]]

-- The body of get_by_<key>: the row found must carry the key asked for (else
-- $differs$), or it answers another statement; the call then fails INTERNAL
-- rather than hand out another caller's row (rt_db_wrong_row, db_rows.h).
local FETCH_BY_KEY = [[
$setup$
    rt_status status = rt_db_fetch_one(db, arena, &db_statements[$enum$], $params$, $decode$, out, $not_found$);
    if (rt_ok(status) && ($differs$))
        return rt_db_wrong_row(&db_statements[$enum$]);
    return status;
]]

-- The C test that the decoded key column col (in *out) differs from its
-- parameter, which PostgreSQL's `=` found equal; nil when equal values need
-- not have byte-equal text forms (uuid, numeric, timestamps, booleans: no check).
local function key_differs(col)
  local sql = (col.sql_type or ""):lower()
  if col.kind == "text" and (sql:match("^text") or sql:match("^varchar") or sql:match("^character varying")) then
    local differs = ("strcmp(out->%s, %s) != 0"):format(col.snake, col.snake)
    return (col.not_null and "" or ("!out->%s || "):format(col.snake)) .. differs, "<string.h>"
  elseif col.kind == "int32" or col.kind == "int64" then
    if col.not_null then return ("out->%s != %s"):format(col.snake, col.snake) end
    return ("!out->%s || *out->%s != %s"):format(col.snake, col.snake, col.snake)
  end
end

-- FETCH_BY_KEY's tests joined by ||: on its `if` line when that fits in
-- c.WIDTH, else one per line, aligned.
local IF_DIFFERS = "    if (rt_ok(status) && ("
local function any_of(tests)
  local one = table.concat(tests, " || ")
  if #IF_DIFFERS + #one + 2 <= c.WIDTH then return one end
  return table.concat(tests, " ||\n" .. string.rep(" ", #IF_DIFFERS))
end

-- The body of delete_by_<pk>: NOT_FOUND when no row had that key.
local DELETE = [[
$setup$
    int64_t deleted = 0;
    rt_status status = rt_db_run(db, &db_statements[$enum$], $params$, &deleted);
    if (!rt_ok(status))
        return status;
    return deleted > 0 ? RT_OK : rt_status_of(GRPC_STATUS_NOT_FOUND, $not_found$);
]]

local FUNCTION = [[

$sql$
$head$
{
$body$
}
]]

local function source(t, sources)
  local row = M.row_type(t)
  local decode = {}
  local includes = { "db_statements.h", "db_rows.h" }
  for i, col in ipairs(t.columns) do
    decode[#decode + 1] = ("    r->%s = %s;\n"):format(col.snake, reader(col):format(i - 1))
    if reader(col) == NULLABLE_READERS[col.kind] then includes[#includes + 1] = "db_nullable.h" end
  end
  local out = {
    c.prototype("void", M.decoder_name(t), { "rt_arena *arena", "const PGresult *res", "int row", "void *out" }),
    "\n{\n    ", row, " *r = out;\n", table.concat(decode), "}\n",
  }
  for _, h in ipairs(heads(t)) do
    local body
    if h.stmt == t.delete then
      local setup, params, incs = db_params.build(param_list(t.primary_key), false)
      for _, inc in ipairs(incs) do includes[#includes + 1] = inc end
      body = template.render(DELETE, { setup = setup, enum = h.stmt.enum, params = params,
        not_found = c.string(M.not_found(t)) })
    else
      local setup, params = db_params.build(param_list(h.stmt.params), true)
      local differs = {}
      for _, col in ipairs(h.stmt.key and h.stmt.key.columns or {}) do
        local test, include = key_differs(col)
        if test then differs[#differs + 1] = test end
        if include then includes[#includes + 1] = include end
      end
      body = template.render(#differs > 0 and FETCH_BY_KEY or FETCH_ONE, { setup = setup, enum = h.stmt.enum,
        params = params, decode = M.decoder_name(t), not_found = c.string(M.not_found(t)),
        differs = any_of(differs) })
    end
    out[#out + 1] = template.render(FUNCTION, { sql = db_statements.sql_comment(h.stmt),
      head = c.prototype("rt_status", h.name, h.params), body = body })
  end
  return c.source(sources, "db_" .. t.snake .. ".h", includes, table.concat(out))
end

-- gen/db_<table>.{c,h} for every table of the model.
function M.emit(model)
  local sources = {}
  for _, p in ipairs(model.sources.migrations) do sources[#sources + 1] = p end
  local out = {}
  for _, t in ipairs(model.tables) do
    out[#out + 1] = { "db_" .. t.snake .. ".h", header(t, sources) }
    out[#out + 1] = { "db_" .. t.snake .. ".c", source(t, sources) }
  end
  return out
end

return M
