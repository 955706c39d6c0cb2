-- The text parameters of a statement call, shared by the repository and query
-- emitters. Integers are formatted with the arena when the function has one,
-- otherwise into stack buffers (delete and :exec functions take no arena).
local c = require("emit.c")

local M = {}

local BUFFER = { int32 = { 12, "PRId32" }, int64 = { 21, "PRId64" } }

-- params: list of {name (C identifier), kind}. Returns the C lines that build
-- `params` (empty when there are none), the expression to pass to
-- rt_db_exec, and the includes that code needs.
function M.build(params, with_arena)
  if #params == 0 then return "", "NULL", {} end
  local setup, exprs, includes = {}, {}, {}
  for i, p in ipairs(params) do
    if p.kind == "int32" or p.kind == "int64" then
      if with_arena then
        exprs[i] = ("rt_db_param_%s(arena, %s)"):format(p.kind, p.name)
      else
        local size, fmt = BUFFER[p.kind][1], BUFFER[p.kind][2]
        setup[#setup + 1] = ("    char %s_text[%d];\n    snprintf(%s_text, sizeof %s_text, \"%%\" %s, %s);\n"):format(
          p.name, size, p.name, p.name, fmt, p.name)
        exprs[i] = p.name .. "_text"
        includes = { "<inttypes.h>", "<stdio.h>" }
      end
    else
      exprs[i] = p.name
    end
  end
  setup[#setup + 1] = c.call("    ", "const char *const params[] = ", exprs, ";", "{", "}") .. "\n"
  return table.concat(setup), "params", includes
end

return M
