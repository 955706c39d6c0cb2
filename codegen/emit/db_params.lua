-- The text parameters of a statement call, shared by the repository and query
-- emitters, and the C parameters a function takes for them. Integers are
-- formatted with the arena when the function has one, otherwise into stack
-- buffers (delete, :exec and :execrows functions take no arena unless they
-- have an array parameter).
local c = require("emit.c")

local M = {}

local BUFFER = { int32 = { 12, "PRId32" }, int64 = { 21, "PRId64" } }
-- Which db_array.h function formats an array of each kind.
local ARRAY_FORMAT = { text = "text", timestamp = "text", numeric = "text", int32 = "int32", int64 = "int64" }

-- The C parameter declarations for one SQL parameter or column p
-- ({snake, c_type, array}): an array comes with its element count.
function M.c_params(p)
  local decl = p.c_type .. (p.c_type:sub(-1) == "*" and "" or " ") .. p.snake
  if p.array then return { decl, "size_t n_" .. p.snake } end
  return { decl }
end

-- True when formatting params needs the caller's arena.
function M.needs_arena(params)
  for _, p in ipairs(params) do if p.array then return true end end
  return false
end

-- params: list of {name (C identifier), kind, array}. Returns the C lines that
-- build `params` (empty when there are none), the expression to pass to
-- rt_db_exec, and the includes that code needs. The values are read as
-- `<from>name` (from: "" for function arguments, "in." for a params struct).
function M.build(params, with_arena, from)
  if #params == 0 then return "", "NULL", {} end
  from = from or ""
  local setup, exprs, includes = {}, {}, {}
  for i, p in ipairs(params) do
    local value = from .. p.name
    if p.array then
      exprs[i] = ("rt_db_param_%s_array(arena, %s, %sn_%s)"):format(ARRAY_FORMAT[p.kind], value, from, p.name)
      includes[#includes + 1] = "db_array.h"
    elseif p.kind == "bool" then
      exprs[i] = ("%s ? \"true\" : \"false\""):format(value)
    elseif p.kind == "int32" or p.kind == "int64" then
      if with_arena then
        exprs[i] = ("rt_db_param_%s(arena, %s)"):format(p.kind, value)
      else
        local size, fmt = BUFFER[p.kind][1], BUFFER[p.kind][2]
        setup[#setup + 1] = ("    char %s_text[%d];\n    snprintf(%s_text, sizeof %s_text, \"%%\" %s, %s);\n"):format(
          p.name, size, p.name, p.name, fmt, value)
        exprs[i] = p.name .. "_text"
        includes[#includes + 1] = "<inttypes.h>"
        includes[#includes + 1] = "<stdio.h>"
      end
    else
      exprs[i] = value
    end
  end
  setup[#setup + 1] = c.call("    ", "const char *const params[] = ", exprs, ";", "{", "}") .. "\n"
  return table.concat(setup), "params", includes
end

return M
