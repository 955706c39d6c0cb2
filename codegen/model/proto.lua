-- The proto model: every message of the descriptor set (imports included)
-- as a fresh record carrying protoc-c's C names and its validation rules in
-- check order, and a message bound by (rules.table) to its table, field by
-- field. The parsed set itself stays as parsed.
local util = require("util")

local M = {}

-- A shallow copy of a parsed record, for the model to extend.
local function copy(record)
  local out = {}
  for k, v in pairs(record) do out[k] = v end
  return out
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

-- Messages by ".pkg.Name" (imports included), with C names and rules, and
-- the imports from outside the project's proto files (google/protobuf/...),
-- which protoc-c compiles too, as the project's .pb-c.h files include theirs.
function M.messages(descriptors, proto_files)
  local messages = {}
  local pkg_of = {}
  for _, file in ipairs(descriptors.files) do
    for _, m in ipairs(file.messages) do pkg_of[m] = { package = file.package, file = file.name } end
  end
  -- Each message and field is a fresh record (a copy of the parsed one) that
  -- the model's results are written into; the parsed set stays as parsed.
  for _, full in ipairs(util.sorted_keys(descriptors.messages)) do
    local parsed = descriptors.messages[full]
    local owner = pkg_of[parsed]
    local m = copy(parsed)
    m.fields = {}
    for i, field in ipairs(parsed.fields or {}) do m.fields[i] = copy(field) end
    if owner then
      m.c_type, m.c_prefix, m.c_init = message_names(owner.package, m.name)
      m.file_name = owner.file
      -- How errors name the message and its fields: file:line, then the name.
      m.proto_path = proto_files[owner.file] or owner.file
      m.where = ("%s:%d: message %s"):format(m.proto_path, m.line or 0, full:sub(2))
      m.base = owner.file:gsub("%.proto$", "")
      m.has_rules = false
      for _, field in ipairs(m.fields) do
        field.rules = field_rules(m, field)
        field.c_type = PROTO_C_TYPES[field.type_label]
        if #field.rules > 0 then m.has_rules = true end
      end
    end
    messages[full] = m
  end
  local system_imports = {}
  for _, file in ipairs(descriptors.files) do
    if not proto_files[file.name] then table.insert(system_imports, file.name) end
  end
  return messages, system_imports
end

M.bind_table = bind_table

return M
