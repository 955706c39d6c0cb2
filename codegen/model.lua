-- Resolves the parsed inputs into one model the emitters read: proto files
-- with their messages, rules and services; tables with C-typed columns, keys
-- and statements; queries bound to their tables. Every cross-reference is
-- checked here, so emitters never have to decide anything or fail.
--
-- The data passed from here to the emitters (LuaCATS notes; every emitter is
-- emit(Model) -> { {path, content} }):
--
---@class Model
---@field files ModelFile[]               the project's proto files, by name
---@field services Service[]
---@field messages table<string, Message>  every message by ".pkg.Name", imports included
---@field tables Table[]                   from migrations/, in creation order
---@field tables_by_name table<string, Table>
---@field statements Statement[]           every table's statements, then the queries (DB_STMT_* order)
---@field queries Query[]                  from spec/queries/
---@field system_imports string[]          imports outside proto/ that protoc-c compiles too
---@field descriptor_sets table<string, string>  a service file's serialized set, for reflection
---@field sources { migrations: string[], queries: string[] }
--
---@class ModelFile
---@field name string      "user.proto"
---@field base string      "user"
---@field path string      "proto/user.proto"
---@field package string
---@field messages Message[]
---@field services Service[]
---@field imports string[] paths of the project files it imports
---@field comment string?
--
---@class Message           a copy of the parsed DescriptorProto, extended:
---@field name string
---@field full_name string   ".pkg.Name"
---@field fields Field[]
---@field c_type string      protoc-c's struct name
---@field c_prefix string    protoc-c's function prefix
---@field c_init string      protoc-c's __INIT macro
---@field base string        its file's base name
---@field where string       "file:line: message X", for errors
---@field has_rules boolean  some field has (rules.field)
---@field table Table?       bound by (rules.table)
---@field column_of table<string, Column>?  field name -> its column, when bound
---@field needs_arena boolean?  a wrapper field is allocated when mapped
--
---@class Field             a copy of the parsed FieldDescriptorProto, extended:
---@field name string
---@field type_label string  "string", "int32", "message", ...
---@field type_name string?  ".pkg.Name" of a message or enum
---@field repeated boolean
---@field rules table[]      { kind, value, description } in check order
---@field c_type string?
---@field wrapper table?     google.protobuf.*Value it is, when bound to a column
--
---@class Service
---@field name string
---@field full_name string
---@field snake string
---@field daemon string      "user-service"
---@field file ModelFile
---@field methods Method[]
---@field peers Service[]    the services its methods depend on
---@field endpoint { service_name: string, address_env: string, default_address: string }
---@field largest_request integer   the largest valid request of its bounded methods, in bytes
---@field unbounded_request Method? the first method whose requests no rule bounds
--
---@class Method
---@field name string
---@field snake string
---@field path string        "/pkg.Service/Method"
---@field input Message
---@field output Message
---@field depends_on string[]
---@field status_codes string[]
---@field largest_request integer?  its largest valid request in bytes (request_size.lua)
---@field unbounded_because string? why it has none
--
---@class Table
---@field name string
---@field snake string
---@field columns Column[]
---@field primary_key Column[]?
---@field keys { columns: Column[], suffix: string }[]  primary, then each unique
---@field insert_columns Column[]
---@field insert Statement
---@field gets Statement[]
---@field delete Statement?
---@field checks { expr: string }[]
--
---@class Column
---@field name string
---@field snake string
---@field kind "text"|"int32"|"int64"|"timestamp"|"bool"|"numeric"
---@field c_type string       in a row struct (a pointer when nullable)
---@field param_c_type string as a parameter
---@field sql_type string
---@field not_null boolean
---@field default string?
--
---@class Statement
---@field name string         prepared statement name
---@field enum string         DB_STMT_<NAME>
---@field sql string
---@field params table[]
---@field n_params integer
---@field idempotent boolean  a read, retried once on a fresh connection
---@field lock_params integer|nil  bit i: parameter i+1 is a key it locks (`-- locks:`)
---@field table Table
--
---@class Query : Statement   a named query of spec/queries/
---@field query_name string
---@field kind "one"|"many"|"exec"|"execrows"
---@field doc string
---@field file string
local util = require("util")
local request_size = require("request_size")
local queries_parser = require("parse.queries")

