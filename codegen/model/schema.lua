-- The schema model: the tables of migrations/ (as parse/sql_ddl.lua read
-- them) with C-typed columns, their keys and what an insert needs. Every
-- column type and every name a constraint or index refers to is checked here.
local util = require("util")

local M = {}

local function fail(fmt, ...) error(fmt:format(...), 0) end

-- SQL type -> how the generator carries it in C. NUMERIC travels as the
-- decimal text PostgreSQL prints ("12.50"): exact, never a binary float.
local COLUMN_KINDS = {
  TEXT = "text", VARCHAR = "text", ["CHARACTER VARYING"] = "text", UUID = "text",
  INTEGER = "int32", INT = "int32", INT4 = "int32",
  BIGINT = "int64", INT8 = "int64",
  TIMESTAMP = "timestamp",
  BOOLEAN = "bool", BOOL = "bool",
  NUMERIC = "numeric", DECIMAL = "numeric",
}
local CAST_KINDS = {
  text = "text", varchar = "text", uuid = "text",
  integer = "int32", int = "int32", int4 = "int32",
  bigint = "int64", int8 = "int64", timestamp = "timestamp",
  boolean = "bool", bool = "bool", numeric = "numeric", decimal = "numeric",
}
local C_TYPES = { text = "const char *", timestamp = "const char *", int32 = "int32_t", int64 = "int64_t",
                  bool = "bool", numeric = "const char *" }
-- A nullable column's C type: strings are NULL when absent already; integers
-- and booleans become pointers into the arena, NULL when absent.
local NULLABLE_C_TYPES = { text = "const char *", timestamp = "const char *", int32 = "const int32_t *",
                           int64 = "const int64_t *", bool = "const bool *", numeric = "const char *" }
-- An array parameter's element pointer (its count is a size_t next to it).
local ARRAY_C_TYPES = { text = "const char *const *", timestamp = "const char *const *", int32 = "const int32_t *",
                        int64 = "const int64_t *", numeric = "const char *const *" }

M.COLUMN_KINDS, M.CAST_KINDS, M.C_TYPES, M.ARRAY_C_TYPES = COLUMN_KINDS, CAST_KINDS, C_TYPES, ARRAY_C_TYPES

-- "A, B, C": the names of kinds, for an error saying what is supported.
function M.supported(kinds)
  return table.concat(util.sorted_keys(kinds), ", ")
end
local supported = M.supported

-- One column with its C types; where says file:line for errors.
local function column(t, c)
  local kind = COLUMN_KINDS[c.type.name]
  local where = ("%s:%d: column \"%s\".\"%s\""):format(c.file, c.line, t.name, c.name)
  if not kind or c.type.array then
    fail("%s: type %s is not supported by codegen/ (supported: %s)", where, c.type.text, supported(COLUMN_KINDS))
  end
  if kind == "timestamp" and c.type.with_time_zone then
    fail("%s: TIMESTAMP WITH TIME ZONE is not supported (use TIMESTAMP(3), read as UTC)", where)
  end
  return { name = c.name, snake = util.snake(c.name), kind = kind,
           c_type = (c.not_null and C_TYPES or NULLABLE_C_TYPES)[kind], param_c_type = C_TYPES[kind],
           sql_type = c.type.text, not_null = c.not_null, default = c.default }
end

-- One parsed table: its columns and constraints, every name they use checked.
local function build_table(t)
  local table_model = { name = t.name, snake = util.snake(t.name), columns = {}, column_by_name = {},
                        uniques = {}, foreign_keys = {}, checks = {}, file = t.file }
  for _, c in ipairs(t.columns) do
    local col = column(t, c)
    table.insert(table_model.columns, col)
    table_model.column_by_name[c.name] = col
  end
  -- The columns named in list; at is the file:line that named them.
  local function cols(list, at)
    local out = {}
    for _, name in ipairs(list) do
      local col = table_model.column_by_name[name]
      if not col then fail("%s: table \"%s\" has no column \"%s\"", at or (t.file .. ":" .. t.line), t.name, name) end
      out[#out + 1] = col
    end
    return out
  end
  table_model.cols = cols
  for _, k in ipairs(t.constraints) do
    local at = k.file .. ":" .. k.line
    if k.kind == "primary_key" then
      if table_model.primary_key then fail("%s: table \"%s\" has two primary keys", at, t.name) end
      table_model.primary_key = cols(k.columns, at)
    elseif k.kind == "unique" then
      table.insert(table_model.uniques, cols(k.columns, at))
    elseif k.kind == "check" then
      table.insert(table_model.checks, { name = k.name, expr = k.expr })
    else
      table.insert(table_model.foreign_keys, { name = k.name, columns = cols(k.columns, at),
        ref_table = k.ref_table, ref_columns = k.ref_columns, on_delete = k.on_delete, on_update = k.on_update })
    end
  end
  return table_model
end

-- What the generator derives from a table once every table is known: its
-- foreign keys resolved, its keys (get_by_ functions) and insert columns.
local function derive(t, by_name)
  for _, fk in ipairs(t.foreign_keys) do
    local ref = by_name[fk.ref_table]
    if not ref then fail("table \"%s\": foreign key to unknown table \"%s\"", t.name, fk.ref_table) end
    fk.ref_columns = ref.cols(fk.ref_columns or {}) -- validates the names
  end
  -- Keys that get a get_by_ function: the primary key, then each distinct unique set.
  t.keys = {}
  local seen = {}
  local function add_key(columns)
    local names, snakes = {}, {}
    for i, c in ipairs(columns) do names[i] = c.name; snakes[i] = c.snake end
    local id = table.concat(names, "\0")
    if seen[id] then return end
    seen[id] = true
    table.insert(t.keys, { columns = columns, suffix = table.concat(snakes, "_and_") })
  end
  if t.primary_key then add_key(t.primary_key) end
  for _, u in ipairs(t.uniques) do add_key(u) end
  -- Insert takes the columns that need a value; defaulted and nullable ones
  -- are left to the database (a new nullable column changes no call site).
  t.insert_columns = {}
  for _, c in ipairs(t.columns) do
    if c.not_null and not c.default then table.insert(t.insert_columns, c) end
  end
end

-- Tables (in creation order) and tables by name, from the parsed schema.
function M.build(schema)
  local tables, by_name = {}, {}
  for _, t in ipairs(schema.tables) do
    local table_model = build_table(t)
    tables[#tables + 1] = table_model
    by_name[t.name] = table_model
  end
  for _, idx in ipairs(schema.indexes) do
    local at = idx.file .. ":" .. idx.line
    local t = by_name[idx.table]
    if not t then fail("%s: index \"%s\" on unknown table \"%s\"", at, idx.name or "", idx.table) end
    local columns = t.cols(idx.columns, at)
    -- A partial unique index holds for some rows only: no get_by_ key.
    if idx.unique and not idx.predicate then table.insert(t.uniques, columns) end
  end
  for _, t in ipairs(tables) do derive(t, by_name) end
  return tables, by_name
end

return M
