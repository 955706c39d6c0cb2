-- gen/<p>.map.{c,h}: messages with option (rules.table) filled from their
-- table's row struct, field by field (model.lua checked names and types).
local c = require("emit.c")

local M = {}

function M.function_name(msg)
  return ("%s__from_db_%s_row"):format(msg.c_prefix, msg.table.snake)
end

function M.emit(file, model)
  local messages = {}
  for _, m in ipairs(file.messages) do if m.table then messages[#messages + 1] = m end end
  if #messages == 0 then return {} end
  local sources = { file.path }
  for _, p in ipairs(file.imports) do sources[#sources + 1] = p end
  for _, p in ipairs(model.sources.migrations) do sources[#sources + 1] = p end

  local includes, decls, defs = { file.base .. ".pb-c.h" }, {}, {}
  for _, m in ipairs(messages) do
    includes[#includes + 1] = "db_" .. m.table.snake .. ".h"
    local proto = c.prototype("void", M.function_name(m),
      { m.c_type .. " *m", "const db_" .. m.table.snake .. "_row *row" })
    decls[#decls + 1] = c.comment(("Fills %s from a \"%s\" row. Strings are shared, not copied: both live in the "
      .. "call arena."):format(m.full_name:sub(2), m.table.name)) .. proto .. ";\n"
    local body = {}
    for _, field in ipairs(m.fields) do
      local col = m.column_of[field.name]
      local value = "row->" .. col.snake
      if field.type_label == "string" then
        -- protobuf-c's string fields are char *; nothing writes through them.
        value = col.not_null and "(char *)" .. value or ("%s ? (char *)%s : (char *)\"\""):format(value, value)
      elseif not col.not_null then
        -- A NULL integer reads as proto3's default, 0.
        value = ("%s ? *%s : 0"):format(value, value)
      end
      body[#body + 1] = ("    m->%s = %s;\n"):format(field.name, value)
    end
    defs[#defs + 1] = proto .. "\n{\n" .. table.concat(body) .. "}\n"
  end
  local base = file.base .. ".map"
  return {
    { base .. ".h", c.header(base .. ".h", sources, includes, table.concat(decls, "\n")) },
    { base .. ".c", c.source(sources, base .. ".h", {}, table.concat(defs, "\n")) },
  }
end

return M