local M = {}

-- A shallow copy of a parsed record, for the model to extend.
local function copy(record)
  local out = {}
  for k, v in pairs(record) do out[k] = v end
  return out
end

local GRPC_CODES = { "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
  "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED" }

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

-- For the database-backed check (describe_queries.lua).
M.COLUMN_KINDS, M.CAST_KINDS = COLUMN_KINDS, CAST_KINDS

local function supported(kinds)
  return table.concat(util.sorted_keys(kinds), ", ")
end

-- Proto scalar types the generator can validate, map or carry.
local PROTO_C_TYPES = { string = "char *", int32 = "int32_t", int64 = "int64_t", uint32 = "uint32_t",
  uint64 = "uint64_t", bool = "protobuf_c_boolean", double = "double", float = "float", bytes = "ProtobufCBinaryData" }

-- Which proto field type may mirror which column kind.
-- A proto enum mirrors an INTEGER column holding its numbers.
local MAPPABLE = { string = { text = true, timestamp = true, numeric = true }, int32 = { int32 = true },
                   int64 = { int64 = true }, bool = { bool = true }, enum = { int32 = true } }
-- Wrapper messages a field may use where the contract needs presence (a
-- nullable column: the field is unset for NULL); protoc-c 1.4.1 rejects
-- proto3 `optional`. Each mirrors the column kinds of its scalar.
local WRAPPERS = {
  [".google.protobuf.StringValue"] = { scalar = "string", c_type = "Google__Protobuf__StringValue",
    c_prefix = "google__protobuf__string_value", header = "google/protobuf/wrappers.pb-c.h" },
  [".google.protobuf.Int32Value"] = { scalar = "int32", c_type = "Google__Protobuf__Int32Value",
    c_prefix = "google__protobuf__int32_value", header = "google/protobuf/wrappers.pb-c.h" },
  [".google.protobuf.Int64Value"] = { scalar = "int64", c_type = "Google__Protobuf__Int64Value",
    c_prefix = "google__protobuf__int64_value", header = "google/protobuf/wrappers.pb-c.h" },
  [".google.protobuf.BoolValue"] = { scalar = "bool", c_type = "Google__Protobuf__BoolValue",
    c_prefix = "google__protobuf__bool_value", header = "google/protobuf/wrappers.pb-c.h" },
}

local STRING_RULES = { "required", "min_len", "max_len", "min_chars", "max_chars", "utf8", "email", "uuid" }
local INT32_RULES = { "gte", "lte" }
local REPEATED_RULES = { "min_items", "max_items", "items" }

local function fail(fmt, ...) error(fmt:format(...), 0) end

-- file:line: pkg.Message.field, for errors about one field.
local function field_where(msg, field)
  return ("%s:%d: %s.%s"):format(msg.proto_path, field.line or 0, msg.full_name:sub(2), field.name)
end

local function plural(n, word) return ("%d %s%s"):format(n, word, n == 1 and "" or "s") end

-- Fails on a rule name codegen/ does not implement (a newer rules.proto).
local function check_known(set, order, where, family)
  local known = {}
  for _, k in ipairs(order) do known[k] = true end
  for _, k in ipairs(util.sorted_keys(set)) do
    if not known[k] and k ~= "_unknown" then
      fail("%s: rule %s.%s is not supported by codegen/ (supported: %s)", where, family, k, table.concat(order, ", "))
    end
  end
end

