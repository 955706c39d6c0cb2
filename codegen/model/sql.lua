-- The SQL-text model: every prepared statement a daemon runs, as text with
-- its parameters. The CRUD statements each table gets (insert, get_by_<key>,
-- delete_by_<pk>), then the named queries of spec/queries/ bound to their
-- table, each named and numbered (DB_STMT_*) once.
local util = require("util")
local schema = require("model.schema")
local queries_parser = require("parse.queries")

local M = {}

local function fail(fmt, ...) error(fmt:format(...), 0) end
local CAST_KINDS, C_TYPES, ARRAY_C_TYPES = schema.CAST_KINDS, schema.C_TYPES, schema.ARRAY_C_TYPES
local supported = schema.supported

local function quote(name) return '"' .. name:gsub('"', '""') .. '"' end

local function column_list(columns)
  local names = {}
  for i, c in ipairs(columns) do names[i] = quote(c.name) end
  return table.concat(names, ", ")
end

local function where_clause(columns, first)
  local parts = {}
  for i, c in ipairs(columns) do parts[i] = ("%s = $%d"):format(quote(c.name), first + i - 1) end
  return table.concat(parts, " AND ")
end

-- The statements of one table, in the order they are declared in C.
local function table_statements(t)
  local all = column_list(t.columns)
  local list = {}
  local function add(suffix, sql, params, idempotent, extra)
    local s = { name = t.snake .. "_" .. suffix, sql = sql, params = params, n_params = #params,
                idempotent = idempotent, table = t }
    for k, v in pairs(extra or {}) do s[k] = v end
    list[#list + 1] = s
    return s
  end
  local placeholders = {}
  for i = 1, #t.insert_columns do placeholders[i] = "$" .. i end
  t.insert = add("insert", ("INSERT INTO %s (%s) VALUES (%s) RETURNING %s"):format(quote(t.name),
    column_list(t.insert_columns), table.concat(placeholders, ", "), all), t.insert_columns, false)
  t.gets = {}
  for _, key in ipairs(t.keys) do
    table.insert(t.gets, add("get_by_" .. key.suffix, ("SELECT %s FROM %s WHERE %s"):format(all, quote(t.name),
      where_clause(key.columns, 1)), key.columns, true, { key = key }))
  end
  if t.primary_key then
    t.delete = add("delete_by_" .. t.keys[1].suffix, ("DELETE FROM %s WHERE %s"):format(quote(t.name),
      where_clause(t.primary_key, 1)), t.primary_key, false, { key = t.keys[1] })
  end
  return list
end

-- The `-- locks:` parameter indexes as the bit mask rt_db_statement holds.
local function lock_bits(indexes)
  local bits = 0
  for _, i in ipairs(indexes or {}) do bits = bits | (1 << (i - 1)) end
  return bits
end

-- What makes a statement retryable (a read) is the database layer's to say:
-- its SQL starts with RT_DB_RETRYABLE_PREFIX of runtime/src/db/db_policy.h,
-- read from there so the two never disagree.
local POLICY_H = debug.getinfo(1, "S").source:match("^@(.*)model/sql%.lua$") .. "../runtime/src/db/db_policy.h"
local function retryable_prefix()
  local prefix = util.read_file(POLICY_H):match('#define RT_DB_RETRYABLE_PREFIX "([^"]*)"')
  if not prefix then fail("%s: no #define RT_DB_RETRYABLE_PREFIX \"...\"", POLICY_H) end
  return prefix
end

local function build_queries(parsed, tables_by_name)
  local retryable = retryable_prefix()
  local list = {}
  for _, q in ipairs(parsed) do
    local where = ("%s:%d: query %s"):format(q.file, q.line, q.name)
    local t = q.table and tables_by_name[q.table]
    if not t then
      fail("%s: cannot tell which known table it works on (found %s; the statement must be UPDATE t, INSERT INTO t, "
        .. "DELETE FROM t or SELECT ... FROM t, optionally after WITH ...)", where, tostring(q.table))
    end
    if (q.kind == "one" or q.kind == "many") and not q.star then
      fail("%s: a :%s query must answer whole %s rows (end with RETURNING * or use SELECT *)", where, q.kind, t.name)
    end
    local names = {}
    for i, c in ipairs(t.columns) do names[i] = c.name end
    local params = {}
    for _, p in ipairs(q.params) do
      local kind = CAST_KINDS[p.sql_type]
      if kind and p.array and not ARRAY_C_TYPES[kind] then
        fail("%s: parameter @%s: arrays of %s are not supported (pass one value, or a text[] of them)", where,
          p.name, p.sql_type)
      end
      if not kind then
        fail("%s: parameter @%s has unsupported type %s (supported: %s, each also as an array with [])", where,
          p.name, p.sql_type, supported(CAST_KINDS))
      end
      params[#params + 1] = { name = p.name, snake = p.name, kind = kind, array = p.array,
                              c_type = (p.array and ARRAY_C_TYPES or C_TYPES)[kind] }
    end
    local sql = queries_parser.expand_star(q, names)
    list[#list + 1] = { name = util.snake(q.name), query_name = q.name, kind = q.kind, doc = q.doc, sql = sql,
      params = params, n_params = #params, table = t, file = q.file,
      idempotent = sql:sub(1, #retryable) == retryable,
      lock_params = lock_bits(q.locks) }
  end
  return list
end

-- Every statement in DB_STMT_* order (each table's, then the queries) and
-- the queries alone; two statements of one name fail.
function M.build(tables, parsed_queries, tables_by_name)
  local statements = {}
  for _, t in ipairs(tables) do
    for _, s in ipairs(table_statements(t)) do table.insert(statements, s) end
  end
  local queries = build_queries(parsed_queries, tables_by_name)
  local seen = {}
  for _, q in ipairs(queries) do table.insert(statements, q) end
  for _, s in ipairs(statements) do
    if seen[s.name] then fail("two statements are both named %s", s.name) end
    seen[s.name] = true
    s.enum = "DB_STMT_" .. s.name:upper()
  end
  return statements, queries
end

return M
