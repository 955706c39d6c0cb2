-- gen/<p>.map.{c,h}: messages with option (rules.table) filled from their
-- table's row struct, field by field (model.lua checked names and types).
-- A wrapper field (google.protobuf.StringValue ...) is set only when its
-- column is not NULL; those messages' functions take the arena the wrapper
-- lives in.
local util = require("util")
local c = require("emit.c")
local template = require("template")

local M = {}

function M.function_name(msg)
  return ("%s__from_db_%s_row"):format(msg.c_prefix, msg.table.snake)
end

local function params(m)
  local list = { m.c_type .. " *m", "const db_" .. m.table.snake .. "_row *row" }
  if m.needs_arena then list[#list + 1] = "rt_arena *arena" end
  return list
end

local function helper_name(w) return "wrap_" .. w.c_prefix:gsub("^google__protobuf__", "") end

-- The static helper that makes a wrapper holding value, in the arena.
local WRAPPER_HELPER = [[
/* A $wrapper$ holding value, in the arena. */
static $wrapper$ *$helper$(rt_arena *arena, $value_decl$)
{
    $wrapper$ *wrapper = rt_arena_alloc(arena, sizeof *wrapper);
    $wrapper_prefix$__init(wrapper);
    wrapper->value = $cast$value;
    return wrapper;
}
]]

local function wrapper_helper(w, value_type)
  return template.render(WRAPPER_HELPER, { wrapper = w.c_type, helper = helper_name(w), wrapper_prefix = w.c_prefix,
    value_decl = value_type .. (value_type:sub(-1) == "*" and "" or " ") .. "value",
    cast = w.scalar == "string" and "(char *)" or "" })
end

-- The C line that sets field from its column; helpers collects wrapper helpers.
local function assignment(field, col, helpers)
  local value = "row->" .. col.snake
  local w = field.wrapper
  if w then
    local value_type = w.scalar == "string" and "const char *" or col.param_c_type
    if not helpers[w.c_prefix] then
      helpers[w.c_prefix] = true
      helpers[#helpers + 1] = wrapper_helper(w, value_type)
    end
    local make = ("%s(arena, %s)"):format(helper_name(w), (col.not_null or w.scalar == "string") and value or "*" .. value)
    if col.not_null then return ("    m->%s = %s;\n"):format(field.name, make) end
    return ("    if (%s)\n        m->%s = %s;\n"):format(value, field.name, make)
  end
  if field.type_label == "string" then
    -- protobuf-c's string fields are char *; nothing writes through them.
    value = col.not_null and "(char *)" .. value or ("%s ? (char *)%s : (char *)\"\""):format(value, value)
  elseif not col.not_null then
    -- A NULL integer reads as proto3's default, 0.
    value = ("%s ? *%s : 0"):format(value, value)
  end
  return ("    m->%s = %s;\n"):format(field.name, value)
end

local function emit_file(file, model)
  local messages = {}
  for _, m in ipairs(file.messages) do if m.table then messages[#messages + 1] = m end end
  if #messages == 0 then return {} end
  local sources = { file.path }
  for _, p in ipairs(file.imports) do sources[#sources + 1] = p end
  for _, p in ipairs(model.sources.migrations) do sources[#sources + 1] = p end

  local includes, decls, defs, helpers = { file.base .. ".pb-c.h" }, {}, {}, {}
  for _, m in ipairs(messages) do
    includes[#includes + 1] = "db_" .. m.table.snake .. ".h"
    if m.needs_arena then includes[#includes + 1] = "arena.h" end
    local proto = c.prototype("void", M.function_name(m), params(m))
    decls[#decls + 1] = c.comment(("Fills %s from a \"%s\" row. Strings are shared, not copied: both live in the "
      .. "call arena%s."):format(m.full_name:sub(2), m.table.name,
      m.needs_arena and ", as do the wrappers of columns that are not NULL" or "")) .. proto .. ";\n"
    local body = {}
    for _, field in ipairs(m.fields) do body[#body + 1] = assignment(field, m.column_of[field.name], helpers) end
    defs[#defs + 1] = proto .. "\n{\n" .. table.concat(body) .. "}\n"
  end
  local base = file.base .. ".map"
  local body_c = table.concat(helpers, "\n") .. (#helpers > 0 and "\n" or "") .. table.concat(defs, "\n")
  return {
    { base .. ".h", c.header(base .. ".h", sources, includes, table.concat(decls, "\n")) },
    { base .. ".c", c.source(sources, base .. ".h", {}, body_c) },
  }
end

M.emit = util.each_file(emit_file)

return M