-- The rules of a string or int32 value (a field, or each item of a repeated
-- one) in the order DESIGN-NOTES fixes, each with the description the caller
-- sees; type_label is the value's proto type.
local function value_rules(spec, type_label, where)
  local rules = {}
  local function add(kind, value, description)
    rules[#rules + 1] = { kind = kind, value = value, description = description }
  end
  for _, family in ipairs({ "string", "int32" }) do
    if spec[family] and type_label ~= family then fail("%s: %s rules on a %s field", where, family, type_label) end
  end
  if spec.string then
    local s = spec.string
    check_known(s, STRING_RULES, where, "string")
    if s.required then add("required", nil, "must not be empty") end
    if s.min_len and s.min_len > 0 then add("min_len", s.min_len, "must be at least " .. plural(s.min_len, "byte")) end
    if s.max_len then add("max_len", s.max_len, "must be at most " .. plural(s.max_len, "byte")) end
    if s.min_chars and s.min_chars > 0 then
      add("min_chars", s.min_chars, "must be at least " .. plural(s.min_chars, "character"))
    end
    if s.max_chars then add("max_chars", s.max_chars, "must be at most " .. plural(s.max_chars, "character")) end
    if s.utf8 then add("utf8", nil, "must be valid UTF-8") end
    if s.email then add("email", nil, "must be a valid email address") end
    if s.uuid then add("uuid", nil, "must be a UUID") end
  end
  if spec.int32 then
    local r = spec.int32
    check_known(r, INT32_RULES, where, "int32")
    -- A bound at the type's own limit cannot fail; emitting it would be dead code.
    if r.gte and r.gte > -2147483648 then add("gte", r.gte, ("must be greater than or equal to %d"):format(r.gte)) end
    if r.lte and r.lte < 2147483647 then add("lte", r.lte, ("must be less than or equal to %d"):format(r.lte)) end
  end
  return rules
end

-- Rules of one field. A repeated field takes only (rules.field).repeated:
-- item counts, then one rule "each item ..." standing for the item rules
-- (its .items holds them), so a field still yields at most one violation.
local function field_rules(msg, field)
  local spec = field.options.ext["rules.field"]
  if not spec then return {} end
  local where = field_where(msg, field)
  check_known(spec, { "string", "int32", "repeated" }, where, "field")
  if not field.repeated then
    if spec.repeated then fail("%s: repeated rules on a field that is not repeated", where) end
    return value_rules(spec, field.type_label, where)
  end
  if spec.string or spec.int32 then
    fail("%s: a repeated field takes (rules.field).repeated = { min_items, max_items, items: { %s: {...} } }",
      where, field.type_label)
  end
  local r = spec.repeated or {}
  check_known(r, REPEATED_RULES, where, "repeated")
  local rules = {}
  if r.min_items and r.min_items > 0 then
    rules[#rules + 1] = { kind = "min_items", value = r.min_items,
                          description = "must have at least " .. plural(r.min_items, "item") }
  end
  if r.max_items then
    rules[#rules + 1] = { kind = "max_items", value = r.max_items,
                          description = "must have at most " .. plural(r.max_items, "item") }
  end
  local items = value_rules(r.items or {}, field.type_label, where .. " items")
  if #items > 0 then
    for _, item in ipairs(items) do item.description = "each item " .. item.description end
    rules[#rules + 1] = { kind = "items", items = items }
  end
  return rules
end

-- protoc-c's C names for a message of package pkg.
local function message_names(pkg, name)
  local camel, lower = {}, {}
  for part in (pkg or ""):gmatch("[^.]+") do
    camel[#camel + 1] = util.camel(part)
    lower[#lower + 1] = part:lower()
  end
  camel[#camel + 1] = name
  lower[#lower + 1] = util.snake(name)
  local c_prefix = table.concat(lower, "__")
  return table.concat(camel, "__"), c_prefix, c_prefix:upper() .. "__INIT"
end

local function codes_in(text)
  local codes = {}
  for _, code in ipairs(GRPC_CODES) do
    if text and text:find("%f[%w_]" .. code .. "%f[^%w_]") then codes[#codes + 1] = code end
  end
  return codes
end

local function build_tables(schema)
  local tables, by_name = {}, {}
  for _, t in ipairs(schema.tables) do
    local table_model = { name = t.name, snake = util.snake(t.name), columns = {}, column_by_name = {},
                          uniques = {}, foreign_keys = {}, checks = {}, file = t.file }
    for _, c in ipairs(t.columns) do
      local kind = COLUMN_KINDS[c.type.name]
      local where = ("%s:%d: column \"%s\".\"%s\""):format(c.file, c.line, t.name, c.name)
      if not kind or c.type.array then
        fail("%s: type %s is not supported by codegen/ (supported: %s)", where, c.type.text, supported(COLUMN_KINDS))
      end
      if kind == "timestamp" and c.type.with_time_zone then
        fail("%s: TIMESTAMP WITH TIME ZONE is not supported (use TIMESTAMP(3), read as UTC)", where)
      end
      local col = { name = c.name, snake = util.snake(c.name), kind = kind,
                    c_type = (c.not_null and C_TYPES or NULLABLE_C_TYPES)[kind], param_c_type = C_TYPES[kind],
                    sql_type = c.type.text, not_null = c.not_null, default = c.default }
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
  for _, t in ipairs(tables) do
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
  return tables, by_name
end

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

local function build_queries(parsed, tables_by_name)
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
      params = params, n_params = #params, table = t, idempotent = sql:match("^SELECT ") ~= nil, file = q.file,
      lock_params = lock_bits(q.locks) }
  end
  return list
end

-- Binds a message with option (rules.table) to its table, field by field.
local function bind_table(msg, tables_by_name)
  local table_name = msg.options.ext["rules.table"]
  if not table_name then return end
  local t = tables_by_name[table_name]
  if not t then fail("%s: (rules.table) names unknown table \"%s\"", msg.where, table_name) end
  msg.table = t
  msg.column_of = {}
  for _, field in ipairs(msg.fields) do
    local col
    for _, c in ipairs(t.columns) do if c.snake == field.name then col = c end end
    if not col then
      fail("%s: no column in table \"%s\" (looked for one whose snake_case name is %s)",
        field_where(msg, field), t.name, field.name)
    end
    local wrapper = field.type_label == "message" and WRAPPERS[field.type_name]
    local scalar = wrapper and wrapper.scalar or field.type_label
    if field.repeated or not (MAPPABLE[scalar] or {})[col.kind] then
      fail("%s: the field is %s%s but column \"%s\".\"%s\" is %s (a column maps to string, int32, int64, bool, "
        .. "an enum or %s)", field_where(msg, field), field.repeated and "repeated " or "",
        field.type_name and field.type_name:sub(2) or field.type_label, t.name, col.name, col.sql_type,
        table.concat(util.sorted_keys(WRAPPERS), ", "):gsub("%.google", "google"))
    end
    msg.column_of[field.name] = col
    if wrapper then
      field.wrapper = wrapper
      msg.needs_arena = true
    end
  end
end

-- inputs: { descriptors = parsed set, proto_files = {"user.proto"=path...},
--           schema = sql_ddl result, queries = parsed queries, sources = {...},
--           descriptor_sets = { [file name] = serialized set of a service file } }
function M.build(inputs)
  local model = { files = {}, services = {}, messages = {}, sources = inputs.sources,
                  descriptor_sets = inputs.descriptor_sets or {} }
  model.tables, model.tables_by_name = build_tables(inputs.schema)

  -- Messages of every file (imports included), with C names and rules.
  local pkg_of = {}
  for _, file in ipairs(inputs.descriptors.files) do
    for _, m in ipairs(file.messages) do pkg_of[m] = { package = file.package, file = file.name } end
  end
  -- Each message and field is a fresh record (a copy of the parsed one) that
  -- the model's results are written into; the parsed set stays as parsed.
  for _, full in ipairs(util.sorted_keys(inputs.descriptors.messages)) do
    local parsed = inputs.descriptors.messages[full]
    local owner = pkg_of[parsed]
    local m = copy(parsed)
    m.fields = {}
    for i, field in ipairs(parsed.fields or {}) do m.fields[i] = copy(field) end
    if owner then
      m.c_type, m.c_prefix, m.c_init = message_names(owner.package, m.name)
      m.file_name = owner.file
      -- How errors name the message and its fields: file:line, then the name.
      m.proto_path = inputs.proto_files[owner.file] or owner.file
      m.where = ("%s:%d: message %s"):format(m.proto_path, m.line or 0, full:sub(2))
      m.base = owner.file:gsub("%.proto$", "")
      m.has_rules = false
      for _, field in ipairs(m.fields) do
        field.rules = field_rules(m, field)
        field.c_type = PROTO_C_TYPES[field.type_label]
        if #field.rules > 0 then m.has_rules = true end
      end
    end
    model.messages[full] = m
  end

  -- Imports from outside the project's proto files (google/protobuf/...):
  -- protoc-c compiles them too, as the project's .pb-c.h files include theirs.
  model.system_imports = {}
  for _, file in ipairs(inputs.descriptors.files) do
    if not inputs.proto_files[file.name] then table.insert(model.system_imports, file.name) end
  end

  local services_by_name = {}
  for _, file in ipairs(inputs.descriptors.files) do
    local path = inputs.proto_files[file.name]
    if path then
      local fm = { name = file.name, base = file.name:gsub("%.proto$", ""), path = path, package = file.package,
                   messages = {}, services = {}, comment = file.comment, imports = {} }
      for _, dep in ipairs(file.dependency) do
        if inputs.proto_files[dep] then table.insert(fm.imports, inputs.proto_files[dep]) end
      end
      for _, parsed in ipairs(file.messages) do
        local m = model.messages[parsed.full_name]
        bind_table(m, model.tables_by_name)
        table.insert(fm.messages, m)
      end
      for _, s in ipairs(file.services) do
        local deployment = s.options.ext["rules.deployment"]
        if not (deployment and deployment.address_env and deployment.default_address) then
          fail("%s:%d: service %s needs option (rules.deployment) with address_env and default_address", path,
            s.line or 0, s.full_name)
        end
        local snake = util.snake(s.name)
        local svc = { name = s.name, full_name = s.full_name, snake = snake, daemon = snake:gsub("_", "-"),
                      comment = s.comment, file = fm, methods = {},
                      endpoint = { service_name = s.full_name, address_env = deployment.address_env,
                                   default_address = deployment.default_address } }
        for _, m in ipairs(s.methods) do
          if m.client_streaming or m.server_streaming then
            fail("%s:%d: %s.%s: streaming methods are not supported (unary only)", path, m.line or 0, s.full_name, m.name)
          end
          local input, output = model.messages[m.input_type], model.messages[m.output_type]
          local codes = codes_in(m.comment)
          table.insert(svc.methods, { name = m.name, snake = util.snake(m.name), path = "/" .. s.full_name .. "/" .. m.name,
            input = input, output = output, comment = m.comment, depends_on = m.options.ext["rules.depends_on"] or {},
            status_codes = codes, where = ("%s:%d: %s.%s"):format(path, m.line or 0, s.full_name, m.name) })
        end
        table.insert(fm.services, svc)
        table.insert(model.services, svc)
        services_by_name[s.full_name] = svc
      end
      table.insert(model.files, fm)
    end
  end
  table.sort(model.files, function(a, b) return a.name < b.name end)

  -- The largest valid request of each method and service (request_size.lua);
  -- one no receive limit can take stops the generator.
  for _, svc in ipairs(model.services) do
    svc.largest_request = 0
    for _, m in ipairs(svc.methods) do
      m.largest_request, m.unbounded_because = request_size.largest(m.input, model.messages)
      if m.largest_request and m.largest_request > request_size.LIMIT then
        fail("%s: its largest valid request is %d bytes, more than any daemon may receive (%d, the most "
          .. "MAX_MESSAGE_BYTES takes): lower the max_items or max_len rules of %s", m.where, m.largest_request,
          request_size.LIMIT, m.input.full_name:sub(2))
      end
      if not m.largest_request then svc.unbounded_request = svc.unbounded_request or m end
      if (m.largest_request or 0) > svc.largest_request then svc.largest_request = m.largest_request end
    end
  end

  -- Peers: the union of every method's depends_on, in first-mention order.
  for _, svc in ipairs(model.services) do
    svc.peers = {}
    local seen = {}
    for _, m in ipairs(svc.methods) do
      for _, name in ipairs(m.depends_on) do
        local peer = services_by_name[name]
        if not peer then fail("%s: (rules.depends_on) names unknown service %s", m.where, name) end
        if not seen[name] then seen[name] = true; table.insert(svc.peers, peer) end
      end
    end
  end

  model.statements = {}
  for _, t in ipairs(model.tables) do
    for _, s in ipairs(table_statements(t)) do table.insert(model.statements, s) end
  end
  model.queries = build_queries(inputs.queries, model.tables_by_name)
  local seen = {}
  for _, q in ipairs(model.queries) do table.insert(model.statements, q) end
  for _, s in ipairs(model.statements) do
    if seen[s.name] then fail("two statements are both named %s", s.name) end
    seen[s.name] = true
    s.enum = "DB_STMT_" .. s.name:upper()
  end
  return model
end

return M
